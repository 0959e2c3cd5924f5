"""Fixtures of the connection tests: real loopback servers, a registry per test, and the
session-wide record of every secret and every output, for the final leak grep.

    provider   sluicegate.examples.provider.LocalProvider (OAuth 2 + Books-like API)
    lab        LabServer below: verifies OAuth 1, API keys and Basic server-side, echoes,
               redirects, drips slowly, sends big bodies; records every request it got
    registry   a Registry on a fresh SQLite file with a fresh key ring
    shared_db  (url, schema) of a database several registries share: SQLite, PostgreSQL
    leaks      secrets handed out and outputs produced during the session
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import logging
import os
import secrets
import shutil
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from sqlalchemy import MetaData, select, text

from sluicegate.connections.keyring import Keyring, generate_key
from sluicegate.connections.registry import Registry
from sluicegate.engine import RunResult, Runtime
from sluicegate.examples.provider import LocalProvider
from sluicegate.http.broker import Broker
from sluicegate.http.guard import HostPolicy
from sluicegate.store.db import make_engine
from sluicegate.store.migrate import upgrade


# ---- the session record of secrets and outputs ---------------------------------------
@dataclass
class Leaks:
    """Every secret value the tests create, and every text the system produced."""

    secrets: set[str] = field(default_factory=set)
    outputs: list[str] = field(default_factory=list)
    databases: list[str] = field(default_factory=list)

    def secret(self, value: str) -> str:
        self.secrets.add(value)
        return value

    def output(self, text: str) -> None:
        self.outputs.append(text)


class _Capture(logging.Handler):
    def __init__(self, leaks: Leaks) -> None:
        super().__init__(logging.DEBUG)
        self.leaks = leaks

    def emit(self, record: logging.LogRecord) -> None:
        self.leaks.output(self.format(record))


_LEAKS = Leaks()


@pytest.fixture(scope="session")
def leaks() -> Iterator[Leaks]:
    """Session-wide: logs of every logger at DEBUG are captured for the grep."""
    handler = _Capture(_LEAKS)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield _LEAKS
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def dump_database(url: str) -> str:
    """Every row of every table, as text (what a backup or an admin query would show)."""
    engine = make_engine(url)
    try:
        meta = MetaData()
        meta.reflect(engine)
        lines = []
        with engine.connect() as conn:
            for table in meta.sorted_tables:
                for row in conn.execute(select(table)):
                    lines.append(f"{table.name}: {tuple(row)!r}")
        return "\n".join(lines)
    finally:
        engine.dispose()


# ---- servers -------------------------------------------------------------------------
def _enc(text: str) -> str:
    return quote(text, safe="~-._")


def verify_oauth1(method: str, url: str, headers: dict[str, str], body: bytes,
                  consumer_secret: str, token_secret: str) -> bool:
    """RFC 5849 HMAC-SHA1 verification written from the RFC, independent of authlib."""
    header = headers.get("Authorization", "")
    if not header.startswith("OAuth "):
        return False
    oauth = {}
    for part in header[6:].split(","):
        key, _, value = part.strip().partition("=")
        oauth[key] = unquote_rfc(value.strip('"'))
    signature = oauth.pop("oauth_signature", "")
    oauth.pop("realm", None)
    parts = urlsplit(url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    if "application/x-www-form-urlencoded" in headers.get("Content-Type", ""):
        params += parse_qsl(body.decode(), keep_blank_values=True)
    params += list(oauth.items())
    normalized = "&".join(f"{k}={v}" for k, v in sorted((_enc(k), _enc(v))
                                                           for k, v in params))
    base_uri = f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path or '/'}"
    base = "&".join([method.upper(), _enc(base_uri), _enc(normalized)])
    key = f"{_enc(consumer_secret)}&{_enc(token_secret)}"
    expected = base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha1).digest())
    return hmac.compare_digest(expected.decode(), signature)


def unquote_rfc(text: str) -> str:
    from urllib.parse import unquote

    return unquote(text)


@dataclass
class LabRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    peer: int = 0  # the client's port: which kept-alive connection carried the request


class _LabHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True
    server: _LabServer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def _reply(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        if "Content-Type" not in (headers or {}):
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _route(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        lab = self.server.lab
        headers = dict(self.headers.items())
        lab.requests.append(LabRequest(self.command, self.path, headers, body,
                                       self.client_address[1]))
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        path = parts.path
        if path.startswith("/oauth1/"):
            url = f"http://{headers.get('Host')}{self.path}"
            ok = verify_oauth1(self.command, url, headers, body, lab.consumer_secret,
                               lab.token_secret)
            return self._reply(200 if ok else 401, {"verified": ok})
        if path.startswith("/key/"):
            form = dict(parse_qsl(body.decode(), keep_blank_values=True))
            found = {"header": headers.get("X-Api-Key"), "query": query.get("api_key"),
                     "form": form.get("api_key")}
            where = [k for k, v in found.items() if v == lab.api_key]
            return self._reply(200 if where else 401, {"where": where,
                                                       "form_fields": sorted(form)})
        if path.startswith("/basic/"):
            expected = base64.b64encode(f"{lab.username}:{lab.password}".encode()).decode()
            ok = headers.get("Authorization") == f"Basic {expected}"
            return self._reply(200 if ok else 401, {"ok": ok})
        if path.startswith("/echo"):
            auth = headers.get("Authorization", "")
            return self._reply(200, {"you_sent": auth, "query": query,
                                     "cookie": headers.get("Cookie"),
                                     "content_type": headers.get("Content-Type"),
                                     "body": body.decode("utf-8", "replace")},
                               {"X-Echo-Auth": auth})
        if path.startswith("/reflect"):
            # a careless API quoting the credential it got, in the encoding asked for
            secret = headers.get("X-Api-Key") or headers.get("Authorization", "")
            if secret.startswith("Basic "):
                secret = base64.b64decode(secret[6:]).decode()  # user:password
            data, ctype = reflect(secret, query.get("how", "raw"))
            if "redirect" in query:
                self.send_response(302)
                self.send_header("Location", "https://elsewhere.example/cb/"
                                 + data.decode("latin-1"))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            return self._reply(200, data, {"Content-Type": ctype})
        if path.startswith("/file"):
            return self._reply(200, b"%PDF-1.4 \x00\xff binary", {
                "Content-Type": "application/pdf",
                "Content-Disposition": 'attachment; filename="invoice-7.pdf"'})
        if path.startswith("/latin1"):
            self.send_response(200)
            data = "café crème".encode("latin-1")
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return None
        if path.startswith("/cookie"):
            return self._reply(200, {"set": True}, {"Set-Cookie": "sid=run-one; Path=/"})
        if path.startswith("/redirect"):
            self.send_response(int(query.get("status", "302")))
            self.send_header("Location", query.get("to", "/"))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if path.startswith("/slow"):
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            for _ in range(100):
                try:
                    self.wfile.write(b"x")
                    self.wfile.flush()
                except OSError:
                    return None
                time.sleep(0.05)
            return None
        if path.startswith("/big"):
            size = int(query.get("n", "1000"))
            self.send_response(200)
            if "chunked" not in query:
                self.send_header("Content-Length", str(size))
            else:
                self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            if "chunked" in query:
                chunk = b"y" * 4096
                sent = 0
                while sent < size:
                    piece = chunk[:min(4096, size - sent)]
                    self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                    sent += len(piece)
                self.wfile.write(b"0\r\n\r\n")
            else:
                self.wfile.write(b"y" * size)
            return None
        if path.startswith("/status/"):
            return self._reply(int(path.rsplit("/", 1)[1]), {"status": path})
        return self._reply(200, {"ok": True, "path": path})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _route


def _escape_all(text: str) -> str:
    return "".join(f"\\u{ord(c):04x}" for c in text)


def reflect(secret: str, how: str) -> tuple[bytes, str]:
    """`secret` quoted in a JSON document, encoded the way `how` names."""
    half = len(secret) // 2
    doc = '{"you_sent": "%s"}'
    texts = {
        "raw": doc % secret,
        "json_all": doc % _escape_all(secret),
        "gson": doc % "".join(f"\\u{ord(c):04x}" if c in "=<>&'" else c for c in secret),
        "split": doc % (secret[:half] + _escape_all(secret[half:half + 2])
                        + secret[half + 2:]),
        "html": html.escape(secret),
        "html_decimal": "".join(f"&#{ord(c)};" for c in secret),
        "html_hex": "".join(f"&#x{ord(c):X}" for c in secret),
        "url": quote(secret, safe=""),
        "url_lower": "".join(f"%{b:02x}" for b in secret.encode()),
        "url_twice": quote(quote(secret, safe=""), safe=""),
        "url_in_json": doc % quote(secret, safe="").replace("%", "\\u0025"),
        "b64": base64.b64encode(secret.encode()).decode(),
        "b64_nopad": base64.b64encode(secret.encode()).decode().rstrip("="),
        "b64url": base64.urlsafe_b64encode(secret.encode()).decode(),
        "b64url_nopad": base64.urlsafe_b64encode(secret.encode()).decode().rstrip("="),
        "b64_inside": base64.b64encode((doc % secret).encode()).decode(),
        "b64_inside_shifted": base64.b64encode(("x" + doc % secret).encode()).decode(),
        "b64_wrapped": "\r\n".join(
            textwrap.wrap(base64.b64encode(("--" + doc % secret).encode()).decode(), 16)),
    }
    wide = {"utf16": ("utf-16", "application/json; charset=UTF-16"),
            "utf16be": ("utf-16-be", "application/json; charset=UTF-16BE"),
            "utf16_undeclared": ("utf-16-le", "application/octet-stream"),
            "utf32": ("utf-32", "application/json; charset=UTF-32")}
    if how in wide:
        encoding, ctype = wide[how]
        return (doc % secret).encode(encoding), ctype
    return texts[how].encode(), "text/plain; charset=utf-8"


REFLECTIONS = ["raw", "json_all", "gson", "split", "html", "html_decimal", "html_hex", "url",
               "url_lower", "url_twice", "url_in_json", "b64", "b64_nopad", "b64url",
               "b64url_nopad", "b64_inside", "b64_inside_shifted", "b64_wrapped", "utf16",
               "utf16be", "utf16_undeclared", "utf32"]


class _LabServer(ThreadingHTTPServer):
    daemon_threads = True
    lab: LabServer


class LabServer:
    """An API that checks credentials itself and records what reached it."""

    def __init__(self, leaks: Leaks) -> None:
        self.consumer_secret = leaks.secret("cs_" + secrets.token_urlsafe(16))
        self.token_secret = leaks.secret("ts_" + secrets.token_urlsafe(16))
        self.api_key = leaks.secret("ak_" + secrets.token_urlsafe(16))
        self.username = "lab-user"
        self.password = leaks.secret("pw_" + secrets.token_urlsafe(16))
        self.requests: list[LabRequest] = []
        self._server = _LabServer(("127.0.0.1", 0), _LabHandler)
        self._server.lab = self
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    def start(self) -> LabServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def lab(leaks: Leaks) -> Iterator[LabServer]:
    server = LabServer(leaks).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def provider(leaks: Leaks) -> Iterator[LocalProvider]:
    server = LocalProvider(access_ttl=3600)
    leaks.secret(server.client_secret)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        for bucket in (server.state.access, server.state.refresh):
            leaks.secrets.update(bucket)


# ---- a database several processes share ----
def _postgres_url() -> str | None:
    """The test server (`SLUICE_TEST_POSTGRES_URL`, else 127.0.0.1:5432 database `test`
    as postgres or root), or None when it cannot be reached."""
    try:
        import psycopg
    except ImportError:
        return None
    given = os.environ.get("SLUICE_TEST_POSTGRES_URL")
    candidates = [given] if given else [f"postgresql://{user}@127.0.0.1:5432/test"
                                        for user in ("postgres", "root")]
    for url in candidates:
        try:
            with psycopg.connect(url, connect_timeout=2):
                return url
        except psycopg.Error:
            continue
    return None


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_db(request: pytest.FixtureRequest, tmp_path: Path, leaks: Leaks
              ) -> Iterator[tuple[str, str]]:
    """(url, schema) of a database two processes (or registries) share: a SQLite file,
    and PostgreSQL in a fresh schema (dropped afterwards)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'shared.db'}"
        leaks.databases.append(url)
        yield url, "-"
        return
    url = _postgres_url()
    if url is None:
        pytest.skip("PostgreSQL is not reachable (SLUICE_TEST_POSTGRES_URL, else "
                    "127.0.0.1:5432 database 'test'), or psycopg is not installed: the "
                    "shared-database refresh was checked on SQLite only")
    schema = f"sg_conn_{uuid.uuid4().hex[:10]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield url, schema
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()



# ---- registry, broker, runs ----------------------------------------------------------
@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file per session; each test gets a copy (migrations are slow)."""
    path = tmp_path_factory.mktemp("template") / "sluicegate.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture
def db_url(tmp_path: Path, migrated_template: Path, leaks: Leaks) -> str:
    target = tmp_path / "sluicegate.db"
    shutil.copyfile(migrated_template, target)
    url = f"sqlite:///{target}"
    leaks.databases.append(url)
    return url


@pytest.fixture
def keyring(leaks: Leaks) -> Keyring:
    return Keyring.from_texts([leaks.secret(generate_key())])


class Clock:
    """A wall clock the tests can move forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def registry(db_url: str, keyring: Keyring, clock: Clock, leaks: Leaks) -> Iterator[Registry]:
    engine = make_engine(db_url)
    reg = Registry(engine, keyring, clock=clock, actor="tests")
    try:
        yield reg
    finally:
        reg.close()
        engine.dispose()
        leaks.output(dump_database(db_url))


@pytest.fixture
def broker(registry: Registry) -> Iterator[Broker]:
    """A broker with no local hosts allowed for plain requests (the production default)."""
    b = Broker(registry, policy=HostPolicy())
    try:
        yield b
    finally:
        b.close()


class Runner:
    """Runs scripts with a broker and keeps every result for the leak grep."""

    def __init__(self, broker: Broker, leaks: Leaks, system: dict[str, Any] | None = None
                 ) -> None:
        self.runtime = Runtime(broker=broker, system=system or {})
        self.leaks = leaks

    def __call__(self, source: str, inputs: dict[str, Any] | None = None) -> RunResult:
        result = self.runtime.run(source, inputs or {})
        self.leaks.output(result.to_json_text())
        return result


@pytest.fixture
def run(broker: Broker, leaks: Leaks) -> Runner:
    return Runner(broker, leaks)


def add_oauth2(registry: Registry, provider: LocalProvider, link: str = "zb",
               **extra: Any) -> None:
    options: dict[str, Any] = {
        "client_id": provider.client_id, "authorize_url": provider.authorize_url,
        "token_url": provider.token_url, "revoke_url": provider.revoke_url,
        "base_urls": [provider.api_base], "scopes": ["ZohoBooks.invoices.ALL"],
        "scope_delimiter": ",", "header_format": "Zoho-oauthtoken {token}"}
    options.update(extra)
    registry.add(link, "oauth2", secret=provider.client_secret, **options)


def authorize(registry: Registry, provider: LocalProvider, link: str = "zb") -> None:
    start = registry.begin_authorization(link, "http://127.0.0.1:9/oauth/callback")
    answer = dict(parse_qsl(urlsplit(provider.approve(start.url)).query))
    assert answer["state"] == start.state
    registry.complete_authorization(answer["state"], answer["code"])


@pytest.fixture
def connected(registry: Registry, provider: LocalProvider) -> str:
    """An authorized OAuth 2 connection 'zb' bound to the provider's API."""
    add_oauth2(registry, provider)
    authorize(registry, provider)
    return "zb"
