"""The Prometheus metrics of this process, and the text GET /metrics answers.

Counters and histograms live in one registry per process (`REGISTRY`); what describes
the shared database rather than this process (scheduler backlog and lag, the mail
outbox, queued runs) is read at scrape time by `render`, so it needs no background work.
"""

from __future__ import annotations

__all__ = ["API_REQUESTS", "API_SECONDS", "HTTP_CALLS", "MAIL_DELIVERIES", "REGISTRY",
           "RUNS", "RUN_SECONDS", "TOKEN_REFRESHES", "render"]

import datetime as _dt
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric

REGISTRY = CollectorRegistry(auto_describe=True)

RUNS = Counter("sluice_runs", "Runs recorded by this process",
               ["status", "trigger", "script"], registry=REGISTRY)
RUN_SECONDS = Histogram("sluice_run_duration_seconds", "Duration of recorded runs",
                        ["trigger", "script"], registry=REGISTRY,
                        buckets=(0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
                                 300, 900))
HTTP_CALLS = Counter("sluice_http_calls", "Outgoing HTTP calls of runs, by connection and "
                     "status (error: no answer)", ["connection", "status"], registry=REGISTRY)
TOKEN_REFRESHES = Counter("sluice_token_refreshes", "OAuth token refreshes by connection "
                          "and outcome", ["connection", "outcome"], registry=REGISTRY)
MAIL_DELIVERIES = Counter("sluice_mail_deliveries", "Mail delivery attempts by outcome "
                          "(sent, partial, retry, deferred, failed)", ["outcome"], registry=REGISTRY)
API_REQUESTS = Counter("sluice_api_requests", "HTTP API requests answered",
                       ["method", "route", "status"], registry=REGISTRY)
API_SECONDS = Histogram("sluice_api_request_duration_seconds", "Time to answer API requests",
                        ["method", "route"], registry=REGISTRY)


class _Scraped:
    """A collector over values read once per scrape."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self.families = list(families)

    def collect(self) -> Iterable[Metric]:
        return self.families


def _gauge(name: str, text: str, value: float | None = None,
           labelled: dict[tuple[str, ...], float] | None = None,
           labels: list[str] | None = None) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, text, value=value, labels=labels)
    for key, v in (labelled or {}).items():
        family.add_metric(list(key), v)
    return family


def database_gauges(sessions: Any, now: _dt.datetime) -> list[Metric]:
    """Scheduler backlog and lag, outbox and queue sizes, read from the shared database."""
    from sqlalchemy import func, select

    from ..store.outbox import OutboxMessage
    from ..store.schedules import Occurrence

    with sessions() as s:
        due = (Occurrence.state == "pending") & (Occurrence.due_at <= now)
        backlog, oldest = s.execute(select(func.count(), func.min(Occurrence.due_at))
                                    .where(due)).one()
        mail = dict(s.execute(select(OutboxMessage.state, func.count())
                              .group_by(OutboxMessage.state)).all())
        queued = _queued_runs(s)
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=_dt.timezone.utc)
    lag = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    families: list[Metric] = [
        _gauge("sluice_scheduler_backlog", "Schedule occurrences due and not yet claimed",
               float(backlog)),
        _gauge("sluice_scheduler_lag_seconds", "How long the oldest due occurrence has "
               "waited to be claimed", lag),
        _gauge("sluice_mail_outbox_messages", "Messages in the mail outbox by state",
               labelled={(state,): float(mail.get(state, 0)) for state in
                         ("pending", "sending", "sent", "failed", "not_sent")},
               labels=["state"]),
    ]
    if queued is not None:
        families.append(_gauge("sluice_queued_runs", "Asynchronous runs by state",
                               labelled={(k,): float(v) for k, v in queued.items()},
                               labels=["state"]))
    return families


def _queued_runs(session: Any) -> dict[str, int] | None:
    try:
        from ..store.queue import QueuedRun
    except ImportError:
        return None
    from sqlalchemy import func, select

    counts = dict(session.execute(select(QueuedRun.state, func.count())
                                  .group_by(QueuedRun.state)).all())
    return {state: int(counts.get(state, 0)) for state in ("queued", "running", "finished")}


def render(sessions: Any = None, *, children: Callable[[], int] | None = None,
           now: Callable[[], _dt.datetime] | None = None) -> bytes:
    """The Prometheus text of this process, with the database gauges when `sessions` is
    given and the number of isolated children alive when `children` is."""
    text = generate_latest(REGISTRY)
    families: list[Metric] = []
    if children is not None:
        families.append(_gauge("sluice_isolated_children", "Isolated run children alive",
                               float(children())))
    if sessions is not None:
        moment = now() if now is not None else _dt.datetime.now(_dt.timezone.utc)
        try:
            families.extend(database_gauges(sessions, moment))
        except Exception:  # the database is away: the process metrics still answer
            families.append(_gauge("sluice_database_up", "Whether the database answered "
                                   "the scrape", 0.0))
        else:
            families.append(_gauge("sluice_database_up", "Whether the database answered "
                                   "the scrape", 1.0))
    if families:
        scraped = CollectorRegistry(auto_describe=False)
        scraped.register(_Scraped(families))  # type: ignore[arg-type]
        text += generate_latest(scraped)
    return text
