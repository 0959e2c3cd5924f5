"""Signers: attach a connection's credentials to one outgoing request, without I/O.

Each authentication type is one small class with one method, `sign(request)`, that
changes an `OutgoingRequest` in place (like httpx's `Auth.auth_flow`, but never sending
anything). The registry builds a signer from decrypted credentials for each call; the
broker calls it only after the destination matched the connection's base URLs.

    OAuth2Signer   access token as a header (`Bearer {token}`, `Zoho-oauthtoken {token}`)
                   or as a query parameter
    OAuth1Signer   RFC 5849 HMAC-SHA1 signature (authlib's base string and HMAC), with
                   the clock and nonce injected
    ApiKeySigner   one or more named keys as headers, query parameters or form fields
    BasicSigner    RFC 7617 user name and password
"""

from __future__ import annotations

__all__ = ["OutgoingRequest", "Signer", "OAuth2Signer", "OAuth1Signer", "ApiKeySigner",
           "BasicSigner", "PLACEMENTS"]

import base64
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qsl, urlsplit

from authlib.oauth1.rfc5849.parameters import prepare_headers
from authlib.oauth1.rfc5849.signature import construct_base_string, hmac_sha1_signature

from ..http.broker import OutgoingRequest

PLACEMENTS = ("header", "query", "form")


class Signer(Protocol):
    """Attaches credentials to a request in place; never performs I/O."""

    def sign(self, request: OutgoingRequest) -> None: ...


@dataclass(frozen=True)
class OAuth2Signer:
    """An OAuth 2 access token, as a header in a format or as a query parameter."""

    token: str
    header_format: str = "Bearer {token}"
    placement: str = "header"
    param_name: str = "Authorization"

    def sign(self, request: OutgoingRequest) -> None:
        if self.placement == "query":
            request.add_query([(self.param_name or "access_token", self.token)])
        else:
            request.set_header(self.param_name or "Authorization",
                               self.header_format.replace("{token}", self.token))


@dataclass(frozen=True)
class ApiKeySigner:
    """Named keys sent as headers (optionally in a format), query parameters or form fields."""

    keys: tuple[tuple[str, str], ...]
    placement: str = "header"
    header_format: str | None = None

    def sign(self, request: OutgoingRequest) -> None:
        if self.placement == "query":
            request.add_query(list(self.keys))
        elif self.placement == "form":
            request.add_form(list(self.keys))
        else:
            for name, value in self.keys:
                shown = self.header_format.replace("{token}", value) if self.header_format \
                    else value
                request.set_header(name, shown)


@dataclass(frozen=True)
class BasicSigner:
    """HTTP Basic authentication (RFC 7617, UTF-8)."""

    username: str
    password: str

    @property
    def header_value(self) -> str:
        pair = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")

    def sign(self, request: OutgoingRequest) -> None:
        request.set_header("Authorization", self.header_value)


def _nonce() -> str:
    return secrets.token_hex(16)


@dataclass(frozen=True)
class OAuth1Signer:
    """RFC 5849 HMAC-SHA1 signing in the Authorization header.

    Signed: the method, the base string URI, the query parameters, url-encoded form fields
    and the protocol parameters. Other bodies (JSON, multipart) are not part of an OAuth 1
    signature, as the RFC says.
    """

    consumer_key: str
    consumer_secret: str
    token: str | None = None
    token_secret: str | None = None
    realm: str | None = None
    clock: Callable[[], float] = time.time
    nonce: Callable[[], str] = _nonce

    def sign(self, request: OutgoingRequest) -> None:
        protocol = [("oauth_consumer_key", self.consumer_key),
                    ("oauth_nonce", self.nonce()),
                    ("oauth_signature_method", "HMAC-SHA1"),
                    ("oauth_timestamp", str(int(self.clock()))),
                    ("oauth_version", "1.0")]
        if self.token:
            protocol.append(("oauth_token", self.token))
        params = parse_qsl(urlsplit(request.url).query, keep_blank_values=True)
        if request.form is not None and not request.files:
            params += request.form
        base = construct_base_string(request.method.upper(), request.url, params + protocol)
        signature = hmac_sha1_signature(base, self.consumer_secret, self.token_secret or "")
        headers = prepare_headers(protocol + [("oauth_signature", signature)], {},
                                  realm=self.realm)
        request.set_header("Authorization", headers["Authorization"])
