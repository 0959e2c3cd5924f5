"""Recorded HTTP: `sluice test --record` sends the selected cases' requests through the
real broker once and writes what came back to `NAME.cassette.json` beside the test file;
later runs replay it offline.

A cassette holds, per case in test-file order, each exchange in call order: the request
as the script built it (method, URL, connection name, body) and the response (status,
content type, body; decimals as written). Nothing secret can be in it:
- the request is taken *before* the connection signs it, so no token, key, password or
  Authorization header the connection adds ever reaches the recorder, and no request
  header is kept at all;
- of the response only `content-type`, `content-disposition` and `location` are kept;
- the broker has already replaced every credential value of the connection found in the
  response; the recorder replaces them again in the whole file (raw, URL- and
  JSON-escaped forms), and the values of secret-looking keys (`access_token`,
  `password`, `api_key`, ...) anywhere in a body.

The file is written to a temporary file beside it and renamed over it.
"""

from __future__ import annotations

__all__ = ["Cassette", "Replay", "Recorder", "load_cassette", "record_session"]

import json
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TextIO

from ..errors import ScriptRuntimeError
from ..http.messages import HttpRequest, HttpResponse
from ..values import to_json_text
from .compare import render
from .spec import SpecError, TestFile

FORMAT = 1
REDACTED = "[redacted]"
_KEPT_HEADERS = ("content-type", "content-disposition", "location")
_SECRET_KEY = re.compile(r"pass(word|wd|phrase)?$|secret|token|api[_-]?key|apikey|"
                         r"authorization|credential|private[_-]?key|access[_-]?key|"
                         r"^pwd$|signature|cookie|session", re.I)


def _parsed(text: str) -> tuple[Any, bool]:
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        try:
            return json.loads(stripped, parse_float=Decimal), True
        except ValueError:
            pass
    return text, False


def _redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: REDACTED if _SECRET_KEY.search(str(k)) and value[k] not in (None, "")
                else _redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v) for v in value]
    return value


@dataclass
class Replay:
    """The recorded exchanges of one case; each answers once, in order of recording."""

    exchanges: list[dict[str, Any]]
    used: set[int] = field(default_factory=set)

    def answer(self, method: str, url: str, body_text: str | None) -> HttpResponse | None:
        candidates = [i for i, x in enumerate(self.exchanges)
                      if x["request"]["method"] == method and x["request"]["url"] == url]
        fresh = [i for i in candidates if i not in self.used]
        if not candidates:
            return None
        pick = fresh[0] if fresh else candidates[-1]
        self.used.add(pick)
        response = self.exchanges[pick]["response"]
        if "error" in response:
            raise ScriptRuntimeError(str(response["error"]))
        body = response.get("body")
        if body is None:
            data = b""
        elif response.get("json"):
            data = to_json_text(body).encode("utf-8")
        else:
            data = str(body).encode("utf-8")
        return HttpResponse(int(response["status"]), dict(response.get("headers", {})), data,
                            url)


@dataclass
class Cassette:
    path: str
    cases: dict[str, list[dict[str, Any]]]

    def replay(self, case: str) -> Replay | None:
        exchanges = self.cases.get(case)
        return Replay(exchanges) if exchanges else None


def load_cassette(path: str) -> Cassette:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f, parse_float=Decimal)
    except ValueError as exc:
        raise SpecError(path, getattr(exc, "lineno", 1), f"not a valid cassette ({exc})") \
            from None
    if not isinstance(data, dict) or not isinstance(data.get("cases"), dict):
        raise SpecError(path, 1, "not a sluicegate cassette (no \"cases\" object)")
    for case, exchanges in data["cases"].items():
        if not isinstance(exchanges, list) or not all(_well_formed(x) for x in exchanges):
            raise SpecError(path, 1, f"case '{case}': each exchange needs a request with "
                            "method and url, and a response with a status or an error; "
                            "record it again with --record")
    return Cassette(path, data["cases"])


def _well_formed(exchange: Any) -> bool:
    if not isinstance(exchange, dict):
        return False
    request, response = exchange.get("request"), exchange.get("response")
    return (isinstance(request, dict) and isinstance(request.get("method"), str)
            and isinstance(request.get("url"), str) and isinstance(response, dict)
            and (isinstance(response.get("status"), int) or "error" in response)
            and isinstance(response.get("headers", {}), dict))


class Recorder:
    """Sends through the real broker and keeps each exchange of the case being recorded."""

    def __init__(self, broker: Any) -> None:
        self.broker = broker
        self.exchanges: list[dict[str, Any]] = []
        self.connections: set[str] = set()

    def send(self, request: HttpRequest, url: str, ctx: Any) -> HttpResponse:
        body_text = (request.body.decode("utf-8", "replace") if request.body is not None
                     else None)
        shown: dict[str, Any] = {"method": request.method.upper(), "url": url}
        if request.connection or request.implicit:
            shown["connection"] = request.connection or f"(the organization's {request.implicit})"
        if body_text is not None:
            body, is_json = _parsed(body_text)
            shown["body"] = _redact(body) if is_json else body
        try:
            response = self.broker.send(request, ctx)
        except ScriptRuntimeError as exc:
            self._keep(request, shown, {"error": exc.message})
            raise
        text = response.body.decode("utf-8", "replace")
        body, is_json = _parsed(text)
        kept = {k.lower(): v for k, v in response.headers.items()
                if k.lower() in _KEPT_HEADERS}
        self._keep(request, shown, {"status": response.status, "headers": kept,
                                    "json": is_json,
                                    "body": _redact(body) if is_json else (text or None)})
        return response

    def _keep(self, request: HttpRequest, shown: dict[str, Any],
              answer: dict[str, Any]) -> None:
        if request.connection:  # the broker names the implicit connection it chose
            self.connections.add(request.connection)
            shown["connection"] = request.connection
        self.exchanges.append({"request": shown, "response": answer})


def _secrets_of(broker: Any, links: set[str]) -> tuple[str, ...]:
    registry = getattr(broker, "registry", None)
    found: list[str] = []
    for link in sorted(links):
        try:
            found += list(registry.grant(link).secrets) if registry is not None else []
        except Exception:  # noqa: BLE001 - a connection that cannot grant added nothing
            continue
    return tuple(s for s in found if s)


def write_cassette(test: TestFile, recorded: dict[str, list[dict[str, Any]]],
                   secrets: tuple[str, ...]) -> None:
    """Merge the recorded cases into the test file's cassette (others are kept) and
    write it in test-file order."""
    from ..http.redaction import scrub_text

    existing = load_cassette(test.cassette_path).cases \
        if os.path.isfile(test.cassette_path) else {}
    merged = {**existing, **recorded}
    order = [c.name for c in test.cases if c.name in merged]
    order += [name for name in merged if name not in order]
    document = {"sluicegate_cassette": FORMAT,
                "test_file": os.path.basename(test.path),
                "cases": {name: merged[name] for name in order}}
    text = render(document) + "\n"
    # every encoding of every secret the connections hold (JSON-escaped, base64, ...);
    # a cassette is written once, so it may take longer than a response's budget
    text = scrub_text(text, secrets, deadline=time.monotonic() + 60)
    folder = os.path.dirname(os.path.abspath(test.cassette_path))
    fd, temp = tempfile.mkstemp(prefix=".sluice-cassette-", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(temp, test.cassette_path)
    except BaseException:
        os.unlink(temp)
        raise


def record_session(session: Any, out: TextIO, broker: Any = None) -> int:
    """Run the selected cases through the real broker (the connections registry of this
    machine unless one is given) and write their cassettes; returns exchanges recorded."""
    from .runner import run_case
    from .session import selected

    owned = broker is None
    if broker is None:
        from ..connections.setup import broker_for_cli
        broker = broker_for_cli()
    total = 0
    try:
        for test in session.files:
            recorded: dict[str, list[dict[str, Any]]] = {}
            links: set[str] = set()
            for case in test.cases:
                if not selected(case, session.pattern):
                    continue
                recorder = Recorder(broker)
                run_case(test, case, session.sources[test.script_path], recorder=recorder)
                if recorder.exchanges:
                    recorded[case.name] = recorder.exchanges
                    links |= recorder.connections
                for x in recorder.exchanges:
                    if "error" in x["response"]:
                        out.write(f"{test.path}:{case.line}: case '{case.name}': "
                                  f"{x['request']['method']} {x['request']['url']} failed "
                                  f"while recording (kept as the answer): "
                                  f"{x['response']['error']}\n")
            if recorded:
                inner = getattr(broker, "_broker", broker)
                write_cassette(test, recorded, _secrets_of(inner, links))
                count = sum(len(x) for x in recorded.values())
                total += count
                out.write(f"{test.cassette_path}: recorded {count} exchange(s) of "
                          f"{len(recorded)} case(s)\n")
    finally:
        if owned:
            close = getattr(broker, "close", None)
            if close is not None:
                close()
    return total
