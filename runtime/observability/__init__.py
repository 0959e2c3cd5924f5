"""Metrics and structured logs of the long-running processes.

    metrics     the process's Prometheus counters and histograms, and `render` for
                GET /metrics (adding the gauges read from the database at scrape time)
    logs        JSON-lines logging (`configure_logging`), one object per line
    runs        one log line and the run metrics for every run committed to the history,
                whatever recorded it (launcher, scheduler, CLI)
    requests    one log line and the request metrics for every API request (ASGI)

Metrics are per process: each `serve` and `worker` counts what it did, so scrape every
node and sum (Prometheus `sum by (...)`); the gauges read from the database (scheduler
backlog and lag, the mail outbox, queued runs) are the same on every node.
"""

from __future__ import annotations

__all__ = ["RequestObserver", "configure_logging", "install_run_observer", "render"]

from .logs import configure_logging
from .metrics import render
from .requests import RequestObserver
from .runs import install_run_observer
