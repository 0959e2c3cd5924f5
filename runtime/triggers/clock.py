"""The clock of the trigger layer: one small class, injected, so that schedule logic can be
tested at any instant (daylight-saving days, downtime) without sleeping."""

from __future__ import annotations

__all__ = ["Clock", "SystemClock"]

import datetime as _dt
from typing import Protocol


class Clock(Protocol):
    """Tells the current instant as an aware UTC datetime."""

    def now(self) -> _dt.datetime: ...


class SystemClock:
    """The host's wall clock."""

    def now(self) -> _dt.datetime:
        return _dt.datetime.now(_dt.UTC)
