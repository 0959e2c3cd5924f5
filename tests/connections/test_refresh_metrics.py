"""Token refreshes are counted for /metrics by connection and outcome."""

from __future__ import annotations

import pytest
from sluicegate.connections.registry import Registry
from sluicegate.errors import ScriptRuntimeError
from sluicegate.examples.provider import LocalProvider
from sluicegate.observability.metrics import REGISTRY

from connlab import Clock


def _count(outcome: str) -> float:
    return REGISTRY.get_sample_value("sluice_token_refreshes_total",
                                     {"connection": "zb", "outcome": outcome}) or 0.0


def test_refreshes_and_refused_refreshes_are_counted(
        registry: Registry, provider: LocalProvider, clock: Clock, connected: str) -> None:
    ok, failed = _count("ok"), _count("failed")
    clock.offset += 7200
    assert registry.grant("zb").generation == 2
    assert (_count("ok") - ok, _count("failed") - failed) == (1, 0)
    clock.offset += 7200
    with provider.state.lock:
        provider.state.client_secret = "rotated-at-the-provider"
    with pytest.raises(ScriptRuntimeError):
        registry.grant("zb")
    assert (_count("ok") - ok, _count("failed") - failed) == (1, 1)
