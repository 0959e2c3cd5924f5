"""The broker of a test run: no request ever reaches the network.

Each request of a case is answered, in this order, by
1. a stub of the case or file (method + URL, optionally body paths) → status, headers, body
   or a transport error;
2. the cassette of the test file, when one was recorded (`sluice test --record`);
3. the fake Zoho service its path belongs to (`fakes.SERVICES`: CRM, Books);
4. otherwise nobody: the request is noted as unmatched, the script gets a runtime error,
   and the case fails naming the request, even if the script caught the error.

While recording, step 2 and 3 are replaced by the real broker (the connections registry
signs the request); what it answered goes to the cassette (see `cassettes`).
"""

from __future__ import annotations

__all__ = ["TestBroker", "Call"]

import json
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from ..errors import ScriptRuntimeError
from ..http.messages import HttpRequest, HttpResponse
from ..values import to_json_text
from .compare import PathMissing, get_path, same
from .fakes import FakeStore, request_json, request_query, service_for
from .spec import Stub, from_toml_value


@dataclass
class Call:
    """A request a script made outside the fake services (what `expect.http` checks)."""

    method: str
    url: str
    body: Any
    body_text: str | None
    connection: str | None
    answered_by: str


def full_url(request: HttpRequest) -> str:
    url = request.url
    if request.query:
        url += ("&" if "?" in url else "?") + urlencode(request.query)
    return url


def body_text(request: HttpRequest) -> str | None:
    if request.body is not None:
        return request.body.decode("utf-8", "replace")
    if request.form:
        return urlencode(request.form)
    return None


def _split(url: str) -> tuple[str, list[tuple[str, str]]]:
    base, _, query = url.partition("?")
    return base, sorted(parse_qsl(query, keep_blank_values=True))


def url_matches(pattern: str, url: str) -> bool:
    """A stub URL matches the same URL; without a query it matches any query; a trailing
    `*` matches any rest."""
    if pattern.endswith("*"):
        return url.startswith(pattern[:-1])
    want_base, want_query = _split(pattern)
    base, query = _split(url)
    if want_base.rstrip("/") != base.rstrip("/"):
        return False
    return "?" not in pattern or want_query == query


@dataclass
class TestBroker:
    __test__ = False  # not a pytest test class, whatever its name

    store: FakeStore
    stubs: list[Stub] = field(default_factory=list)
    cassette: Any = None  # cassettes.Replay
    recorder: Any = None  # cassettes.Recorder, with the real broker
    calls: list[Call] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)

    def send(self, request: HttpRequest, ctx: Any) -> HttpResponse:
        started = time.monotonic()
        url = full_url(request)
        entry: dict[str, Any] = {"method": request.method.upper(), "url": url,
                                 "status": None, "ms": 0.0, "connection": request.connection}
        try:
            response = self._answer(request, url, ctx)
            entry["status"] = response.status
            return response
        except ScriptRuntimeError as exc:
            entry["error"] = exc.message
            raise
        finally:
            entry["ms"] = round((time.monotonic() - started) * 1000, 1)
            if self.recorder is None:  # the real broker traces its own calls
                ctx.http_trace.append(entry)

    def _note(self, request: HttpRequest, url: str, by: str) -> None:
        self.calls.append(Call(request.method.upper(), url, request_json(request),
                               body_text(request), request.connection, by))

    def _answer(self, request: HttpRequest, url: str, ctx: Any) -> HttpResponse:
        method = request.method.upper()
        for stub in self.stubs:
            if stub.method == method and url_matches(stub.url, url) and \
                    self._body_matches(stub, request):
                self._note(request, url, f"stub on line {stub.line}")
                if stub.error is not None:
                    raise ScriptRuntimeError(stub.error)
                return _stub_response(stub, url)
        if self.recorder is not None:
            self._note(request, url, "the network (recording)")
            return self.recorder.send(request, url, ctx)  # type: ignore[no-any-return]
        if self.cassette is not None:
            answer = self.cassette.answer(method, url, body_text(request))
            if answer is not None:
                self._note(request, url, "cassette")
                return answer  # type: ignore[no-any-return]
        found = service_for(request)
        if found is not None:
            service, path = found
            answer = service.handle(method, path, request_query(request),
                                    request_json(request), self.store)
            headers = {"content-type": "application/json;charset=UTF-8"} \
                if answer.body is not None else {}
            return HttpResponse(answer.status, headers, answer.encoded(), url)
        shown = f"{method} {url}" + (f" (connection '{request.connection}')"
                                     if request.connection else "")
        self.unmatched.append(shown)
        raise ScriptRuntimeError(f"No stub answers {shown}; sluice test never uses the "
                                 "network (add an [[http]] stub or record a cassette)")

    @staticmethod
    def _body_matches(stub: Stub, request: HttpRequest) -> bool:
        if not stub.match_body:
            return True
        body = request_json(request)
        for path, wanted in stub.match_body.items():
            try:
                if not same(from_toml_value(wanted), get_path(body, path)):
                    return False
            except PathMissing:
                return False
        return True


def _stub_response(stub: Stub, url: str) -> HttpResponse:
    headers = {k.lower(): v for k, v in stub.headers.items()}
    body = from_toml_value(stub.body)
    if body is None:
        data = b""
    elif isinstance(body, str):
        data = body.encode("utf-8")
        headers.setdefault("content-type", "text/plain;charset=UTF-8")
    else:
        data = to_json_text(body).encode("utf-8")
        headers.setdefault("content-type", "application/json;charset=UTF-8")
    return HttpResponse(stub.status, headers, data, url)


def parse_json_text(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text, parse_float=Decimal)
    except ValueError:
        return None


def host_of(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""
