"""OAuth 2 flows: authorization code with PKCE and state, client credentials, refresh and
revocation, built on authlib's protocol functions and sent with httpx.

authlib's own httpx integration (`authlib.integrations.httpx_client`) is deliberately not
used: since authlib 1.9 it prefers the `httpx2` fork and warns when it falls back to httpx.
The project keeps one HTTP stack, so only authlib's I/O-free parts are imported here
(`prepare_grant_uri`, `prepare_token_request`, `create_s256_code_challenge`,
`generate_token`) and the token endpoint is called with the injected `httpx.Client`.
"""

from __future__ import annotations

__all__ = ["OAuth2Settings", "TokenSet", "TokenEndpointError", "AuthorizationStart",
           "OAuth2Flow", "TOKEN_AUTH_METHODS"]

import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from ..http.broker import deadline

# "auto" sends the client secret in the body and, when the server answers
# invalid_client, once more as HTTP Basic; the method that worked is remembered.
TOKEN_AUTH_METHODS = ("client_secret_post", "client_secret_basic", "auto")


@dataclass(frozen=True)
class OAuth2Settings:
    """Where and how to talk to one OAuth 2 provider (nothing secret)."""

    client_id: str
    token_url: str
    authorize_url: str | None = None
    refresh_url: str | None = None
    revoke_url: str | None = None
    scopes: tuple[str, ...] = ()
    scope_delimiter: str = " "
    authorize_params: dict[str, str] = field(default_factory=dict)
    token_auth: str = "auto"
    revoke_token_in: str = "body"

    @property
    def scope(self) -> str | None:
        return self.scope_delimiter.join(self.scopes) if self.scopes else None


@dataclass(frozen=True)
class TokenSet:
    """Tokens from a token endpoint; `expires_at` is seconds since the epoch."""

    access_token: str
    refresh_token: str | None = None
    expires_at: float | None = None
    scope: str | None = None
    token_type: str = "Bearer"


class TokenEndpointError(Exception):
    """The provider refused or failed a token request; the message never holds secrets."""

    def __init__(self, code: str, description: str = "", status: int | None = None) -> None:
        self.code = code
        self.description = description
        self.status = status
        super().__init__(f"{code}: {description}" if description else code)


@dataclass(frozen=True)
class AuthorizationStart:
    """The URL to send the user to, and what the callback must be checked against."""

    url: str
    state: str
    code_verifier: str
    redirect_uri: str


class OAuth2Flow:
    """One provider's flows for one client; the HTTP client and clock are injected."""

    def __init__(self, settings: OAuth2Settings, client_secret: str, http: httpx.Client, *,
                 clock: Callable[[], float] = time.time, timeout: float = 10.0) -> None:
        self.settings = settings
        self._secret = client_secret
        self._http = http
        self._clock = clock
        self._timeout = timeout
        self.token_auth_used: str | None = None

    def start(self, redirect_uri: str) -> AuthorizationStart:
        """Authorization code request with a fresh `state` and an S256 PKCE challenge."""
        if not self.settings.authorize_url:
            raise TokenEndpointError("configuration", "the connection has no authorize URL")
        state = generate_token(32)
        verifier = generate_token(64)
        url = prepare_grant_uri(
            self.settings.authorize_url, self.settings.client_id, "code", redirect_uri,
            scope=self.settings.scope, state=state,
            code_challenge=create_s256_code_challenge(verifier),
            code_challenge_method="S256", **self.settings.authorize_params)
        return AuthorizationStart(url, state, verifier, redirect_uri)

    def exchange_code(self, code: str, redirect_uri: str, code_verifier: str) -> TokenSet:
        body = prepare_token_request("authorization_code", code=code,
                                     redirect_uri=redirect_uri, code_verifier=code_verifier)
        return self._token_request(self.settings.token_url, body, (code, code_verifier))

    def client_credentials(self) -> TokenSet:
        extra = {"scope": self.settings.scope} if self.settings.scope else {}
        return self._token_request(self.settings.token_url,
                                   prepare_token_request("client_credentials", **extra))

    def refresh(self, refresh_token: str) -> TokenSet:
        """New tokens; a provider that does not rotate keeps the old refresh token."""
        tokens = self._token_request(self.settings.refresh_url or self.settings.token_url,
                                     prepare_token_request("refresh_token",
                                                           refresh_token=refresh_token),
                                     (refresh_token,))
        if tokens.refresh_token is None:
            return TokenSet(tokens.access_token, refresh_token, tokens.expires_at,
                            tokens.scope, tokens.token_type)
        return tokens

    def revoke(self, token: str, hint: str) -> None:
        """RFC 7009 revocation (or the token in the query, for providers that want it)."""
        url = self.settings.revoke_url
        if not url:
            return
        pairs = [("token", token), ("token_type_hint", hint)]
        if self.settings.revoke_token_in == "query":
            url = url + ("&" if "?" in url else "?") + urlencode(pairs)
            body = ""
        else:
            body = urlencode(pairs)
        response = self._post(url, body, self._auth_method())
        if response.status_code >= 400:
            raise TokenEndpointError("revoke_failed", f"HTTP {response.status_code}",
                                     response.status_code)

    # ---- token endpoint --------------------------------------------------------------
    def _auth_method(self) -> str:
        method = self.token_auth_used or self.settings.token_auth
        return "client_secret_post" if method == "auto" else method

    def _post(self, url: str, body: str, method: str) -> httpx.Response:
        headers = {"Accept": "application/json",
                   "Content-Type": "application/x-www-form-urlencoded"}
        if method == "client_secret_basic":
            # RFC 6749 2.3.1: both parts form-encoded before the Basic encoding.
            pair = f"{quote(self.settings.client_id, safe='')}:{quote(self._secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        else:
            extra = urlencode([("client_id", self.settings.client_id),
                               ("client_secret", self._secret)])
            body = f"{body}&{extra}" if body else extra
        try:
            with deadline(self._timeout):
                return self._http.post(url, content=body.encode("utf-8"), headers=headers,
                                       timeout=self._timeout)
        except httpx.TimeoutException:
            raise TokenEndpointError("network", "the token endpoint did not answer in "
                                     f"{self._timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise TokenEndpointError("network", f"cannot reach the token endpoint "
                                     f"({type(exc).__name__})") from None

    def _token_request(self, url: str, body: str, secrets: tuple[str, ...] = ()
                       ) -> TokenSet:
        method = self._auth_method()
        try:
            tokens = self._parse(self._post(url, body, method), secrets)
        except TokenEndpointError as err:
            if not (self.settings.token_auth == "auto" and self.token_auth_used is None
                    and err.code == "invalid_client"):
                raise
            method = "client_secret_basic"
            tokens = self._parse(self._post(url, body, method), secrets)
        self.token_auth_used = method
        return tokens

    def _parse(self, response: httpx.Response, secrets: tuple[str, ...]) -> TokenSet:
        data = _decode_token_body(response)
        status = response.status_code
        if data is None:
            if status >= 400:
                raise TokenEndpointError(f"http_{status}", f"the token endpoint answered "
                                         f"HTTP {status}", status)
            raise TokenEndpointError("invalid_response", "the token endpoint's answer is "
                                     "not a JSON object", status)
        error = data.get("error")
        if error or status >= 400:
            code = self._scrub(str(error or f"http_{status}")[:60], secrets)
            if status == 401 and not error:
                code = "invalid_client"
            description = str(data.get("error_description") or "")[:200]
            if not description and not error:
                description = f"the token endpoint answered HTTP {status}"
            raise TokenEndpointError(code, self._scrub(description, secrets), status)
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise TokenEndpointError("invalid_response", "the token endpoint returned no "
                                     "access_token", status)
        expires_at = None
        try:
            if data.get("expires_in") not in (None, ""):
                expires_at = self._clock() + float(data["expires_in"])
        except (TypeError, ValueError):
            expires_at = None
        refresh = data.get("refresh_token")
        scope = data.get("scope")
        return TokenSet(token, refresh if isinstance(refresh, str) and refresh else None,
                        expires_at, " ".join(scope) if isinstance(scope, list) else
                        (str(scope) if scope else None),
                        str(data.get("token_type") or "Bearer"))

    def _scrub(self, text: str, secrets: tuple[str, ...] = ()) -> str:
        """A provider's error text without any secret of the request it answers."""
        for secret in sorted({self._secret, *secrets}, key=len, reverse=True):
            if secret and len(secret) >= 4:
                text = text.replace(secret, "[redacted]")
        return text


def _decode_token_body(response: httpx.Response) -> dict[str, Any] | None:
    """JSON, or the form encoding some providers (GitHub without Accept) still answer;
    None when the answer is neither."""
    try:
        text = response.text
        data = json.loads(text)
    except ValueError:
        if "=" not in text or "<" in text:
            return None
        data = dict(parse_qsl(text, keep_blank_values=True))
    return data if isinstance(data, dict) else None
