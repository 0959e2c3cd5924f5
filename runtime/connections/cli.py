"""`sluice connections ...`: add, authorize, list, show, test, revoke, delete (and
rotate-key) connections of the default database.

Secrets are accepted only from standard input (`--secret-stdin`) or an environment
variable (`--secret-env VAR`), never as an argument, and are never printed. Mistakes in
the command print `sluice connections: error: <field>: <reason>` and exit 2; a failed
authorization or test exits 1.

`authorize LINK` prints the authorization URL on the first line of standard output and
waits (`SLUICE_AUTHORIZE_TIMEOUT` seconds, default 300) for the provider's redirect to a
loopback listener; meanwhile, or later, `authorize LINK --code CODE` completes the same
authorization with a pasted code (or the whole redirect URL, whose state is then checked).
"""

from __future__ import annotations

__all__ = ["register"]

import argparse
import json
import os
import re
import sys
from typing import Any

_AUTH_TYPES = ("oauth2", "oauth1", "api_key", "basic")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def register(subparsers: Any) -> None:
    """Add `connections` and its sub-commands to the `sluice` parser."""
    conn = subparsers.add_parser(
        "connections", help="manage connections: credentials scripts use by name",
        description="Manage the connections that `connection: \"name\"` refers to.")
    sub = conn.add_subparsers(dest="connections_command", metavar="ACTION",
                              parser_class=_Parser)
    sub.required = True

    add = sub.add_parser("add", help="create a connection (the secret from stdin or env)")
    add.add_argument("link", metavar="LINK", help="link name: a-z first, then a-z 0-9 _")
    add.add_argument("--auth", required=True, choices=_AUTH_TYPES)
    add.add_argument("--service", metavar="NAME",
                     help="predefined service (zoho_books, zoho_crm, zoho_desk, google, "
                     "slack, github, hubspot, stripe, xero, quickbooks; zoho_*:eu for a "
                     "data centre) or custom")
    _setting_flags(add)
    secret = add.add_mutually_exclusive_group(required=True)
    secret.add_argument("--secret-stdin", action="store_true",
                        help="read the secret (client secret, key or password) from stdin")
    secret.add_argument("--secret-env", metavar="VAR",
                        help="read the secret from environment variable VAR")
    add.set_defaults(func=_cmd_add)

    upd = sub.add_parser("update", help="change settings, base URLs or the secret")
    upd.add_argument("link", metavar="LINK")
    _setting_flags(upd)
    new_secret = upd.add_mutually_exclusive_group()
    new_secret.add_argument("--secret-stdin", action="store_true",
                            help="read a new secret from stdin")
    new_secret.add_argument("--secret-env", metavar="VAR",
                            help="read a new secret from environment variable VAR")
    upd.set_defaults(func=_cmd_update)

    aud = sub.add_parser("audit", help="who changed or authorized connections, and when")
    aud.add_argument("link", metavar="LINK", nargs="?", help="one connection (default: all)")
    aud.add_argument("--json", action="store_true", help="print JSON")
    aud.set_defaults(func=_cmd_audit)

    auth = sub.add_parser("authorize", help="authorize an OAuth 2 connection")
    auth.add_argument("link", metavar="LINK")
    auth.add_argument("--code", metavar="CODE",
                      help="the code (or redirect URL) from the provider, pasted")
    auth.add_argument("--redirect-uri", metavar="URL",
                      help="the redirect URI registered with the provider (default: "
                      "SLUICE_OAUTH_REDIRECT_URI, else a free loopback port). A loopback "
                      "URI is listened on; any other is printed and completed by the "
                      "service's /oauth/callback or with --code")
    auth.set_defaults(func=_cmd_authorize)

    lst = sub.add_parser("list", help="list connections and their status")
    lst.add_argument("--json", action="store_true", help="print JSON")
    lst.set_defaults(func=_cmd_list)

    show = sub.add_parser("show", help="show one connection (never its secrets)")
    show.add_argument("link", metavar="LINK")
    show.add_argument("--json", action="store_true", help="print JSON")
    show.set_defaults(func=_cmd_show)

    test = sub.add_parser("test", help="send a signed GET through the connection")
    test.add_argument("link", metavar="LINK")
    test.add_argument("--url", metavar="URL", help="default: the first base URL")
    test.set_defaults(func=_cmd_test)

    revoke = sub.add_parser("revoke", help="revoke the tokens of a connection")
    revoke.add_argument("link", metavar="LINK")
    revoke.set_defaults(func=_cmd_revoke)

    delete = sub.add_parser("delete", help="delete a connection")
    delete.add_argument("link", metavar="LINK")
    delete.set_defaults(func=_cmd_delete)

    rotate = sub.add_parser("rotate-key", help="re-encrypt every secret with a new master key")
    rotate.set_defaults(func=_cmd_rotate_key)



def _setting_flags(p: argparse.ArgumentParser) -> None:
    """The settings of a connection, the same for `add` and `update` (where a given flag
    replaces the current value; `--base-url` replaces the whole list)."""
    p.add_argument("--display-name", metavar="TEXT")
    p.add_argument("--base-url", action="append", metavar="URL", dest="base_urls",
                   help="a base URL the connection may be used with (repeatable)")
    p.add_argument("--client-id", metavar="ID",
                   help="OAuth client id (OAuth 1: the consumer key)")
    p.add_argument("--authorize-url", metavar="URL")
    p.add_argument("--token-url", metavar="URL")
    p.add_argument("--refresh-url", metavar="URL")
    p.add_argument("--revoke-url", metavar="URL")
    p.add_argument("--scopes", metavar="A,B", help="comma-separated scopes")
    p.add_argument("--scope-delimiter", metavar="TEXT",
                   help="how scopes are joined in requests (default: a space)")
    p.add_argument("--grant", choices=("authorization_code", "client_credentials"))
    p.add_argument("--param-type", choices=("header", "query", "form"),
                   help="where the token or key goes")
    p.add_argument("--param-name", metavar="NAME", help="header or parameter name")
    p.add_argument("--header-format", metavar="FORMAT",
                   help="e.g. 'Bearer {token}' or 'Zoho-oauthtoken {token}'")
    p.add_argument("--username", metavar="USER",
                   help="Basic: the user name; OAuth 1: the access token (oauth_token)")
    p.add_argument("--authorize-param", action="append", metavar="NAME=VALUE",
                   dest="authorize_params",
                   help="extra authorize parameter, e.g. access_type=offline (repeatable)")
    p.add_argument("--token-auth",
                   choices=("client_secret_post", "client_secret_basic", "auto"),
                   help="how the client authenticates at the token URL (default: auto)")
    p.add_argument("--refresh-leeway", metavar="SECONDS",
                   help="refresh a token this long before it expires (default: "
                   "SLUICE_TOKEN_LEEWAY, else 60)")
    p.add_argument("--refresh-on-status", metavar="CODES",
                   help="statuses that mean the token was refused and trigger one "
                   "refresh and retry (default: 401), e.g. 401,403")
    p.add_argument("--refresh-on-body", action="append", metavar="TEXT",
                   help="a text in a response body that means the token was refused, "
                   "e.g. INVALID_OAUTHTOKEN (repeatable)")
    p.add_argument("--idempotency-header", metavar="NAME",
                   help="send each request of a scheduled run with this header (e.g. "
                   "Idempotency-Key) holding a key that is the same when the occurrence "
                   "runs again and differs across occurrences and calls ('' removes it)")


class _Parser(argparse.ArgumentParser):
    """The parser of each action. It never echoes what it did not understand: a secret
    pasted as an argument (`--client-secret s3cr3t`, `--secret=s3cr3t`, a stray
    positional) must not reach the terminal, the shell's logs or a CI transcript."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["allow_abbrev"] = False  # an ambiguous abbreviation is echoed in full
        super().__init__(*args, **kwargs)

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        parsed, extras = super().parse_known_args(args, namespace)
        if extras:
            options = sorted({e.split("=", 1)[0] for e in extras if e.startswith("--")})
            named = f" ({', '.join(options)})" if options else ""
            self.error(f"unrecognized arguments{named}; their values are not shown. "
                       "Secrets are read only with --secret-stdin or --secret-env VAR")
        return parsed, extras


class _Misuse(Exception):
    """A mistake in the command: printed as `sluice connections: error: ...`, exit 2."""


def _usage(message: str) -> Exception:
    return _Misuse(message)


def _open() -> Any:
    from .setup import open_registry

    return open_registry()


def _guarded(fn: Any) -> Any:
    """Registry errors become usage errors (exit 2) with `field: reason`."""
    def run(args: argparse.Namespace) -> int:
        from sqlalchemy.exc import SQLAlchemyError

        from ..errors import ScriptRuntimeError
        from .keyring import KeyringError
        from .registry import AuthorizationFailed, ConnectionNotFound, RegistryError

        try:
            return int(fn(args))
        except AuthorizationFailed as exc:
            sys.stderr.write(f"sluice connections: error: {exc}\n")
            return 1
        except _Misuse as exc:
            message = str(exc)
        except RegistryError as exc:
            message = str(exc)
        except ConnectionNotFound:
            message = f"{args.link}: no connection named '{args.link}'"
        except KeyringError as exc:  # the host is set up wrong, not the connection
            sys.stderr.write(f"sluice connections: error: master key: {exc}\n")
            return 2
        except ScriptRuntimeError as exc:  # the registry refused to use a connection
            sys.stderr.write(f"sluice connections: error: {args.link}: {exc.message}\n")
            return 1
        except SQLAlchemyError as exc:
            sys.stderr.write(f"sluice connections: error: database: cannot use the "
                             f"connections database ({type(exc).__name__}); check "
                             f"SLUICE_DATABASE_URL and SLUICE_HOME\n")
            return 1
        except OSError as exc:
            sys.stderr.write(f"sluice connections: error: {exc.strerror or exc}"
                             f"{f' ({exc.filename})' if exc.filename else ''}\n")
            return 1
        sys.stderr.write(f"sluice connections: error: {message}\n")
        return 2
    return run


def _read_secret(args: argparse.Namespace) -> str:
    if args.secret_env is not None:
        if not _ENV_NAME.match(args.secret_env):
            # likely the secret itself, typed where its variable's name belongs
            raise _usage("secret-env: expects the name of an environment variable (letters, "
                         "digits and _), not a value; the value given is not shown")
        value = os.environ.get(args.secret_env)
        if value is None:
            raise _usage(f"secret-env: environment variable {args.secret_env} is not set")
        return value
    if sys.stdin is None:
        raise _usage("secret-stdin: there is no standard input to read the secret from")
    if sys.stdin.isatty():
        sys.stderr.write("reading the secret from standard input (end with Ctrl-D)\n")
    data = sys.stdin.read()
    return data[:-1] if data.endswith("\n") else data


def _add(args: argparse.Namespace) -> int:
    secret = _read_secret(args).rstrip("\r\n")
    registry = _open()
    try:
        view = registry.add(args.link, args.auth, secret=secret, service=args.service,
                            **_settings(args))
    finally:
        registry.close()
    sys.stdout.write(f"added connection '{view.link_name}' ({view.auth_type}, {view.status})\n")
    if view.status == "needs_authorization":
        sys.stdout.write(f"next: sluice connections authorize {view.link_name}\n")
    return 0


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    """The values of the setting flags (`_setting_flags`), as the registry takes them."""
    def listed(text: str | None) -> list[str] | None:
        return text.split(",") if text is not None else None

    return {"display_name": args.display_name, "base_urls": args.base_urls,
            "client_id": args.client_id, "authorize_url": args.authorize_url,
            "token_url": args.token_url, "refresh_url": args.refresh_url,
            "revoke_url": args.revoke_url, "scopes": listed(args.scopes),
            "scope_delimiter": args.scope_delimiter, "grant": args.grant,
            "param_type": args.param_type, "param_name": args.param_name,
            "header_format": args.header_format, "username": args.username,
            "authorize_params": _pairs(args.authorize_params),
            "token_auth": args.token_auth, "refresh_leeway": args.refresh_leeway,
            "refresh_on_status": listed(args.refresh_on_status),
            "refresh_on_body": args.refresh_on_body,
            "idempotency_header": args.idempotency_header}


def _update(args: argparse.Namespace) -> int:
    secret = None
    if args.secret_stdin or args.secret_env is not None:
        secret = _read_secret(args).rstrip("\r\n")
    registry = _open()
    try:
        view = registry.update(args.link, secret=secret, **_settings(args))
        entry = registry.audit_log(args.link)[-1]
    finally:
        registry.close()
    changed = ", ".join(sorted(entry["changes"]))
    sys.stdout.write(f"updated connection '{view.link_name}': {changed} ({view.status}, "
                     f"token generation {view.token_generation})\n")
    return 0


def _audit_log(args: argparse.Namespace) -> int:
    registry = _open()
    try:
        if args.link:
            registry.get(args.link)  # an unknown link is named, not an empty listing
        entries = registry.audit_log(args.link)
    finally:
        registry.close()
    if args.json:
        sys.stdout.write(json.dumps(entries, default=str) + "\n")
        return 0
    for e in entries:
        changes = json.dumps(e["changes"], default=str, sort_keys=True)
        sys.stdout.write(f"{e['at'][:19]}  {e['actor']:<16} {e['link_name']:<16} "
                         f"{e['action']:<17} {changes}\n")
    if not entries:
        sys.stdout.write("no audit entries\n")
    return 0


def _pairs(items: list[str] | None) -> dict[str, str] | None:
    if items is None:
        return None
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise _usage(f"authorize-param: expected NAME=VALUE, got {item[:40]!r}")
        out[name.strip()] = value
    return out


def _authorize(args: argparse.Namespace) -> int:
    registry = _open()
    try:
        view = registry.get(args.link)
        if view.auth_type != "oauth2":
            raise _usage(f"{args.link}: only OAuth 2 connections are authorized "
                         f"({view.auth_type} connections are ready when added)")
        if view.params.get("grant") == "client_credentials":
            done = registry.authorize_client_credentials(args.link)
        elif args.code:
            done = _complete_with_code(registry, args.link, args.code.strip())
        else:
            redirect = args.redirect_uri or os.environ.get("SLUICE_OAUTH_REDIRECT_URI")
            done = _authorize_with_browser(registry, args.link, redirect)
            if done is _PENDING:
                return 0
            if done is None:
                return 1
    finally:
        registry.close()
    sys.stdout.write(f"authorized connection '{done.link_name}' ({done.status}, token "
                     f"generation {done.token_generation})\n")
    return 0


def _complete_with_code(registry: Any, link: str, code: str) -> Any:
    from urllib.parse import parse_qsl, urlsplit

    if "code=" in code and ("://" in code or code.startswith("?")):
        query = dict(parse_qsl(urlsplit(code).query))
        if query.get("error"):
            raise _usage(f"code: the provider answered {query['error']}")
        if "code" not in query or "state" not in query:
            raise _usage("code: the redirect URL has no code and state")
        return registry.complete_authorization(query["state"], query["code"])
    return registry.complete_pending(link, code)


def _loopback_target(redirect: str | None) -> tuple[str, int, str] | None:
    """(host, port, path) to listen on for a loopback redirect URI; None for another URI.
    Without a URI: a free port on 127.0.0.1."""
    from urllib.parse import urlsplit

    if not redirect:
        return ("127.0.0.1", 0, "/oauth/callback")
    parts = urlsplit(redirect)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _usage("redirect-uri: must be an absolute http(s) URL")
    if parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1"):
        try:
            port = parts.port or 80
        except ValueError:
            raise _usage("redirect-uri: the port is not a number") from None
        host = "::1" if parts.hostname == "::1" else "127.0.0.1"
        return (host, port, parts.path or "/")
    return None


def _authorize_elsewhere(registry: Any, link: str, redirect: str) -> Any:
    """A redirect URI this command cannot listen on (the service's public callback): print
    the URL; the service's /oauth/callback, or `--code`, completes the authorization."""
    start = registry.begin_authorization(link, redirect)
    sys.stdout.write(start.url + "\n")
    sys.stderr.write(f"Open the URL above and approve access; the provider redirects to "
                     f"{redirect}. If that is not a running sluicegate service, finish with: "
                     f"sluice connections authorize {link} --code CODE\n")
    return _PENDING


_PENDING = object()  # the authorization continues elsewhere (the service, or --code)


def _authorize_with_browser(registry: Any, link: str, redirect: str | None = None) -> Any:
    import queue
    import socket
    import threading
    import time
    from http.server import BaseHTTPRequestHandler, HTTPServer
    from urllib.parse import parse_qsl, urlsplit

    target = _loopback_target(redirect)
    if target is None:
        return _authorize_elsewhere(registry, link, redirect or "")
    host, port, path = target
    results: queue.Queue[dict[str, str]] = queue.Queue()

    class Callback(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path != path:
                self.send_error(404)
                return
            results.put(dict(parse_qsl(parts.query)))
            page = (b"<html><body><p>sluicegate received the authorization; you can close "
                    b"this window.</p></body></html>")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, format: str, *args: Any) -> None:
            """The command prints its own progress."""

    class Server(HTTPServer):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

    try:
        server = Server((host, port), Callback)
    except OSError as exc:
        raise _usage(f"redirect-uri: cannot listen on {host}:{port} ({exc.strerror or exc})"
                     ) from None
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              daemon=True)
    thread.start()
    try:
        redirect_uri = redirect or f"http://127.0.0.1:{server.server_address[1]}{path}"
        generation = registry.get(link).token_generation
        audited = len(registry.audit_log(link))
        start = registry.begin_authorization(link, redirect_uri)
        sys.stdout.write(start.url + "\n")
        sys.stdout.flush()
        wait = float(os.environ.get("SLUICE_AUTHORIZE_TIMEOUT") or 300)
        sys.stderr.write(f"Open the URL above and approve access. Waiting up to {wait:g} s "
                         f"for the redirect to {redirect_uri}\n(or paste the code: sluice "
                         f"connections authorize {link} --code CODE)\n")
        sys.stderr.flush()
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                answer = results.get(timeout=0.25)
            except queue.Empty:
                if registry.pending_exists(start.state):
                    continue
                # completed elsewhere (`--code`, the service's callback): the state is taken
                # before the code is exchanged, so wait for the exchange's outcome
                view = registry.get(link)
                if view.token_generation != generation:
                    return view
                if any(entry["action"] == "authorize_failed"
                       for entry in registry.audit_log(link, skip=audited)):
                    sys.stderr.write(f"sluice connections: error: the authorization was "
                                     f"completed elsewhere and failed: {view.last_error}\n")
                    return None
                continue
            if answer.get("error"):
                sys.stderr.write(f"sluice connections: error: the provider answered "
                                 f"{answer['error']}\n")
                return None
            if answer.get("state") != start.state:
                sys.stderr.write("sluice connections: error: state: the redirect does not "
                                 "belong to this authorization (state mismatch)\n")
                return None
            return registry.complete_authorization(answer["state"], answer.get("code", ""))
        if registry.pending_exists(start.state):
            sys.stderr.write(f"sluice connections: error: no redirect within {wait:g} s; "
                             f"finish with: sluice connections authorize {link} --code "
                             f"CODE\n")
        else:
            sys.stderr.write(f"sluice connections: error: the authorization was completed "
                             f"elsewhere but its code exchange did not finish within "
                             f"{wait:g} s; see: sluice connections show {link}\n")
        return None
    finally:
        server.shutdown()
        server.server_close()


def _list(args: argparse.Namespace) -> int:
    registry = _open()
    try:
        views = registry.list()
    finally:
        registry.close()
    if args.json:
        sys.stdout.write(json.dumps([v.to_json() for v in views], indent=2) + "\n")
        return 0
    if not views:
        sys.stdout.write("no connections\n")
        return 0
    rows = [("LINK", "SERVICE", "AUTH", "STATUS", "GENERATION", "BASE URLS")]
    rows += [(v.link_name, v.service, v.auth_type, v.status, str(v.token_generation),
              " ".join(v.base_urls)) for v in views]
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for row in rows:
        sys.stdout.write("  ".join(c.ljust(widths[i]) for i, c in enumerate(row[:5]))
                         + "  " + row[5] + "\n")
    return 0


def _show(args: argparse.Namespace) -> int:
    registry = _open()
    try:
        view = registry.get(args.link)
    finally:
        registry.close()
    data = view.to_json()
    if args.json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return 0
    for key, value in data.items():
        shown = json.dumps(value) if isinstance(value, (dict, list)) else (
            "" if value is None else str(value))
        sys.stdout.write(f"{key}: {shown}\n")
    return 0


def _test(args: argparse.Namespace) -> int:
    from ..errors import ScriptRuntimeError
    from ..http.broker import Broker
    from ..http.messages import HttpRequest
    from ..limits import Limits, RunContext

    registry = _open()
    broker = Broker(registry)
    try:
        view = registry.get(args.link)
        url = args.url or (view.base_urls[0] if view.base_urls else "")
        ctx = RunContext(limits=Limits())
        try:
            response = broker.send(HttpRequest("GET", url, connection=args.link), ctx)
        except ScriptRuntimeError as exc:
            sys.stdout.write(f"GET {url}: {exc.message}\n")
            return 1
    finally:
        broker.close()
    entry = ctx.http_trace[-1]
    sys.stdout.write(f"GET {entry['url']} -> {response.status} ({entry['ms']} ms, token "
                     f"generation {entry['token_generation']})\n")
    preview = response.body[:300].decode("utf-8", "replace")
    if preview:
        sys.stdout.write(preview + ("...\n" if len(response.body) > 300 else "\n"))
    return 0 if response.status < 400 else 1


def _revoke(args: argparse.Namespace) -> int:
    registry = _open()
    try:
        warning = registry.revoke(args.link)
    finally:
        registry.close()
    if warning:
        sys.stderr.write(f"warning: {warning}\n")
    sys.stdout.write(f"revoked connection '{args.link}'\n")
    return 0


def _delete(args: argparse.Namespace) -> int:
    registry = _open()
    try:
        registry.delete(args.link)
    finally:
        registry.close()
    sys.stdout.write(f"deleted connection '{args.link}'\n")
    return 0


def _rotate_key(args: argparse.Namespace) -> int:
    registry = _open()
    try:
        ring = registry.rotate_master_key()
    finally:
        registry.close()
    where = ring.source or "SLUICE_MASTER_KEY"
    sys.stdout.write(f"re-encrypted every secret with key {ring.primary_id} ({where})\n")
    return 0


_cmd_add = _guarded(_add)
_cmd_update = _guarded(_update)
_cmd_audit = _guarded(_audit_log)
_cmd_authorize = _guarded(_authorize)
_cmd_list = _guarded(_list)
_cmd_show = _guarded(_show)
_cmd_test = _guarded(_test)
_cmd_revoke = _guarded(_revoke)
_cmd_delete = _guarded(_delete)
_cmd_rotate_key = _guarded(_rotate_key)
