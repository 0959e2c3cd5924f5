"""Idempotency keys: the header value a connection adds to each request of a scheduled
run, so that an API can recognize a request repeated when an occurrence runs again.

A re-claimed occurrence (its node died or froze past its lease) runs again from the
start on another node; its n-th request then carries the same key as the n-th request of
the first attempt, and an API that honours the header (Stripe, Xero, PayPal, most
payment and accounting APIs) answers it without doing the work twice. Keys of different
occurrences, and of different calls of one run, differ.
"""

from __future__ import annotations

__all__ = ["idempotency_key"]

import uuid

# The namespace of the keys (uuid5 over the run key and the call's index).
_NAMESPACE = uuid.UUID("7d0c3a52-5a51-4c1e-9b55-51c3e6a7e0a1")


def idempotency_key(run_key: str, call: int) -> str:
    """The key of the `call`-th HTTP request (1-based) of a run identified by `run_key`:
    a UUID, the format every API that takes such a header accepts."""
    return str(uuid.uuid5(_NAMESPACE, f"{run_key}/{call}"))
