"""SHA-256 without loading OpenSSL.

`hashlib` binds OpenSSL (`_hashlib`) when imported, a few milliseconds of a cold `sluice
run` that hashes one small script. CPython's own SHA-256 module gives the same digests;
where it is missing (another interpreter), hashlib's is used.
"""

from __future__ import annotations

__all__ = ["sha256"]

try:
    from _sha2 import sha256  # CPython 3.12 and later
except ImportError:
    try:
        from _sha256 import sha256  # CPython 3.11
    except ImportError:  # pragma: no cover - another interpreter
        from hashlib import sha256
