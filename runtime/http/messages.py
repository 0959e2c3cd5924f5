"""The HTTP broker interface: every outgoing request of a run goes through one of these.

The script side (stdlib.tasks) turns `invokeurl [...]`, the legacy `getUrl`-style
functions and integration tasks into an `HttpRequest` and hands it to the run's broker.
The broker owns the network: destination checks, credentials of the named connection,
timeouts, size caps and the call trace. The connections package provides the real one;
`UnconfiguredBroker` is what a run gets when the host configured none.
"""

from __future__ import annotations

__all__ = ["HttpRequest", "HttpResponse", "Broker", "UnconfiguredBroker", "Mailer",
           "OutboxMailer"]

from dataclasses import dataclass, field
from typing import Any, Protocol

from ..errors import ScriptRuntimeError


@dataclass
class HttpRequest:
    """One request as a script asked for it, before any credential is attached."""

    method: str
    url: str
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | None = None
    files: list[tuple[str, str, str, bytes]] = field(default_factory=list)  # field, name, type, data
    form: list[tuple[str, str]] = field(default_factory=list)
    connection: str | None = None
    # An integration task called without a connection (`zoho.crm.getRecordById("Leads",
    # id)`): the organization's own connection of this service, found by the broker.
    implicit: str | None = None


@dataclass
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    url: str = ""

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


class Broker(Protocol):
    """Sends a request for a run; raises ScriptRuntimeError for refused or failed calls."""

    def send(self, request: HttpRequest, ctx: Any) -> HttpResponse: ...


class UnconfiguredBroker:
    """The broker of a run whose host set up no network access."""

    def send(self, request: HttpRequest, ctx: Any) -> HttpResponse:
        what = f"connection '{request.connection}'" if request.connection else "plain HTTP"
        raise ScriptRuntimeError(
            f"HTTP is not configured in this runtime: cannot send {request.method} request "
            f"({what}); start the runtime with a broker (the connections registry) to allow it")


class Mailer(Protocol):
    def send(self, message: dict[str, Any], ctx: Any) -> None: ...


class OutboxMailer:
    """Records messages in the run's outbox; delivery is a host setting, off by default."""

    def send(self, message: dict[str, Any], ctx: Any) -> None:
        ctx.mail.append(message)
