"""The two long-running processes: `sluice serve` (the HTTP API, the OAuth callback,
/healthz and a scheduler node) and `sluice worker` (a scheduler node only).

Both stop on SIGTERM or SIGINT: no new work is claimed, in-flight runs get `grace`
seconds to finish and be recorded, and what is still running is handed back to the
database (re-queued) so another node picks it up at once. The HTTP server also finishes
requests in flight before it stops (uvicorn's graceful shutdown).
"""

from __future__ import annotations

__all__ = ["NodeOptions", "open_service", "serve", "work"]

import logging
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

from ..store.db import make_engine
from ..triggers.history import RetentionPolicy
from ..triggers.node import SchedulerNode
from ..triggers.scheduler import SchedulerSettings
from ..triggers.setup import Triggers, open_triggers
from .tokens import TokenBook


@dataclass(frozen=True)
class NodeOptions:
    """How a node runs; seconds throughout."""

    concurrency: int = 4
    poll: float = 1.0
    lease: float = 30.0
    batch: int = 16
    grace: float = 10.0
    node: str | None = None
    retention: RetentionPolicy = RetentionPolicy()


def broker() -> Any:
    """The connections registry's broker when that package is installed, else none
    (scripts then get a clear 'HTTP is not configured' error)."""
    try:
        from ..connections.setup import broker_for_cli  # type: ignore[import-not-found]
    except ImportError:
        return None
    return broker_for_cli()


def open_service(options: NodeOptions, url: str | None = None) -> \
        tuple[Triggers, TokenBook, SchedulerNode]:
    """The trigger layer, the token book and a scheduler node over one database."""
    triggers = open_triggers(make_engine(url), broker=broker(), node=options.node)
    settings = SchedulerSettings(lease=options.lease, batch=options.batch)
    node = SchedulerNode(triggers.scheduler(settings), concurrency=options.concurrency,
                         poll=options.poll, retention=options.retention)
    return triggers, TokenBook(triggers.sessions, triggers.clock), node


def serve(host: str, port: int, options: NodeOptions, *, scheduler: bool = True) -> int:
    """Serve the API (and run a scheduler node) until SIGTERM or SIGINT."""
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

    triggers, tokens, node = open_service(options)
    app = create_app(triggers, tokens, node=node if scheduler else None, grace=options.grace)
    config = uvicorn.Config(app, host=host, port=port, log_level="info",
                            timeout_graceful_shutdown=int(max(1, options.grace)),
                            access_log=False)
    Server(config).run()
    return 0


def work(options: NodeOptions) -> int:
    """Run a scheduler node in the foreground until SIGTERM or SIGINT."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    triggers, _tokens, node = open_service(options)

    def stop(signum: int, _frame: FrameType | None) -> None:
        logging.getLogger("sluicegate.worker").info(
            "%s: finishing in-flight runs (up to %g s)", signal.Signals(signum).name,
            options.grace)
        node.stop(options.grace, wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.stderr.write(f"sluice worker {triggers.node} ready\n")
    sys.stderr.flush()
    node.run()
    return 0
