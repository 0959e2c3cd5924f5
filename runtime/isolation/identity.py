"""The identity isolated children run as: a dedicated unprivileged uid when the host is root.

A child that escaped the sandbox as root could read the key file and the database, and
signal or trace any process. When the host runs as root, every child therefore switches
to an unprivileged user before it receives its job: `SLUICE_ISOLATION_USER` names it (an
account name, or `uid[:gid]`); by default uid and gid 65532, which no system account
uses (the "nonroot" of distroless images). Children of one host share that uid, but are
not dumpable (the kernel clears the flag on the switch), so one cannot trace another.
Set the variable to `none` to keep the host's uid, e.g. when the Python installation is
not readable by other users (a child loads nothing after the switch that preloading did
not already load, but a built-in may still read a time zone file).

A host that is not root cannot switch users, and its children keep its uid.
"""

from __future__ import annotations

__all__ = ["DEFAULT_IDENTITY", "ENV_VAR", "Identity", "child_identity", "drop_privileges"]

import os
import pwd
from dataclasses import dataclass

ENV_VAR = "SLUICE_ISOLATION_USER"
DEFAULT_IDENTITY = "65532:65532"


@dataclass(frozen=True)
class Identity:
    uid: int
    gid: int

    def encode(self) -> str:
        return f"{self.uid}:{self.gid}"

    @classmethod
    def decode(cls, text: str) -> Identity | None:
        if not text or text == "-":
            return None
        uid, _, gid = text.partition(":")
        return cls(int(uid), int(gid or uid))


def child_identity(spec: str | None = None) -> Identity | None:
    """Who children switch to (None: they keep the host's uid). Raises ValueError naming
    SLUICE_ISOLATION_USER when it names no account or a privileged one."""
    if os.geteuid() != 0:
        return None
    text = (os.environ.get(ENV_VAR, DEFAULT_IDENTITY) if spec is None else spec).strip()
    if text.lower() in ("none", "off", ""):
        return None
    uid_text, _, gid_text = text.partition(":")
    try:
        if uid_text.isdigit():
            uid = int(uid_text)
            gid = int(gid_text) if gid_text else uid
        else:
            account = pwd.getpwnam(uid_text)
            uid, gid = account.pw_uid, int(gid_text) if gid_text else account.pw_gid
    except KeyError:
        raise ValueError(f"{ENV_VAR}: no account named '{uid_text}'") from None
    except ValueError:
        raise ValueError(f"{ENV_VAR}: expected a user name or uid[:gid], not "
                         f"'{text}'") from None
    if uid == 0 or gid == 0:
        raise ValueError(f"{ENV_VAR}: children must not run as root (uid and gid 0); use "
                         "'none' to keep the host's user")
    return Identity(uid, gid)


def drop_privileges(identity: Identity | None) -> None:
    """Switch this (forked) process to `identity` for good: no supplementary groups, real,
    effective and saved ids all changed, so it can never switch back."""
    if identity is None or os.geteuid() != 0:
        return
    os.setgroups([])
    os.setresgid(identity.gid, identity.gid, identity.gid)
    os.setresuid(identity.uid, identity.uid, identity.uid)
