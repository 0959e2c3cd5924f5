"""The master key ring: encrypts every secret of the registry at rest, and rotates.

Ciphertexts are AES-256-GCM, written `sg1.<key id>.<nonce+ciphertext, base64url>`, with
the column they belong to as associated data so a ciphertext copied into another row or
field fails to decrypt. The ring holds one primary key (encrypts) and any number of older
keys (still decrypt), so rotation is: add a new primary, re-encrypt, drop the old keys.

Where the keys come from, in order:
- `SLUICE_MASTER_KEY`: comma-separated keys, primary first. A key is 32 bytes in base64url
  (`python -c "import secrets,base64;print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())"`)
  or any passphrase of at least 16 characters, stretched with scrypt.
- `$SLUICE_HOME/master.key`: one key per line, primary first, created on first use with
  mode 0600; refused when group or others can read it.
"""

from __future__ import annotations

__all__ = ["Keyring", "KeyringError", "generate_key", "KEY_ENV", "KEY_FILE"]

import base64
import binascii
import hashlib
import os
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_ENV = "SLUICE_MASTER_KEY"
KEY_FILE = "master.key"
_PREFIX = "sg1"
# A fixed salt is acceptable only because a passphrase key is a deployment setting, not
# a user password: scrypt makes guessing it expensive; uniqueness comes from the secret.
_PASSPHRASE_SALT = b"sluicegate master key v1"


class KeyringError(Exception):
    """The master key is missing, malformed or does not open a stored secret."""


def generate_key() -> str:
    """A new random key in the text form the ring reads."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")


def _key_bytes(text: str) -> bytes:
    text = text.strip()
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) == 32 and len(text) in (43, 44):
        return raw
    if len(text) < 16:
        raise KeyringError(f"{KEY_ENV}: a key must be 32 bytes in base64url or a passphrase "
                           "of at least 16 characters")
    return hashlib.scrypt(text.encode("utf-8"), salt=_PASSPHRASE_SALT, n=2 ** 14, r=8, p=1,
                          dklen=32)


def _key_id(key: bytes) -> str:
    return hashlib.sha256(b"sluicegate key id" + key).hexdigest()[:12]


class Keyring:
    """Encrypts with the primary key; decrypts with whichever key wrote the ciphertext."""

    def __init__(self, keys: list[bytes], *, source: Path | None = None) -> None:
        if not keys:
            raise KeyringError("The key ring is empty")
        self._keys = {_key_id(k): AESGCM(k) for k in keys}
        self._order = [_key_id(k) for k in keys]
        self._raw = list(keys)
        self.source = source

    @classmethod
    def from_texts(cls, texts: list[str], *, source: Path | None = None) -> Keyring:
        return cls([_key_bytes(t) for t in texts if t.strip()], source=source)

    @classmethod
    def load(cls, home: Path | None = None, env: Mapping[str, str] | None = None, *,
             create: bool = True) -> Keyring:
        """The ring of this installation: `SLUICE_MASTER_KEY`, else the key file (made
        with a new key when missing, unless `create` is false)."""
        environ = os.environ if env is None else env
        configured = environ.get(KEY_ENV, "").strip()
        if configured:
            return cls.from_texts(configured.split(","))
        if home is None:
            from ..store.db import sluice_home

            home = sluice_home()
        return cls._from_file(home / KEY_FILE, create)

    @classmethod
    def _from_file(cls, path: Path, create: bool = True) -> Keyring:
        if not create and not path.exists():
            raise KeyringError(f"No master key: {KEY_ENV} is not set and {path} does not "
                               "exist")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(generate_key() + "\n")
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyringError(f"{path}: the master key file must be readable by its owner "
                               f"only (chmod 600 {path})")
        lines = path.read_text(encoding="ascii").split()
        return cls.from_texts(lines, source=path)

    @property
    def primary_id(self) -> str:
        return self._order[0]

    @property
    def key_ids(self) -> list[str]:
        return list(self._order)

    def encrypt(self, plaintext: str, context: str) -> str:
        nonce = secrets.token_bytes(12)
        sealed = self._keys[self.primary_id].encrypt(nonce, plaintext.encode("utf-8"),
                                                     context.encode("utf-8"))
        body = base64.urlsafe_b64encode(nonce + sealed).decode("ascii").rstrip("=")
        return f"{_PREFIX}.{self.primary_id}.{body}"

    def decrypt(self, token: str, context: str) -> str:
        prefix, _, rest = token.partition(".")
        kid, _, body = rest.partition(".")
        if prefix != _PREFIX or not body:
            raise KeyringError("A stored secret is not in a format this version can read")
        aead = self._keys.get(kid)
        if aead is None:
            raise KeyringError(f"A stored secret was encrypted with key {kid}, which is not "
                               f"in the key ring ({KEY_ENV} or {KEY_FILE})")
        data = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        try:
            return aead.decrypt(data[:12], data[12:], context.encode("utf-8")).decode("utf-8")
        except InvalidTag:
            raise KeyringError("A stored secret failed its integrity check (wrong key or "
                               "tampered data)") from None

    def needs_rewrite(self, token: str) -> bool:
        return token.split(".", 2)[1:2] != [self.primary_id]

    def with_primary(self, key_text: str | None = None) -> Keyring:
        """A ring whose primary is a new key (given or generated), older keys kept."""
        new = _key_bytes(key_text) if key_text else base64.urlsafe_b64decode(generate_key())
        return Keyring([new, *[k for k in self._raw if _key_id(k) != _key_id(new)]],
                       source=self.source)

    def only_primary(self) -> Keyring:
        return Keyring(self._raw[:1], source=self.source)

    def save(self) -> None:
        """Write the ring to its key file atomically (mode 0600); env rings have no file."""
        if self.source is None:
            return
        tmp = self.source.with_name(self.source.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            for key in self._raw:
                f.write(base64.urlsafe_b64encode(key).decode("ascii") + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.source)
