"""A local OAuth 2 provider with small Books-like and CRM-like APIs on loopback, for
`sluice demo` and the tests (standard library only: http.server in a thread).

    with LocalProvider(access_ttl=3600) as provider:
        provider.authorize_url, provider.token_url, provider.revoke_url, provider.api_base
        location = provider.approve(authorization_url)   # what a user's "Accept" does

The provider implements the authorization code grant with PKCE (S256 required) and
state, client credentials, refresh tokens that rotate on every use (a used refresh token
is `invalid_grant` afterwards; `rotate_refresh=False` keeps them, like Zoho), RFC 7009
revocation, and client authentication in the body or with HTTP Basic. The APIs check
`Authorization: Zoho-oauthtoken <token>` (or `Bearer`) like Zoho's and answer 401 for a
missing, unknown or expired token: `/books/v3/invoices` (list, get, create, update) and
`/crm/v2/{module}` (list, get, search, create, update, related records). `/echo`
reflects the request it received, token included (`?encode=` base64, json-escaped,
utf-16 or url re-encodes it), which is what the broker's response scrubbing is for. Faults for the tests: `set_token_delay`, `set_token_fault`, and
`go_down` / `come_back` (connections refused, then served again on the same port).
"""

from __future__ import annotations

__all__ = ["LocalProvider", "INVOICES", "CRM_RECORDS"]

import base64
import copy
import hashlib
import json
import re
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit
from urllib.request import HTTPRedirectHandler, Request, build_opener

INVOICES: list[dict[str, Any]] = [
    {"invoice_id": "90001", "invoice_number": "INV-00001", "customer_name": "Zylker Corp",
     "status": "overdue", "total": 1250.0, "balance": 1250.0, "due_date": "2024-01-15",
     "reference_number": ""},
    {"invoice_id": "90002", "invoice_number": "INV-00002", "customer_name": "Acme Ltd",
     "status": "sent", "total": 480.5, "balance": 480.5, "due_date": "2024-03-01",
     "reference_number": ""},
    {"invoice_id": "90003", "invoice_number": "INV-00003", "customer_name": "Globex",
     "status": "overdue", "total": 99.99, "balance": 49.99, "due_date": "2024-02-10",
     "reference_number": ""},
]


CRM_RECORDS: dict[str, dict[str, dict[str, Any]]] = {
    "Leads": {
        "4001": {"id": "4001", "Last_Name": "Patel", "Company": "Zylker", "Email":
                 "patel@zylker.example", "Lead_Status": "Contacted"},
        "4002": {"id": "4002", "Last_Name": "Ng", "Company": "Acme", "Email":
                 "ng@acme.example", "Lead_Status": "New"},
    },
    "Notes": {
        "4101": {"id": "4101", "Parent_Id": "4001", "Note_Title": "Call back"},
    },
}


@dataclass
class _State:
    """Everything the provider and the API remember; guarded by `lock`."""

    client_id: str
    client_secret: str
    access_ttl: float
    client_auth: tuple[str, ...]
    clock: Callable[[], float]
    lock: threading.Lock = field(default_factory=threading.Lock)
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    access: dict[str, dict[str, Any]] = field(default_factory=dict)
    refresh: dict[str, dict[str, Any]] = field(default_factory=dict)
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=lambda: {
        "authorization_code": 0, "refresh_token": 0, "client_credentials": 0,
        "revoke": 0, "api": 0, "api_unauthorized": 0, "token_requests": 0})
    token_delay: float = 0.0
    token_fault: str | None = None
    rejection: tuple[int, dict[str, Any]] = (401, {
        "code": 57, "message": "You are not authorized to perform this operation"})
    rotate_refresh: bool = True
    crm: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    next_id: int = 5000


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # One write per response and no Nagle delay: keep-alive exchanges stay sub-millisecond.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the demo prints its own story and tests read the counters."""

    # ---- plumbing ----------------------------------------------------------------------
    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None
              ) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _echo(self, payload: dict[str, Any], encode: str) -> None:
        """The request reflected, encoded as `encode` names (as careless APIs quote what
        they received): base64, json-escaped (every character \\uXXXX), utf-16, url."""
        text = json.dumps(payload)
        if encode == "json-escaped":
            text = re.sub(r'"((?:[^"\\]|\\.)*)"', lambda m: '"' + "".join(
                f"\\u{ord(c):04x}" for c in json.loads(m.group(0))) + '"', text)
        data, ctype = text.encode(), "application/json;charset=UTF-8"
        if encode == "base64":
            data, ctype = base64.b64encode(data), "text/plain"
        elif encode == "utf-16":
            data, ctype = text.encode("utf-16"), "application/json;charset=UTF-16"
        elif encode == "url":
            data, ctype = quote(text, safe="").encode(), "text/plain"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _route(self) -> None:
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        body = self._body()
        state = self.server.state
        path = parts.path
        if path == "/oauth/authorize" and self.command == "GET":
            return self._authorize(state, query)
        if path == "/oauth/token" and self.command == "POST":
            return self._token(state, body)
        if path == "/oauth/revoke" and self.command == "POST":
            return self._revoke(state, body, query)
        if path == "/redirect":
            target = query.get("to", "/")
            self.send_response(int(query.get("status", "302")))
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if path.startswith("/books/v3/") or path == "/echo":
            return self._api(state, path, query, body)
        if path.startswith("/crm/v2/"):
            return self._crm(state, path, query, body)
        return self._send(404, {"code": 404, "message": "Not found"})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _route

    # ---- OAuth 2 -----------------------------------------------------------------------
    def _authorize(self, state: _State, query: dict[str, str]) -> None:
        redirect_uri = query.get("redirect_uri", "")
        if query.get("client_id") != state.client_id or not redirect_uri:
            return self._send(400, {"error": "invalid_client"})
        if query.get("response_type") != "code" or query.get("code_challenge_method") != "S256" \
                or not query.get("code_challenge"):
            error = {"error": "invalid_request", "state": query.get("state", "")}
            return self._redirect(redirect_uri, error)
        code = "sgac_" + secrets.token_urlsafe(18)
        with state.lock:
            state.codes[code] = {"challenge": query["code_challenge"],
                                 "redirect_uri": redirect_uri,
                                 "scope": query.get("scope", ""),
                                 "expires": state.clock() + 300}
        return self._redirect(redirect_uri, {"code": code, "state": query.get("state", ""),
                                             "location": "us",
                                             "accounts-server": self.server.base_url})

    def _redirect(self, uri: str, params: dict[str, str]) -> None:
        self.send_response(302)
        self.send_header("Location", uri + ("&" if "?" in uri else "?") + urlencode(params))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _client_ok(self, state: _State, form: dict[str, str]) -> bool:
        header = self.headers.get("Authorization", "")
        if header.startswith("Basic ") and "basic" in state.client_auth:
            pair = base64.b64decode(header[6:]).decode()
            cid, _, secret = pair.partition(":")
            return unquote(cid) == state.client_id and unquote(secret) == state.client_secret
        if "client_secret" in form and "post" in state.client_auth:
            return (form.get("client_id") == state.client_id
                    and form.get("client_secret") == state.client_secret)
        return False

    def _issue(self, state: _State, scope: str, with_refresh: bool) -> dict[str, Any]:
        access = "sgat_" + secrets.token_urlsafe(24)
        state.access[access] = {"expires": state.clock() + state.access_ttl, "scope": scope}
        tokens: dict[str, Any] = {"access_token": access, "token_type": "Bearer",
                                  "expires_in": int(state.access_ttl), "scope": scope,
                                  "api_domain": self.server.base_url}
        if with_refresh:
            refresh = "sgrt_" + secrets.token_urlsafe(24)
            state.refresh[refresh] = {"scope": scope}
            tokens["refresh_token"] = refresh
        return tokens

    def _token(self, state: _State, body: bytes) -> None:
        form = dict(parse_qsl(body.decode(), keep_blank_values=True))
        with state.lock:
            state.counts["token_requests"] += 1
        if state.token_delay:
            time.sleep(state.token_delay)
        if state.token_fault and self._fault(state.token_fault, form):
            return None
        if not self._client_ok(state, form):
            return self._send(401, {"error": "invalid_client"})
        grant = form.get("grant_type", "")
        with state.lock:
            if grant == "authorization_code":
                entry = state.codes.pop(form.get("code", ""), None)
                if entry is None or entry["expires"] < state.clock() or \
                        entry["redirect_uri"] != form.get("redirect_uri"):
                    return self._send(400, {"error": "invalid_grant"})
                verifier = form.get("code_verifier", "")
                digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                if digest.decode().rstrip("=") != entry["challenge"]:
                    return self._send(400, {"error": "invalid_grant",
                                            "error_description": "PKCE verification failed"})
                state.counts["authorization_code"] += 1
                return self._send(200, self._issue(state, entry["scope"], True))
            if grant == "refresh_token":
                presented = form.get("refresh_token", "")
                entry = (state.refresh.pop(presented, None) if state.rotate_refresh
                         else state.refresh.get(presented))
                if entry is None:
                    return self._send(400, {"error": "invalid_grant"})
                state.counts["refresh_token"] += 1
                return self._send(200, self._issue(state, entry["scope"],
                                                   state.rotate_refresh))
            if grant == "client_credentials":
                state.counts["client_credentials"] += 1
                return self._send(200, self._issue(state, form.get("scope", ""), False))
        return self._send(400, {"error": "unsupported_grant_type"})

    def _fault(self, fault: str, form: dict[str, str]) -> bool:
        """A broken token endpoint, as `set_token_fault` chose; True when it answered."""
        if fault == "error_500":
            self._send(500, b"<html><body>Internal Server Error</body></html>",
                       {"Content-Type": "text/html"})
        elif fault == "server_error":
            self._send(503, {"error": "temporarily_unavailable",
                             "error_description": "try again later"})
        elif fault == "invalid_json":
            self._send(200, b'{"access_token": "sgat_trunc')
        elif fault == "echo":  # a careless provider quoting what it was sent
            self._send(400, {"error": "invalid_request", "error_description":
                             f"bad request {form.get('refresh_token', '')} "
                             f"{form.get('client_secret', '')}"})
        elif fault == "drip":  # headers at once, then the body a byte at a time
            data = json.dumps({"access_token": "sgat_never", "expires_in": 3600}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            for i in range(len(data)):
                try:
                    self.wfile.write(data[i:i + 1])
                    self.wfile.flush()
                except OSError:
                    break
                time.sleep(0.1)
        else:
            return False
        return True

    def _revoke(self, state: _State, body: bytes, query: dict[str, str]) -> None:
        form = dict(parse_qsl(body.decode(), keep_blank_values=True))
        token = form.get("token") or query.get("token", "")
        with state.lock:
            state.counts["revoke"] += 1
            state.refresh.pop(token, None)
            state.access.pop(token, None)
        return self._send(200, {"status": "success"})

    # ---- the API -----------------------------------------------------------------------
    def _token_of_request(self, query: dict[str, str]) -> str:
        header = self.headers.get("Authorization", "")
        for scheme in ("Zoho-oauthtoken ", "Bearer "):
            if header.startswith(scheme):
                return header[len(scheme):]
        return query.get("access_token", "")

    def _api(self, state: _State, path: str, query: dict[str, str], body: bytes) -> None:
        token = self._token_of_request(query)
        with state.lock:
            entry = state.access.get(token)
            valid = entry is not None and entry["expires"] > state.clock()
            state.counts["api" if valid else "api_unauthorized"] += 1
        if path == "/echo":
            return self._echo({"method": self.command, "path": path, "query": query,
                               "headers": dict(self.headers.items()),
                               "body": body.decode("utf-8", "replace")},
                              query.get("encode", ""))
        if not valid:
            return self._send(*state.rejection)
        rest = path[len("/books/v3/"):].strip("/").split("/")
        if rest == ["organizations"]:
            return self._send(200, {"code": 0, "message": "success", "organizations": [
                {"organization_id": "10234695", "name": "Zylker Demo", "currency_code": "USD"}]})
        if rest[0] != "invoices":
            return self._send(404, {"code": 5, "message": "Invalid URL Passed"})
        if "organization_id" not in query:
            return self._send(400, {"code": 6041, "message": "organization_id is required"})
        with state.lock:
            if len(rest) == 1 and self.command == "POST":
                try:
                    fields = json.loads(body or b"{}")
                except ValueError:
                    return self._send(400, {"code": 4, "message": "Invalid JSON"})
                state.next_id += 1
                invoice = {"invoice_id": str(state.next_id), "status": "draft",
                           "reference_number": "", **fields}
                state.invoices[invoice["invoice_id"]] = invoice
                return self._send(201, {"code": 0, "message": "The invoice has been created.",
                                        "invoice": copy.deepcopy(invoice)})
            if len(rest) == 1 and self.command == "GET":
                found = [copy.deepcopy(i) for i in state.invoices.values()
                         if not query.get("status") or i["status"] == query["status"]]
                return self._send(200, {"code": 0, "message": "success", "invoices": found})
            if len(rest) == 2 and rest[1] in state.invoices:
                invoice = state.invoices[rest[1]]
                if self.command == "GET":
                    return self._send(200, {"code": 0, "message": "success",
                                            "invoice": copy.deepcopy(invoice)})
                if self.command == "PUT":
                    try:
                        changes = json.loads(body or b"{}")
                    except ValueError:
                        return self._send(400, {"code": 4, "message": "Invalid JSON"})
                    invoice.update({k: v for k, v in changes.items() if k != "invoice_id"})
                    return self._send(200, {"code": 0, "message": "Invoice information has "
                                            "been updated.", "invoice": copy.deepcopy(invoice)})
        return self._send(404, {"code": 1002, "message": "Invoice does not exist."})

    # ---- a CRM-like API (Zoho CRM v2 shapes) -------------------------------------------
    def _crm(self, state: _State, path: str, query: dict[str, str], body: bytes) -> None:
        token = self._token_of_request(query)
        with state.lock:
            entry = state.access.get(token)
            valid = entry is not None and entry["expires"] > state.clock()
            state.counts["api" if valid else "api_unauthorized"] += 1
        if not valid:
            return self._send(401, {"code": "INVALID_TOKEN", "status": "error",
                                    "message": "invalid oauth token"})
        rest = [unquote(p) for p in path[len("/crm/v2/"):].strip("/").split("/")]
        if rest[:2] == ["settings", "variables"] and len(rest) == 3 and self.command == "GET":
            variables = {"Discount_Rate": "12.5", "Region": "EMEA"}
            if rest[2] not in variables:
                return self._send(404, {"code": "INVALID_DATA", "status": "error",
                                        "message": "the variable does not exist"})
            return self._send(200, {"variables": [{"api_name": rest[2],
                                                   "value": variables[rest[2]]}]})
        with state.lock:
            records = state.crm.setdefault(rest[0], {})
            if len(rest) == 1 and self.command == "GET":
                found = list(records.values())
                page, per_page = int(query.get("page", "1")), int(query.get("per_page", "200"))
                chunk = found[(page - 1) * per_page:page * per_page]
                return self._send(200, {"data": copy.deepcopy(chunk), "info": {
                    "page": page, "per_page": per_page, "count": len(chunk),
                    "more_records": len(found) > page * per_page}})
            if len(rest) in (1, 2) and self.command in ("POST", "PUT"):
                try:
                    data = json.loads(body or b"{}")["data"]
                except (ValueError, KeyError, TypeError):
                    return self._send(400, {"data": [{"code": "INVALID_DATA",
                                                      "status": "error"}]})
                answers = []
                for fields in data:
                    if len(rest) == 2:
                        if rest[1] not in records:
                            return self._send(404, {"data": [{"code": "INVALID_DATA",
                                                              "status": "error",
                                                              "message": "the id given "
                                                              "seems to be invalid"}]})
                        records[rest[1]].update(fields)
                        record_id, action = rest[1], "record updated"
                    else:
                        state.next_id += 1
                        record_id, action = str(state.next_id), "record added"
                        records[record_id] = {"id": record_id, **fields}
                    answers.append({"code": "SUCCESS", "status": "success",
                                    "message": action, "details": {"id": record_id}})
                return self._send(201 if len(rest) == 1 else 200, {"data": answers})
            if len(rest) == 2 and rest[1] == "search":
                field_name, _, value = query.get("criteria", "").strip("()").partition(
                    ":equals:")
                found = [r for r in records.values() if str(r.get(field_name)) == value]
                if not found:
                    return self._send(204, b"")
                return self._send(200, {"data": copy.deepcopy(found)})
            if len(rest) == 2 and self.command == "GET" and rest[1] in records:
                return self._send(200, {"data": [copy.deepcopy(records[rest[1]])]})
            if len(rest) == 3 and self.command == "GET" and rest[1] in records:
                related = [r for r in state.crm.get(rest[2], {}).values()
                           if r.get("Parent_Id") == rest[1]]
                if not related:
                    return self._send(204, b"")
                return self._send(200, {"data": copy.deepcopy(related)})
        return self._send(404, {"code": "INVALID_URL_PATTERN", "status": "error"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: _State
    base_url: str

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        """Cut every kept-alive connection, as a crashed server's would be."""
        with self.sockets_lock:
            sockets, self.open_sockets = list(self.open_sockets), set()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _NoRedirect(HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class LocalProvider:
    """The provider and the API on one loopback port, served from a background thread."""

    def __init__(self, *, client_id: str = "sluice-demo-client",
                 client_secret: str | None = None, access_ttl: float = 3600.0,
                 client_auth: tuple[str, ...] = ("post", "basic"),
                 clock: Callable[[], float] = time.time, host: str = "127.0.0.1",
                 rotate_refresh: bool = True) -> None:
        self.client_id = client_id
        self.client_secret = client_secret or "sgcs_" + secrets.token_urlsafe(24)
        self.state = _State(client_id, self.client_secret, access_ttl, client_auth, clock)
        self.state.rotate_refresh = rotate_refresh
        self.state.invoices = {i["invoice_id"]: copy.deepcopy(i) for i in INVOICES}
        self.state.crm = copy.deepcopy(CRM_RECORDS)
        self._server = _Server((host, 0), _Handler)
        self._server.state = self.state
        port = self._server.server_address[1]
        self.url = f"http://{host}:{port}"
        self._server.base_url = self.url
        self._thread: threading.Thread | None = None

    @property
    def authorize_url(self) -> str:
        return self.url + "/oauth/authorize"

    @property
    def token_url(self) -> str:
        return self.url + "/oauth/token"

    @property
    def revoke_url(self) -> str:
        return self.url + "/oauth/revoke"

    @property
    def api_base(self) -> str:
        return self.url + "/books/v3"

    @property
    def counts(self) -> dict[str, int]:
        with self.state.lock:
            return dict(self.state.counts)

    def start(self) -> LocalProvider:
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True,
                                        name="sluicegate-local-provider")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> LocalProvider:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def approve(self, authorization_url: str) -> str:
        """Visit the authorization URL as a consenting user; the redirect it answers."""
        opener = build_opener(_NoRedirect)
        try:
            opener.open(Request(authorization_url), timeout=5)
        except Exception as exc:  # urllib reports an unfollowed redirect as an HTTPError
            location = getattr(exc, "headers", {}).get("Location")
            if location:
                return str(location)
            raise
        raise RuntimeError("the provider did not redirect")

    def expire_access_tokens(self) -> None:
        """Every access token issued so far stops working (the API answers 401)."""
        with self.state.lock:
            for entry in self.state.access.values():
                entry["expires"] = 0.0

    def invalidate_refresh_tokens(self) -> None:
        """Every refresh token is forgotten: the next refresh gets invalid_grant."""
        with self.state.lock:
            self.state.refresh.clear()

    def set_token_delay(self, seconds: float) -> None:
        self.state.token_delay = seconds

    def set_token_fault(self, fault: str | None) -> None:
        """Break the token endpoint: "error_500" (an HTML 500 page), "server_error" (503
        temporarily_unavailable), "invalid_json", "drip" (a body a byte every 100 ms),
        "echo" (an error quoting the secrets it was sent); None heals it."""
        self.state.token_fault = fault

    def set_rejection(self, status: int, payload: dict[str, Any]) -> None:
        """How the Books API refuses a bad token (some APIs answer 400 or even 200 with an
        error code in the body instead of a 401)."""
        self.state.rejection = (status, payload)

    def go_down(self) -> None:
        """Stop listening and cut open connections: connections to the provider are
        refused until `come_back`."""
        self.stop()
        self._server.drop_connections()

    def come_back(self) -> None:
        """Listen again on the same port, with the same state."""
        host, port = self._server.server_address[:2]
        self._server = _Server((host, port), _Handler)
        self._server.state = self.state
        self._server.base_url = self.url
        self.start()
