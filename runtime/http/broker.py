"""The broker: sends every outgoing request of a run, and signs those of connections.

For each call (`Broker.send(request, ctx)`):

1. The message is checked: method, URL (http/https, no user name or password, no control
   characters), header names and values (no CR, LF, NUL or other control character).
   Headers that frame the message or pick its destination (`RUNTIME_HEADERS`: Content-
   Length, Transfer-Encoding, Connection, Host, Upgrade, TE, Trailer, Keep-Alive, and
   Proxy-*) are refused in any case with a RuntimeError naming the header, before
   anything is sent: whatever built the request (invokeurl, getUrl/postUrl/invokeUrl,
   an integration task), this is the one way out.
2. With `connection:` the registry gives a `Grant` (refreshing an expiring token first).
   A URL that is only a path goes to the connection's base URL. The URL must fall under
   one of the connection's base URLs **before** the signer runs; otherwise the script
   gets a refusal and nothing is sent. A path without a connection is refused.
   Without a connection the guard checks the destination: private, loopback, link-local
   and metadata addresses are refused after DNS resolution, and the transport connects
   to the address that was checked.
   A connection with an idempotency header gives each request of a scheduled run a key
   derived from the occurrence and the call's index (`http.idempotency`).
3. Redirects are followed by hand: for a connection only inside the base URL the request
   matched (each hop signed afresh, so credentials never travel to another origin); for a
   plain request every hop is checked by the guard again, and an Authorization or Cookie
   header the script set is dropped when the origin changes.
4. One deadline covers the whole call (connect, TLS, every read and write, redirects and
   the retry after a refresh): `Limits.http_timeout`, or less when the run has less time
   left. The response is streamed and refused past `Limits.http_max_bytes`.
5. A 401 (or a status or body marker the connection names) triggers one refresh and one
   retry, at most once per connection per run (the registry adds a per-connection rate
   limit across runs). Every credential value of the connection found in the response
   body, headers or URL, in any encoding `redaction` knows, is replaced with `[redacted]`
   before the script sees it.
6. One trace entry per call goes to `ctx.http_trace`: method, URL (secrets and
   secret-looking query values masked), status, milliseconds, connection, token
   generation, the idempotency key sent, and the error when the call failed.

There is one HTTP stack, httpx, over httpcore with a network backend of ours (the guard's
address pinning and the deadline); proxies from the environment are ignored on purpose,
since a proxy would make the guard check the proxy instead of the destination. The
broker sends through pooled transports rather than an httpx.Client (no cookie jar is
shared between runs): one for plain requests and one per credential of a connection
(`_Pools`), so that a kept-alive connection never carries two credentials' requests; a
signed call costs little more than a plain httpx one
(tests/benchmarks/bench_connections.py). `deadline` and `deadline_transport` give the
registry's token requests the same overall deadline.
"""

from __future__ import annotations

__all__ = ["Broker", "OutgoingRequest", "RUNTIME_HEADERS", "deadline", "deadline_transport",
           "deadline_left"]

import contextvars
import logging
import re
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import h11
import httpcore
import httpx

from ..errors import LimitExceeded, ScriptRuntimeError
from .guard import BaseUrl, DestinationRefused, Guard, HostPolicy
from .idempotency import idempotency_key
from .messages import HttpRequest, HttpResponse
from .redaction import BUDGET, REDACTED, ScrubTimeout, scrub_bytes, scrub_text

_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
_BODYLESS = {"GET", "HEAD", "DELETE", "OPTIONS"}
_REDIRECTS = {301, 302, 303, 307, 308}
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")
_BAD_TEXT = re.compile(r"[\r\n\x00]")
_CONTROL_IN_VALUE = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Headers that frame the message or choose where it goes: the runtime's alone. A script
# that set them could desynchronize a kept-alive connection (request smuggling) or send
# a connection's credentials under another Host.
RUNTIME_HEADERS = frozenset({"content-length", "transfer-encoding", "connection", "host",
                             "upgrade", "te", "trailer", "keep-alive"})
_CONTROL = re.compile(r"[\x00-\x20\x7f]")
_SENSITIVE_QUERY = re.compile(r"token|key|secret|passw|signature|auth|sig\Z|code\Z", re.I)
_CROSS_ORIGIN_DROP = {"authorization", "cookie", "proxy-authorization"}
_REDACTED = REDACTED
_CHARSET = re.compile(r"charset=[\"']?([\w.:-]+)", re.I)

_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "sluicegate_http_deadline", default=None)
_SECRETS: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "sluicegate_http_secrets", default=())


class _LogScrubber(logging.Filter):
    """httpx logs every request URL at INFO and httpcore the response headers at DEBUG:
    both can hold a key or token (a key in the query, an API echoing its token), so
    records of those loggers are masked like trace URLs and scrubbed of the secrets of
    the connection being used."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        message = _URL_IN_TEXT.sub(lambda m: _safe_url(m.group(0)), message)
        record.msg, record.args = _scrub_text(message, _SECRETS.get()), ()
        return True


_URL_IN_TEXT = re.compile(r"https?://[^\s\"'<>]+")
for _name in ("httpx", "httpcore.http11", "httpcore.http2", "httpcore.connection",
              "httpcore.connection_pool", "httpcore.proxy"):
    logging.getLogger(_name).addFilter(_LogScrubber())


# ---- transport: httpcore with our network backend ---------------------------------------
def _clamp(timeout: float | None, timeout_error: type[Exception]) -> float | None:
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise timeout_error("the request's deadline passed")
    return remaining if timeout is None else min(timeout, remaining)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every read and write ends by the request's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _clamp(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _clamp(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.start_tls(
            ssl_context, server_hostname, _clamp(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    """Connects to checked addresses (with a guard) under the request's deadline."""

    def __init__(self, guard: Guard | None) -> None:
        self._guard = guard
        self._inner = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        addresses = self._guard.addresses_for(host, port) if self._guard else [host]
        failure: Exception | None = None
        for address in addresses:
            try:
                return _DeadlineStream(self._inner.connect_tcp(
                    address, port, _clamp(timeout, httpcore.ConnectTimeout), local_address,
                    socket_options))
            except httpcore.ConnectError as exc:
                failure = exc
        raise failure or httpcore.ConnectError(f"no address for {host}")

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None
                            ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not reachable from scripts")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def deadline_left() -> float | None:
    """Seconds left before the deadline in force (None outside any): what a caller that
    waits on someone else's work on behalf of a request may still spend."""
    current = _DEADLINE.get()
    return None if current is None else current - time.monotonic()


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Within this block, exchanges through a `deadline_transport` end within `seconds`
    (or by the deadline already in force, if that comes first): connect, every read and
    write, all of it, so a server that drips its answer cannot hold the caller longer."""
    now_plus = time.monotonic() + seconds
    current = _DEADLINE.get()
    token = _DEADLINE.set(now_plus if current is None else min(current, now_plus))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def deadline_transport() -> httpx.BaseTransport:
    """An httpx transport whose exchanges honour `deadline` (no destination guard: for
    endpoints the host configured, such as a provider's token URL)."""
    return _Transport(None)


class _ResponseStream(httpx.SyncByteStream):
    def __init__(self, stream: Iterable[bytes]) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        with _mapped_errors():
            yield from self._stream

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()


@contextmanager
def _mapped_errors() -> Iterator[None]:
    try:
        yield
    except httpcore.TimeoutException as exc:
        raise httpx.TimeoutException(str(exc)) from exc
    except (httpcore.LocalProtocolError, h11.LocalProtocolError) as exc:
        raise httpx.LocalProtocolError(str(exc)) from exc
    except (httpcore.ConnectError, httpcore.ConnectionNotAvailable) as exc:
        raise httpx.ConnectError(str(exc)) from exc
    except httpcore.ProtocolError as exc:
        raise httpx.RemoteProtocolError(str(exc)) from exc
    except (httpcore.NetworkError, httpcore.UnsupportedProtocol) as exc:
        raise httpx.TransportError(str(exc)) from exc


class _Transport(httpx.BaseTransport):
    """httpx transport over an httpcore pool that uses `_Backend`."""

    def __init__(self, guard: Guard | None, ssl_context: ssl.SSLContext | None = None
                 ) -> None:
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(trust_env=False),
            network_backend=_Backend(guard), max_connections=100,
            max_keepalive_connections=20, keepalive_expiry=5.0)

    def idle(self) -> bool:
        """Whether no exchange is under way on any of the pool's connections."""
        return all(c.is_idle() or c.is_closed() for c in self._pool.connections)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(scheme=request.url.raw_scheme, host=request.url.raw_host,
                             port=request.url.port, target=request.url.raw_path),
            headers=request.headers.raw, content=request.stream,
            extensions=request.extensions)
        with _mapped_errors():
            response = self._pool.handle_request(core)
        return httpx.Response(status_code=response.status, headers=response.headers,
                              stream=_ResponseStream(response.stream),
                              extensions=response.extensions)

    def close(self) -> None:
        self._pool.close()


class _Pools:
    """Keep-alive pools kept apart by credential: one per (connection, credential).

    A kept-alive connection is shared by whoever sends through its pool. Were the pool
    shared across connections, one run's half-sent request could swallow the next run's
    request, another connection's token with it, and read it back (request smuggling);
    the response scrubbing only knows the secrets of the connection it answers. Within
    one credential every request carries secrets the scrubber of every response knows.
    The least recently used idle pools are closed past `limit`."""

    def __init__(self, limit: int = 64) -> None:
        self._limit = limit
        self._lock = threading.Lock()
        self._pools: OrderedDict[Hashable, _Transport] = OrderedDict()
        self._ssl: ssl.SSLContext | None = None

    def get(self, key: Hashable) -> _Transport:
        with self._lock:
            pool = self._pools.get(key)
            if pool is not None:
                self._pools.move_to_end(key)
                return pool
            if self._ssl is None:  # loading the CA bundle costs milliseconds: once
                self._ssl = httpx.create_ssl_context(trust_env=False)
            pool = self._pools[key] = _Transport(None, self._ssl)
            if len(self._pools) > self._limit:
                for old in [k for k, p in self._pools.items() if k != key and p.idle()]:
                    self._pools.pop(old).close()
                    if len(self._pools) <= self._limit:
                        break
            return pool

    def close(self) -> None:
        with self._lock:
            pools = list(self._pools.values())
            self._pools.clear()
        for pool in pools:
            pool.close()


# ---- scrubbing and safe URLs ------------------------------------------------------------
def _scrub_text(text: str, secrets: tuple[str, ...]) -> str:
    return scrub_text(text, secrets) if secrets else text


@lru_cache(maxsize=1024)
def _safe_url(url: str, secrets: tuple[str, ...] = ()) -> str:
    """The URL for traces and messages: no credentials, secret-looking query values masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid URL>"
    netloc = parts.netloc.rsplit("@", 1)[-1]
    query = parse_qsl(parts.query, keep_blank_values=True)
    if query:
        masked = [(k, _REDACTED if _SENSITIVE_QUERY.search(k) else v) for k, v in query]
        shown_query = "?" + urlencode(masked, safe="[]")
    else:
        shown_query = ""
    return _scrub_text(f"{parts.scheme}://{netloc}{parts.path}{shown_query}", secrets)


def _full_url(request: HttpRequest) -> str:
    url = request.url
    if request.query:
        url += ("&" if "?" in url else "?") + urlencode(request.query)
    return url


# ---- the broker -------------------------------------------------------------------------
class Broker:
    """The real broker: destination checks, connection signing, deadlines, size caps."""

    def __init__(self, registry: Any = None, *, guard: Guard | None = None,
                 policy: HostPolicy | None = None, max_redirects: int = 5,
                 plain_transport: httpx.BaseTransport | None = None,
                 connection_transport: httpx.BaseTransport | None = None) -> None:
        self.registry = registry
        self.guard = guard or Guard(policy or HostPolicy.from_env())
        self.max_redirects = max_redirects
        # Transports, not httpx.Client: a client keeps a cookie jar, and a cookie one
        # script's API set must not ride along on another run's requests; the client's
        # URL merging, auth and redirect machinery is also per-call work the broker
        # does itself. Plain requests share one pool (they carry no credential of the
        # runtime); each credential of a connection has its own (`_Pools`).
        self._plain = plain_transport or _Transport(self.guard)
        self._connected = connection_transport
        self._pools = _Pools()

    def close(self) -> None:
        self._plain.close()
        if self._connected is not None:
            self._connected.close()
        self._pools.close()
        close = getattr(self.registry, "close", None)
        if close is not None:
            close()

    def send(self, request: HttpRequest, ctx: Any) -> HttpResponse:
        started = time.monotonic()
        budget = float(ctx.limits.http_timeout)
        run_deadline = getattr(ctx, "deadline", 0.0)
        if run_deadline:
            budget = max(min(budget, run_deadline - started), 0.001)
        entry: dict[str, Any] = {"method": request.method.upper(),
                                 "url": _safe_url(_full_url(request)), "status": None,
                                 "ms": 0.0, "connection": request.connection,
                                 "token_generation": None}
        token = _DEADLINE.set(started + budget)
        secrets_token = _SECRETS.set(())
        try:
            self._check_message(request)
            if not request.connection and request.implicit:
                if self.registry is None:
                    raise ScriptRuntimeError(
                        f"zoho.{request.implicit} tasks need a connection, and no connection "
                        "registry is configured in this runtime")
                request.connection = self.registry.implicit_connection(request.implicit)
                entry["connection"] = request.connection
            if request.connection:
                response = self._send_for_connection(request, ctx, budget, entry)
            else:
                response = self._send_plain(request, ctx, budget)
            entry["status"] = response.status
            return response
        except (ScriptRuntimeError, LimitExceeded) as exc:
            entry["error"] = exc.message
            raise
        finally:
            _DEADLINE.reset(token)
            _SECRETS.reset(secrets_token)
            entry["ms"] = round((time.monotonic() - started) * 1000, 1)
            ctx.http_trace.append(entry)

    # ---- checks ------------------------------------------------------------------------
    @staticmethod
    def _check_message(request: HttpRequest) -> None:
        method = request.method.upper()
        if method not in _METHODS:
            raise ScriptRuntimeError(f"HTTP method '{request.method}' is not supported")
        if _CONTROL.search(request.url.strip()):
            raise DestinationRefused("The URL contains spaces or control characters; "
                                     "encode them (encodeUrl)")
        for name, value in request.headers:
            if not _HEADER_NAME.match(name):
                raise ScriptRuntimeError(f"'{_BAD_TEXT.sub('?', name)}' is not a valid "
                                         "header name")
            lowered = name.lower()
            if lowered in RUNTIME_HEADERS or lowered.startswith("proxy-"):
                raise ScriptRuntimeError(
                    f"Header '{name}' cannot be set by a script: the runtime alone sets "
                    "the message framing and destination headers (Content-Length, "
                    "Transfer-Encoding, Connection, Host, Upgrade, TE, Trailer, Keep-Alive, "
                    "Proxy-*); nothing was sent")
            if _BAD_TEXT.search(value):
                raise ScriptRuntimeError(f"Header '{name}' contains a line break or NUL "
                                         "character, which is not allowed")
            if _CONTROL_IN_VALUE.search(value):
                raise ScriptRuntimeError(f"Header '{name}' contains a control character, "
                                         "which is not allowed")

    # ---- plain requests ----------------------------------------------------------------
    def _send_plain(self, request: HttpRequest, ctx: Any, budget: float) -> HttpResponse:
        url = _full_url(request).strip()
        if url.startswith("/"):
            raise DestinationRefused(f"'{_safe_url(url).split('://', 1)[-1][:80]}' is a path, "
                                     "not a URL; a path can only be used with a connection, "
                                     "whose base URL it is sent to")
        self.guard.check_url(url)
        origin = _origin(url)
        outgoing = OutgoingRequest.from_request(request, url)
        for _hop in range(self.max_redirects + 1):
            response = self._exchange(self._plain, outgoing, ctx, budget, ())
            target = _redirect_target(response)
            if target is None:
                return response
            outgoing = outgoing.redirected(response.status, target)
            self.guard.check_url(target)
            if _origin(target) != origin:
                outgoing.headers = [(k, v) for k, v in outgoing.headers
                                    if k.lower() not in _CROSS_ORIGIN_DROP]
                origin = _origin(target)
        raise ScriptRuntimeError(f"Too many redirects (more than {self.max_redirects}) from "
                                 f"{_safe_url(url)}")

    # ---- connection requests -----------------------------------------------------------
    def _send_for_connection(self, request: HttpRequest, ctx: Any, budget: float,
                             entry: dict[str, Any]) -> HttpResponse:
        link = request.connection or ""
        if self.registry is None:
            raise ScriptRuntimeError(f"Connection '{link}' cannot be used: no connection "
                                     "registry is configured in this runtime")
        grant = self.registry.grant(link)
        _SECRETS.set(grant.secrets)
        url = _full_url(request).strip()
        if url.startswith("/") and not url.startswith("//"):
            url = _on_connection_base(grant.bases, url, link)
        entry["url"] = _safe_url(url, grant.secrets)
        entry["token_generation"] = grant.generation
        base = grant.match(url)
        if base is None:
            allowed = ", ".join(str(b) for b in grant.bases)
            raise DestinationRefused(
                f"Connection '{link}' may only be used with {allowed}; refused "
                f"{_safe_url(url.split('?', 1)[0], grant.secrets)} (nothing was sent)")
        key = _idempotency(request, grant, ctx)
        if key is not None:
            entry["idempotency_key"] = key
        response = self._signed(request, url, base, grant, ctx, budget, key)
        if grant.rejected(response.status, response.body):
            renewed = self._refresh_once(link, grant, ctx, entry)
            if renewed is not None:
                grant = renewed
                _SECRETS.set(grant.secrets)
                entry["token_generation"] = grant.generation
                entry["retried"] = True
                response = self._signed(request, url, base, grant, ctx, budget, key)
        charset = _CHARSET.search(response.content_type)
        try:
            return HttpResponse(response.status,
                                {k: _scrub_text(v, grant.secrets)
                                 for k, v in response.headers.items()},
                                scrub_bytes(response.body, grant.secrets,
                                            charset.group(1) if charset else None),
                                _scrub_text(response.url, grant.secrets))
        except ScrubTimeout:
            raise ScriptRuntimeError(
                f"HTTP request to {entry['url']} failed: the response could not be checked "
                f"for echoed credentials within {BUDGET:g} s (too many escapes), so it was "
                "not delivered") from None

    def _refresh_once(self, link: str, grant: Any, ctx: Any, entry: dict[str, Any]
                      ) -> Any | None:
        """The grant to retry a rejected request with, or None. A script can make an API
        refuse (or echo the refresh marker) at will, so a run asks for at most one
        refresh per connection, and the registry refreshes a connection at most once
        per `min_refresh_interval` (across runs and nodes)."""
        if any(e.get("refresh") and e.get("connection") == link
               for e in getattr(ctx, "http_trace", ())):
            entry["refresh"] = "not asked: once per run"
            return None
        entry["refresh"] = "failed"  # stays so if the registry raises: not asked again
        renewed = self.registry.refresh_after_rejection(link, grant.generation)
        if renewed is None:
            entry["refresh"] = "not refreshable"
            return None
        if renewed.generation == grant.generation:
            entry["refresh"] = "refused: refreshed too recently"
            return None
        entry["refresh"] = "refreshed"
        return renewed

    def _signed(self, request: HttpRequest, url: str, base: BaseUrl, grant: Any, ctx: Any,
                budget: float, key: str | None = None) -> HttpResponse:
        outgoing = OutgoingRequest.from_request(request, url)
        link = grant.link_name
        if key is not None:
            outgoing.set_header(grant.idempotency_header, key)
        for _hop in range(self.max_redirects + 1):
            signed = outgoing.copy()
            grant.signer.sign(signed)
            transport = self._connected or self._pools.get(
                (link, grant.generation, grant.secrets))
            response = self._exchange(transport, signed, ctx, budget, grant.secrets)
            target = _redirect_target(response)
            if target is None:
                return response
            if not base.matches(target):
                raise DestinationRefused(
                    f"Connection '{link}': the API redirected to "
                    f"{_safe_url(target.split('?', 1)[0], grant.secrets)}, outside its base "
                    f"URL {base}; the redirect was not followed and no credentials were sent "
                    "there")
            outgoing = outgoing.redirected(response.status, target)
        raise ScriptRuntimeError(f"Too many redirects (more than {self.max_redirects}) for "
                                 f"connection '{link}'")

    # ---- one exchange ------------------------------------------------------------------
    def _exchange(self, transport: httpx.BaseTransport, out: OutgoingRequest, ctx: Any,
                  budget: float, secrets: tuple[str, ...]) -> HttpResponse:
        shown = _safe_url(out.url, secrets)
        deadline = _DEADLINE.get() or time.monotonic() + budget
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ScriptRuntimeError(f"HTTP request to {shown} timed out after {budget:g} s")
        try:
            built = _build(out, remaining)
            response = transport.handle_request(built)
            response.request = built
            try:
                body = self._read(response, ctx.limits.http_max_bytes, shown)
            finally:
                response.close()
        except httpx.TimeoutException:
            raise ScriptRuntimeError(f"HTTP request to {shown} timed out after "
                                     f"{budget:g} s") from None
        except httpx.ConnectError:
            raise ScriptRuntimeError(f"HTTP request to {shown} failed: could not "
                                     "connect") from None
        except httpx.RemoteProtocolError:
            raise ScriptRuntimeError(f"HTTP request to {shown} failed: the server sent an "
                                     "invalid response") from None
        except httpx.LocalProtocolError as exc:
            raise ScriptRuntimeError(f"HTTP request to {shown} could not be sent: "
                                     f"{_scrub_text(str(exc), secrets)}") from None
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError):
            raise ScriptRuntimeError(f"HTTP request to {shown} failed: the connection "
                                     "broke") from None
        headers: dict[str, str] = {}
        for key, value in response.headers.multi_items():
            name = key.lower()
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        return HttpResponse(response.status_code, headers, body, out.url)

    @staticmethod
    def _read(response: httpx.Response, cap: int, shown: str) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise LimitExceeded(f"HTTP response size limit of {cap} bytes exceeded by "
                                f"{shown}", limit="http_max_bytes")
        chunks: list[bytes] = []
        total = 0
        for chunk in response.iter_bytes():
            total += len(chunk)
            if total > cap:
                raise LimitExceeded(f"HTTP response size limit of {cap} bytes exceeded by "
                                    f"{shown}", limit="http_max_bytes")
            chunks.append(chunk)
        return b"".join(chunks)


_DEFAULT_HEADERS = (("User-Agent", "sluicegate"), ("Accept", "*/*"),
                    ("Accept-Encoding", "gzip, deflate"))


def _build(out: OutgoingRequest, remaining: float) -> httpx.Request:
    """The httpx request of one hop, with the default headers a client would add and
    the time left as every timeout of the exchange."""
    payload = out.payload()
    headers = list(out.headers)
    present = {k.lower() for k, _ in headers}
    headers.extend((k, v) for k, v in _DEFAULT_HEADERS if k.lower() not in present)
    # httpx would refuse a value outside ASCII with an exception; a script's "José" is
    # sent as UTF-8, as the vendor's runtime does.
    return httpx.Request(out.method, out.url,
                         headers=[(k.encode("ascii"), v.encode("utf-8")) for k, v in headers],
                         extensions={"timeout": {"connect": remaining, "read": remaining,
                                                 "write": remaining, "pool": remaining}},
                         **payload)


def _idempotency(request: HttpRequest, grant: Any, ctx: Any) -> str | None:
    """The idempotency key of this request, when its connection names a header for it
    and it belongs to a scheduled run: the same for this call whenever the occurrence
    runs again. A key the script set itself is kept (it knows its business better)."""
    header = getattr(grant, "idempotency_header", None)
    run_key = getattr(ctx, "run_key", None)
    if not header or not run_key:
        return None
    if any(name.lower() == header.lower() for name, _ in request.headers):
        return None
    return idempotency_key(run_key, ctx.http_calls)


def _on_connection_base(bases: tuple[BaseUrl, ...], path: str, link: str) -> str:
    """A path (`/books/v3/invoices?...`) on the connection's API: the origin of the first
    base URL whose path prefix it falls under, else appended to the first base URL."""
    concrete = [b for b in bases if not b.wildcard]
    bare = path.split("?", 1)[0].rstrip("/") + "/"
    for base in concrete:
        if not base.path or bare.startswith(base.path):
            return str(BaseUrl(base.scheme, base.host, base.port)).rstrip("/") + path
    if concrete:
        return str(concrete[0]).rstrip("/") + path
    raise DestinationRefused(f"Connection '{link}' has only wildcard base URLs; a path "
                             f"needs a full URL")


def _origin(url: str) -> tuple[str, str, int | None]:
    parsed = httpx.URL(url)
    return parsed.scheme, parsed.host, parsed.port


def _redirect_target(response: HttpResponse) -> str | None:
    if response.status not in _REDIRECTS:
        return None
    location = response.headers.get("location")
    if not location:
        return None
    return urljoin(response.url, location.strip())


@dataclass
class OutgoingRequest:
    """One hop of a request as it will be sent: the full URL (query included), headers,
    and either a raw body, form fields (url-encoded, or multipart with files) or nothing.
    Signers (sluicegate.connections.signers) change a copy of it in place."""

    method: str
    url: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | None = None
    form: list[tuple[str, str]] | None = None
    files: list[tuple[str, str, str, bytes]] = field(default_factory=list)

    @classmethod
    def from_request(cls, request: HttpRequest, url: str) -> OutgoingRequest:
        return cls(request.method.upper(), url, list(request.headers), request.body,
                   list(request.form) if request.form or request.files else None,
                   list(request.files))

    def copy(self) -> OutgoingRequest:
        return OutgoingRequest(self.method, self.url, list(self.headers), self.body,
                               None if self.form is None else list(self.form),
                               list(self.files))

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None

    def set_header(self, name: str, value: str) -> None:
        """Set a header, replacing any the script set under the same name."""
        lowered = name.lower()
        self.headers = [(k, v) for k, v in self.headers if k.lower() != lowered]
        self.headers.append((name, value))

    def add_query(self, pairs: list[tuple[str, str]]) -> None:
        if pairs:
            joiner = "" if self.url.endswith(("?", "&")) else ("&" if "?" in self.url
                                                               else "?")
            self.url = self.url + joiner + urlencode(pairs)

    def add_form(self, pairs: list[tuple[str, str]]) -> None:
        if self.body is not None:
            raise ScriptRuntimeError("The connection sends its key as a form field, but this "
                                     "request has a raw body; send the parameters as a MAP")
        if self.form is None and not self.files and self.method in _BODYLESS:
            raise ScriptRuntimeError(f"The connection sends its key as a form field, which a "
                                     f"{self.method} request cannot carry")
        self.form = [*(self.form or []), *pairs]

    def redirected(self, status: int, target: str) -> OutgoingRequest:
        """The next hop: 303 (and 301/302 after POST) become a GET without a body."""
        if status == 303 or (status in (301, 302) and self.method == "POST"):
            headers = [(k, v) for k, v in self.headers
                       if k.lower() not in ("content-type", "content-length")]
            return OutgoingRequest("HEAD" if self.method == "HEAD" else "GET", target,
                                   headers)
        moved = self.copy()
        moved.url = target
        return moved

    def payload(self) -> dict[str, Any]:
        """The httpx keyword arguments of the body."""
        if self.files:
            # httpx writes multipart/form-data with its boundary; a Content-Type the
            # script set (often plain "multipart/form-data") would hide the boundary.
            self.headers = [(k, v) for k, v in self.headers if k.lower() != "content-type"]
            data: dict[str, list[str]] = {}
            for key, value in self.form or []:
                data.setdefault(key, []).append(value)
            return {"files": [(name, (filename, content, ctype or "application/octet-stream"))
                              for name, filename, ctype, content in self.files],
                    "data": data}
        if self.form is not None:
            if self.header("content-type") is None:
                self.headers.append(("Content-Type", "application/x-www-form-urlencoded"))
            return {"content": urlencode(self.form).encode("utf-8")}
        if self.body is not None:
            return {"content": self.body}
        return {}
