"""The master-key check: every node must hold the key the database's secrets are sealed with.

The database remembers the id (a fingerprint: a truncated hash, never the key) of the
primary key that sealed its secrets, in the one-row `master_key` table. A node compares
its key ring with it before it reads or writes a secret, and at start-up when the database
holds secrets: a ring without that key is refused with a message that names
`SLUICE_MASTER_KEY`, instead of a node that seals new secrets no other node can open, or
fails on the first connection with an integrity error. Rotation re-seals every secret and
then records the new primary.

Databases made before the record existed are read from their ciphertexts
(`sg1.<key id>.<...>`), so an upgrade needs no manual step.
"""

from __future__ import annotations

__all__ = ["KeyMismatch", "node_keyring", "record_key", "require_node_key", "sealed_with",
           "verify_key"]

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..store.connections import ConnectionCredential, MasterKeyRecord, PendingAuthorization
from ..store.db import utcnow
from .keyring import KEY_ENV, Keyring, KeyringError

_ROW = 1


class KeyMismatch(KeyringError):
    """This node's key ring does not hold the key the database's secrets are sealed with."""

    def __init__(self, sealed: str, held: list[str]) -> None:
        super().__init__(
            f"{KEY_ENV} does not match this database: its secrets are sealed with key "
            f"{sealed}, and this node's key ring holds {', '.join(held) or 'no key'}. Every "
            f"node must use the same key: set {KEY_ENV} to the key the other nodes use "
            "(README, 'Several nodes')")
        self.sealed = sealed
        self.held = held


def _key_id_of(ciphertext: str | None) -> str | None:
    if not ciphertext:
        return None
    parts = ciphertext.split(".", 2)
    return parts[1] if len(parts) == 3 and parts[1] else None


def sealed_with(session: Session) -> str | None:
    """The key id the database's secrets are sealed with, or None when it holds none."""
    recorded = session.get(MasterKeyRecord, _ROW)
    if recorded is not None:
        return recorded.key_id
    cred = ConnectionCredential
    for column in (cred.secrets, cred.access_token, cred.refresh_token):
        value = session.scalar(select(column).where(column.is_not(None)).limit(1))
        if (kid := _key_id_of(value)) is not None:
            return kid
    pending = session.scalar(select(PendingAuthorization.code_verifier).limit(1))
    return _key_id_of(pending)


def record_key(session: Session, key_id: str) -> None:
    """Remember `key_id` as the key that seals the database's secrets (same transaction as
    the re-sealing of a rotation)."""
    row = session.get(MasterKeyRecord, _ROW)
    if row is None:
        session.add(MasterKeyRecord(id=_ROW, key_id=key_id, recorded_at=utcnow()))
    else:
        row.key_id = key_id
        row.recorded_at = utcnow()


def verify_key(engine: Engine, keyring: Keyring) -> None:
    """Raise KeyMismatch unless `keyring` holds the database's key; a database with no
    secrets yet records the ring's primary, so the first node decides for all."""
    for _attempt in range(2):
        with Session(engine) as s:
            sealed = sealed_with(s)
            if sealed is not None:
                if sealed not in keyring.key_ids:
                    raise KeyMismatch(sealed, keyring.key_ids)
                if s.get(MasterKeyRecord, _ROW) is not None:
                    return
            record_key(s, sealed or keyring.primary_id)
            try:
                s.commit()
                return
            except IntegrityError:  # another node recorded its key first: compare again
                s.rollback()
    raise KeyringError("The master key record could not be written")


def node_keyring(engine: Engine) -> Keyring:
    """The key ring this node opens the database's secrets with. When the database holds
    secrets, a missing key file is an error (a new key could never open them), not a file
    made on the spot; a ring without their key is a KeyMismatch."""
    ring = require_node_key(engine)
    return ring if ring is not None else Keyring.load()


def require_node_key(engine: Engine) -> Keyring | None:
    """At a node's start: when the database holds secrets, the ring must open them (a
    missing key file is not created then). Returns the ring, or None when the database
    has no secrets yet (the key is read when first needed)."""
    with Session(engine) as s:
        sealed = sealed_with(s)
    if sealed is None:
        return None
    try:
        keyring = Keyring.load(create=False)
    except KeyringError as exc:
        raise KeyringError(f"{exc}. The database holds secrets sealed with key {sealed}: "
                           f"set {KEY_ENV} to the key the other nodes use") from None
    verify_key(engine, keyring)
    return keyring
