"""How a connection's settings and secret are checked before they are stored: the
parameters each authentication type needs (OAuth 2 endpoints and grant, where a key or
token goes, an idempotency header), the base URLs a connection may be used with, and the
one secret of the command line (text, or a JSON object for several parts)."""

from __future__ import annotations

__all__ = ["GRANTS", "check_endpoint", "parse_secret", "secret_values", "validate_bases",
           "validate_params"]

import json
import re
from typing import Any

from ..http.broker import RUNTIME_HEADERS
from ..http.guard import BaseUrl, DestinationRefused
from .model import RegistryError
from .oauth import TOKEN_AUTH_METHODS
from .signers import PLACEMENTS

GRANTS = ("authorization_code", "client_credentials")
# headers an idempotency key must never replace
_NOT_IDEMPOTENCY = {"authorization", "proxy-authorization", "cookie", "host",
                    "content-type", "content-length", "transfer-encoding", "user-agent"}


def secret_values(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, dict):
        return [s for v in value.values() for s in secret_values(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in secret_values(v)]
    return []


def parse_secret(auth_type: str, secret: str, params: dict[str, Any]) -> dict[str, Any]:
    """The one secret of the command line, or a JSON object for several parts."""
    text = secret.strip("\r\n")
    structured: dict[str, Any] | None = None
    if text.lstrip().startswith("{"):
        try:
            loaded = json.loads(text)
        except ValueError:
            raise RegistryError("secret", "starts with '{' but is not a JSON object") from None
        if not isinstance(loaded, dict) or not all(isinstance(v, (str, dict))
                                                   for v in loaded.values()):
            raise RegistryError("secret", "a JSON secret must be an object of texts")
        structured = loaded
    if auth_type == "oauth2":
        value = structured.get("client_secret") if structured else text
        if not isinstance(value, str):
            raise RegistryError("secret", "an OAuth 2 secret is the client secret")
        return {"client_secret": value}
    if auth_type == "oauth1":
        if structured:
            out = {k: structured[k] for k in ("consumer_secret", "token", "token_secret")
                   if isinstance(structured.get(k), str)}
            if "consumer_secret" not in out:
                raise RegistryError("secret", "an OAuth 1 secret needs consumer_secret")
            return out
        consumer, _, token_secret = text.partition("&")
        return {"consumer_secret": consumer, "token_secret": token_secret}
    if auth_type == "api_key":
        if structured:
            keys = structured.get("keys", structured)
            if not isinstance(keys, dict) or not keys or not all(
                    isinstance(k, str) and isinstance(v, str) for k, v in keys.items()):
                raise RegistryError("secret", "API keys must be an object of name: key texts")
            return {"keys": dict(keys)}
        return {"keys": {params["param_name"]: text}}
    return {"password": structured.get("password", "") if structured else text}


def validate_params(auth_type: str, params: dict[str, Any]) -> dict[str, Any]:
    """The settings of a connection of `auth_type`, checked and with defaults filled in;
    a RegistryError names the first setting that cannot be used."""
    out = {k: v for k, v in params.items() if v is not None}
    _check_endpoints(out)
    placement = _check_placement(out)
    _check_for_auth_type(auth_type, out, placement)
    _check_refresh(auth_type, out)
    _check_idempotency(out)
    extra = out.get("authorize_params")
    if extra is not None and not (isinstance(extra, dict) and all(
            isinstance(k, str) and k and isinstance(v, str) for k, v in extra.items())):
        raise RegistryError("authorize-param", "must be NAME=VALUE texts")
    return out


def _check_endpoints(out: dict[str, Any]) -> None:
    """The OAuth endpoints must be destinations the runtime may reach."""
    for key in ("authorize_url", "token_url", "refresh_url", "revoke_url"):
        if out.get(key):
            try:
                check_endpoint(out[key])
            except DestinationRefused as exc:
                raise RegistryError(key.replace("_", "-"), str(exc)) from None


def _check_placement(out: dict[str, Any]) -> str | None:
    """Where the credential goes (header format, parameter type and name); returns the
    placement asked for, if any."""
    fmt = out.get("header_format")
    if fmt is not None and "{token}" not in fmt:
        out["header_format"] = fmt = fmt.replace("{key}", "{token}").replace(
            "{secret}", "{token}")
        if "{token}" not in fmt:
            raise RegistryError("header-format", "must contain {token}, e.g. "
                                "'Bearer {token}'")
    if fmt is not None and re.search(r"[\r\n\x00]", fmt):
        raise RegistryError("header-format", "must not contain line breaks")
    placement = out.get("param_type")
    if placement is not None and placement not in PLACEMENTS:
        raise RegistryError("param-type", f"must be one of {', '.join(PLACEMENTS)}")
    name = out.get("param_name")
    if name is not None and not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", name):
        raise RegistryError("param-name", "must be a valid header or parameter name")
    if name is not None and (placement or "header") == "header" and (
            name.lower() in RUNTIME_HEADERS or name.lower().startswith("proxy-")):
        raise RegistryError("param-name", f"'{name}' frames the message or names its "
                            "destination; only the runtime sets it")
    return placement


def _check_for_auth_type(auth_type: str, out: dict[str, Any], placement: str | None) -> None:
    """What each kind of connection requires, and its defaults."""
    if auth_type == "oauth2":
        if not out.get("client_id"):
            raise RegistryError("client-id", "is required for OAuth 2")
        if not out.get("token_url"):
            raise RegistryError("token-url", "is required for OAuth 2")
        out.setdefault("grant", "authorization_code")
        if out["grant"] not in GRANTS:
            raise RegistryError("grant", f"must be one of {', '.join(GRANTS)}")
        if out["grant"] == "authorization_code" and not out.get("authorize_url"):
            raise RegistryError("authorize-url", "is required for the authorization "
                                "code grant")
        if placement == "form":
            raise RegistryError("param-type", "an OAuth 2 token is sent as a header or "
                                "a query parameter")
        delimiter = out.get("scope_delimiter", " ")
        out["scope_delimiter"] = " " if delimiter in ("space", "") else delimiter
        scopes = out.get("scopes") or []
        out["scopes"] = [s.strip() for s in scopes if s.strip()]
        out.setdefault("token_auth", "auto")
        if out["token_auth"] not in TOKEN_AUTH_METHODS:
            raise RegistryError("token-auth", f"must be one of "
                                f"{', '.join(TOKEN_AUTH_METHODS)}")
        out.setdefault("header_format", "Bearer {token}")
    elif auth_type == "oauth1":
        if not out.get("client_id"):
            raise RegistryError("client-id", "is the OAuth 1 consumer key and is required")
    elif auth_type == "api_key":
        out.setdefault("param_type", "header")
        default_name = ("Authorization" if out.get("header_format") else "X-API-Key") \
            if out["param_type"] == "header" else "api_key"
        out.setdefault("param_name", default_name)
    elif auth_type == "basic":
        if not out.get("username"):
            raise RegistryError("username", "is required for Basic authentication")


def _check_refresh(auth_type: str, out: dict[str, Any]) -> None:
    """When an OAuth 2 token is refreshed besides its expiry: statuses, body markers and
    the leeway before expiry."""
    statuses = out.get("refresh_on_status")
    if statuses is not None:
        if auth_type != "oauth2":
            raise RegistryError("refresh-on-status", "only OAuth 2 tokens are refreshed")
        try:
            out["refresh_on_status"] = codes = [int(str(x).strip()) for x in statuses]
        except ValueError:
            raise RegistryError("refresh-on-status", "must be HTTP status codes such as "
                                "401,403") from None
        if not codes or not all(100 <= c <= 599 for c in codes):
            raise RegistryError("refresh-on-status", "must be HTTP status codes between "
                                "100 and 599")
    markers = out.get("refresh_on_body")
    if markers is not None:
        if auth_type != "oauth2":
            raise RegistryError("refresh-on-body", "only OAuth 2 tokens are refreshed")
        if not all(isinstance(m, str) and m.strip() for m in markers):
            raise RegistryError("refresh-on-body", "must be non-empty texts")
    leeway = out.get("refresh_leeway")
    if leeway is not None:
        try:
            out["refresh_leeway"] = seconds = float(leeway)
        except (TypeError, ValueError):
            raise RegistryError("refresh-leeway", "must be a number of seconds") from None
        if not 0 <= seconds <= 86400:
            raise RegistryError("refresh-leeway", "must be between 0 and 86400 seconds")


def _check_idempotency(out: dict[str, Any]) -> None:
    """The header the API reads idempotency keys from (an empty one removes it)."""
    if "idempotency_header" in out:
        header = str(out["idempotency_header"]).strip()
        if not header:
            del out["idempotency_header"]   # `--idempotency-header ''` removes it
        elif not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", header):
            raise RegistryError("idempotency-header", "must be a valid header name, "
                                "e.g. Idempotency-Key")
        elif header.lower() in _NOT_IDEMPOTENCY or (
                out.get("param_type", "header") == "header"
                and header.lower() == str(out.get("param_name", "")).lower()):
            raise RegistryError("idempotency-header", f"'{header}' carries something "
                                "else; name the header the API reads idempotency keys "
                                "from, e.g. Idempotency-Key")
        else:
            out["idempotency_header"] = header


def validate_bases(urls: list[str]) -> list[str]:
    if not urls:
        raise RegistryError("base-url", "at least one --base-url is required: a connection "
                            "is only ever used with the base URLs it names")
    out = []
    for url in urls:
        try:
            out.append(str(BaseUrl.parse(url)))
        except DestinationRefused as exc:
            raise RegistryError("base-url", str(exc)) from None
    return out


def check_endpoint(url: str) -> None:
    """Provider endpoints must be absolute http(s) URLs without credentials."""
    BaseUrl.parse(url.split("?", 1)[0])
