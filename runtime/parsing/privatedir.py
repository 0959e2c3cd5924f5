"""This user's private cache directory for parsers (no Lark needed to find it).

Both the pickled Lark parser (parsercache) and the plain tables (plainparse) are kept
there: what is loaded from it steers the parser, so nothing anybody else could have placed
or replaced is ever read, which a file directly in the shared temporary directory (where
Lark keeps its cache by default) cannot promise.
"""

from __future__ import annotations

__all__ = ["private_dir", "read_private", "write_private"]

import os
import stat
import sys


def _temporary_directory() -> str:
    """`tempfile.gettempdir()`; where tempfile is not imported yet (a cold `sluice run`,
    which needs nothing else of it and its imports: shutil, bz2, lzma), the first of the
    directories it tries first (TMPDIR, TEMP, TMP, /tmp, /var/tmp, /usr/tmp) that this
    user may write in, which is the one it finds save where a writable directory refuses
    new files (a full disk); where there is none, tempfile's own answer."""
    tempfile = sys.modules.get("tempfile")
    if tempfile is None and os.name == "posix":
        candidates = [os.environ.get(name) for name in ("TMPDIR", "TEMP", "TMP")]
        for candidate in [*candidates, "/tmp", "/var/tmp", "/usr/tmp"]:
            if candidate:
                folder = os.path.abspath(candidate)
                if os.path.isdir(folder) and os.access(folder, os.W_OK | os.X_OK):
                    return folder
    import tempfile

    return tempfile.gettempdir()


def private_dir() -> str | None:
    """This user's cache directory for parsers: `sluicegate-<uid>` in the temporary
    directory, made mode 0700, and used only while it is a real directory (not a link)
    owned by this user that nobody else may enter. None when no such directory can be
    had: parsers are then built without a cache."""
    path = os.path.join(_temporary_directory(), f"sluicegate-{os.getuid()}")
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError:
        return None
    try:
        info = os.lstat(path)
    except OSError:
        return None
    if (not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid()
            or info.st_mode & 0o077):
        return None
    return path


def read_private(path: str) -> bytes | None:
    """The bytes of `path` when it is a regular file (not a link) this user owns and
    nobody else may write; else (or when it cannot be read) None. What the parsers load
    from the private directory is read only through here."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if (info.st_uid != os.getuid() or not stat.S_ISREG(info.st_mode)
                or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)):
            return None
        with os.fdopen(fd, "rb") as f:
            fd = -1
            return f.read()
    except OSError:
        return None
    finally:
        if fd >= 0:
            os.close(fd)


def write_private(path: str, data: bytes) -> bool:
    """Write `data` to `path` atomically (a temporary file renamed over it), readable
    and writable by this user only; False when no file can be made (a read-only or full
    temporary directory), with nothing left behind."""
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        return True
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return False
