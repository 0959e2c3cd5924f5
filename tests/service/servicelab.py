"""What the service suites share: a live uvicorn server on a loopback port, and the API
served over a test database with an admin and a runner token (`serve_api`)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from sluicegate.service.tokens import TokenBook
from sluicegate.triggers.setup import Triggers


class LiveServer:
    """An ASGI app served by uvicorn on a free loopback port, on a thread of the test
    (real HTTP with httpx, and no test-client shim)."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self._socket = sock
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning",
                                                    lifespan="on"))
        self.thread = threading.Thread(target=self.server.run,
                                       kwargs={"sockets": [sock]}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self._socket.close()


@dataclass
class ServiceApi:
    """The service's HTTP API served live over a test database, with two tokens."""

    client: httpx.Client
    url: str
    triggers: Triggers
    tokens: TokenBook
    admin: dict[str, str]     # headers of an admin token
    runner: dict[str, str]    # headers of a runner token
    admin_token: str


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + token}


@contextmanager
def serve_api(db_url: str, *, node: str, prepare: Callable[[Triggers], None] | None = None,
              registry: Any = None, timeout: float = 5.0) -> Iterator[ServiceApi]:
    """Open the trigger layer on `db_url`, let `prepare` save scripts and schedules, mint
    an admin and a runner token, and serve `create_app` on a loopback port until the
    block ends."""
    from sluicegate.service.app import create_app
    from sluicegate.store.db import make_engine
    from sluicegate.triggers import open_triggers

    engine = make_engine(db_url)
    try:
        triggers = open_triggers(engine, migrate=False, node=node)
        tokens = TokenBook(triggers.sessions)
        admin_token = tokens.create("admin", "ops")[1]
        runner = bearer(tokens.create("runner", "ui")[1])
        if prepare is not None:
            prepare(triggers)
        with LiveServer(create_app(triggers, tokens, registry=registry)) as server, \
                httpx.Client(base_url=server.url, timeout=timeout) as client:
            yield ServiceApi(client, server.url, triggers, tokens, bearer(admin_token),
                             runner, admin_token)
    finally:
        engine.dispose()
