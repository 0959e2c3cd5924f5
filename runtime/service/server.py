"""The two long-running processes: `sluice serve` (the HTTP API, the OAuth callback,
/healthz and a scheduler node) and `sluice worker` (a scheduler node only).

Both run every script isolated by default: a zygote process (`ZygoteForker`) is started
first, before uvicorn's or the scheduler's threads exist and with an environment
stripped of secrets, and forks a resource-limited child per run. The broker, the
connection registry and the master key stay in this process, which answers the
children's HTTP calls. `--in-process` runs scripts on the service's own threads instead,
for trusted local use.

Both stop on SIGTERM or SIGINT: no new work is claimed, in-flight runs get `grace`
seconds to finish and be recorded, and what is still running is handed back to the
database (re-queued) so another node picks it up at once. The HTTP server also finishes
requests in flight before it stops (uvicorn's graceful shutdown).
"""

from __future__ import annotations

__all__ = ["NodeOptions", "RespawningForker", "Service", "ServiceError", "open_service",
           "serve", "start_zygote", "work"]

import logging
import queue
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

from ..connections.keycheck import require_node_key
from ..observability import configure_logging, install_run_observer
from ..store.db import SessionGuards, make_engine
from ..triggers.history import RetentionPolicy
from ..triggers.node import SchedulerNode
from ..triggers.scheduler import SchedulerSettings
from ..triggers.setup import Triggers, ensure_schema, open_triggers
from .registry import ServiceRegistry, service_broker
from .tokens import TokenBook

log = logging.getLogger("sluicegate.service")

# seconds a token request of the connection registry may take (its default)
_TOKEN_TIMEOUT = 10.0


@dataclass(frozen=True)
class NodeOptions:
    """How a node runs; seconds throughout."""

    concurrency: int = 4
    poll: float = 1.0
    lease: float = 30.0
    batch: int = 128
    grace: float = 10.0
    node: str | None = None
    retention: RetentionPolicy = RetentionPolicy()
    isolated: bool = True
    metrics_port: int | None = None   # worker: serve /metrics on this port (no API)


class ServiceError(Exception):
    """The service cannot start; the message says why."""


@dataclass
class Service:
    """What a service process opened, closed together by `close`."""

    triggers: Triggers
    tokens: TokenBook
    node: SchedulerNode
    registry: ServiceRegistry
    broker: Any
    forker: Any = None
    courier: Any = None    # the mail delivery loop, when SLUICE_SMTP_URL is set
    queue: Any = None      # the loop running queued (?wait=false) runs

    def close(self) -> None:
        if self.queue is not None:
            self.queue.stop()
        if self.courier is not None:
            self.courier.stop()
        self.broker.close()   # and the registry
        if self.forker is not None:
            self.forker.close()
        self.triggers.engine.dispose()
        if self.registry.engine is not self.triggers.engine:
            self.registry.engine.dispose()


class RespawningForker:
    """The service's forker: a ZygoteForker that is replaced when its process dies (killed,
    out of memory), so that one lost zygote costs at most the runs it was serving, not
    every run after it. A replacement is started with Popen (fork + exec), which is safe
    from a threaded process; only the zygote itself must never have threads."""

    def __init__(self, start: Callable[[], Any]) -> None:
        self._start = start
        self._lock = threading.Lock()
        self.current = start()
        self.restarts = 0
        self._owners: dict[int, Any] = {}   # child pid -> the zygote that forked it
        # A zygote dies with the *thread* that started it (its parent-death signal), so
        # replacements are started by one thread that lives as long as this forker,
        # never by the request or runner thread that found the zygote dead.
        self._starts: queue.Queue[tuple[list[Any], threading.Event] | None] = queue.Queue()
        self._keeper = threading.Thread(target=self._keep, name="sluice-zygote-keeper",
                                        daemon=True)
        self._keeper.start()

    def _keep(self) -> None:
        while True:
            job = self._starts.get()
            if job is None:
                return
            box, done = job
            try:
                box.append(self._start())
            except BaseException as exc:  # noqa: BLE001 - raised in the thread that asked
                box.append(exc)
            done.set()

    def _start_kept(self) -> Any:
        box: list[Any] = []
        done = threading.Event()
        self._starts.put((box, done))
        done.wait()
        if isinstance(box[0], BaseException):
            raise box[0]
        return box[0]

    def spawn(self, job: dict[str, Any]) -> tuple[Any, int]:
        zygote = self.current
        if zygote.process.poll() is not None:
            zygote = self._replace(zygote)
        try:
            channel, pid = zygote.spawn(job)
        except Exception:  # the zygote died under the request: one retry on a new one
            zygote = self._replace(zygote)
            channel, pid = zygote.spawn(job)
        with self._lock:
            self._owners[pid] = zygote
        return channel, pid

    def reap(self, pid: int, kill: bool, need_status: bool = True) -> int | None:
        with self._lock:
            zygote = self._owners.pop(pid, self.current)
        try:
            status: int | None = zygote.reap(pid, kill, need_status)
        except Exception:  # its zygote is gone; the child ends with its channel
            return None
        return status

    @property
    def children(self) -> int:
        """Isolated children alive (forked and not yet reaped)."""
        with self._lock:
            return len(self._owners)

    def _replace(self, dead: Any) -> Any:
        with self._lock:
            if self.current is dead:
                log.warning("the isolation zygote (pid %s) ended with %s; starting another",
                            dead.process.pid, dead.process.poll())
                try:
                    dead.close()
                except Exception:  # already gone: nothing left to close
                    pass
                self.current = self._start_kept()
                self.restarts += 1
            return self.current

    def close(self) -> None:
        self._starts.put(None)
        self.current.close()


def start_zygote() -> Any:
    """The isolation zygote; started before this process has any other thread."""
    from ..isolation import ZygoteForker

    try:
        return RespawningForker(ZygoteForker)
    except Exception as exc:  # no fork on this platform, a broken installation
        raise ServiceError(f"isolated mode is unavailable ({type(exc).__name__}: {exc}); "
                           "--in-process runs scripts in this process, for trusted local "
                           "use") from None


def open_service(options: NodeOptions, url: str | None = None, *,
                 forker: Any = None) -> Service:
    """The trigger layer, the token book, the connection broker and a scheduler node over
    one database; scripts run in children of `forker` when given, else in-process."""
    from ..mail import smtp_settings

    smtp = smtp_settings()   # an unusable SLUICE_SMTP_URL stops the node before it starts
    # Migrations run unguarded (an index on a large table may take minutes); the node's
    # own sessions carry guards shorter than its lease, so that a stalled node's locks
    # are released and its work taken over (PostgreSQL; see store.db.SessionGuards).
    plain = make_engine(url)
    try:
        ensure_schema(plain)
    finally:
        plain.dispose()
    guards = SessionGuards.for_lease(options.lease)
    engine = make_engine(url, guards=guards)
    # the registry's own engine: its token requests hold a lease on the credential row,
    # never a transaction, so the node's guards apply to it unchanged
    registry_engine = make_engine(url, guards=guards)
    # a node whose key cannot open the database's secrets refuses to start (KeyringError)
    registry = ServiceRegistry(registry_engine, keyring=require_node_key(registry_engine),
                               token_timeout=_TOKEN_TIMEOUT)
    broker = service_broker(registry)
    install_run_observer()
    triggers = open_triggers(engine, broker=broker, forker=forker, node=options.node,
                             migrate=False)
    settings = SchedulerSettings(lease=options.lease, batch=options.batch)
    node = SchedulerNode(triggers.scheduler(settings), concurrency=options.concurrency,
                         poll=options.poll, retention=options.retention)
    courier = None
    if smtp is not None:
        from ..mail import MailCourier, Outbox, SmtpTransport

        from ..observability.metrics import MAIL_DELIVERIES

        courier = MailCourier(Outbox(triggers.sessions), SmtpTransport(smtp),
                              node=triggers.node, poll=options.poll,
                              observe=lambda outcome: MAIL_DELIVERIES.labels(outcome).inc())
        courier.start()
        log.info("delivering mail through %s", smtp.describe())
    from ..triggers.queue import QueueNode, RunQueue

    queue = QueueNode(RunQueue(triggers.sessions, triggers.launcher, clock=triggers.clock),
                      concurrency=options.concurrency, poll=options.poll)
    return Service(triggers, TokenBook(triggers.sessions, triggers.clock), node, registry,
                   broker, forker, courier, queue)


def serve(host: str, port: int, options: NodeOptions, *, scheduler: bool = True) -> int:
    """Serve the API (and run a scheduler node) until SIGTERM or SIGINT."""
    forker = start_zygote() if options.isolated else None
    import uvicorn

    from .app import create_app

    class Server(uvicorn.Server):
        """Stops gracefully on SIGTERM/SIGINT and then exits 0; uvicorn itself re-raises
        the signal afterwards, so a clean stop would look like a kill to supervisors."""

        @contextmanager
        def capture_signals(self) -> Iterator[None]:
            previous = {sig: signal.signal(sig, self.handle_exit)
                        for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    configure_logging()
    service = _open(options, forker)
    try:
        if scheduler:   # --no-scheduler serves the API only: workers run the queue too
            service.queue.start()
        app = create_app(service.triggers, service.tokens,
                         node=service.node if scheduler else None, grace=options.grace,
                         registry=service.registry)
        # log_config=None: our logging (JSON lines off a terminal) instead of uvicorn's
        # own set-up; each request is logged once, by the application's RequestObserver
        config = uvicorn.Config(app, host=host, port=port, log_level="info", log_config=None,
                                timeout_graceful_shutdown=int(max(1, options.grace)),
                                access_log=False)
        Server(config).run()
    finally:
        service.close()
    return 0


def work(options: NodeOptions) -> int:
    """Run a scheduler node in the foreground until SIGTERM or SIGINT."""
    forker = start_zygote() if options.isolated else None
    configure_logging()
    service = _open(options, forker)
    node = service.node
    service.queue.start()
    if options.metrics_port:
        # a worker has no API: its own counters get a port of their own (per process)
        from prometheus_client import start_http_server

        from ..observability.metrics import REGISTRY

        start_http_server(options.metrics_port, addr="0.0.0.0", registry=REGISTRY)

    def stop(signum: int, _frame: FrameType | None) -> None:
        logging.getLogger("sluicegate.worker").info(
            "%s: finishing in-flight runs (up to %g s)", signal.Signals(signum).name,
            options.grace)
        node.stop(options.grace, wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    mode = "isolated" if options.isolated else "in-process"
    sys.stderr.write(f"sluice worker {service.triggers.node} ready ({mode} runs)\n")
    sys.stderr.flush()
    try:
        node.run()
    finally:
        service.close()
    return 0


def _open(options: NodeOptions, forker: Any) -> Service:
    try:
        return open_service(options, forker=forker)
    except BaseException:
        if forker is not None:
            forker.close()
        raise
