"""Destination checks: where an outgoing request of a script may go.

Two rules, both deny by default:

- **Requests with a connection** may only go to one of the connection's base URLs
  (`BaseUrl`: scheme, host, port and an optional path prefix), checked before any
  credential is attached and again for every redirect.
- **Requests without a connection** may not reach loopback, private, link-local, shared
  (CGNAT), multicast, reserved or cloud-metadata addresses. Host names are resolved first
  and every address they resolve to is checked; the transport then connects to one of
  the addresses that were checked, never to a fresh lookup (no DNS rebinding). Literal
  hosts in every form a resolver accepts are recognised: `2130706433`, `0177.0.0.1`,
  `0x7f.1`, `127.1`, IPv4-mapped, IPv4-compatible, 6to4, Teredo and NAT64 IPv6.

`SLUICE_ALLOW_PRIVATE_HOSTS` (comma-separated host names, addresses or CIDR ranges)
lets development, tests and the demo reach local services on purpose.
"""

from __future__ import annotations

__all__ = ["DestinationRefused", "BaseUrl", "HostPolicy", "Resolver", "SystemResolver",
           "Guard", "parse_ip_literal", "address_risk", "first_match", "ALLOW_ENV"]

import ipaddress
import os
import re
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import httpx

from ..errors import ScriptRuntimeError

ALLOW_ENV = "SLUICE_ALLOW_PRIVATE_HOSTS"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_DEFAULT_PORTS = {"http": 80, "https": 443}

# Instance metadata services hand out cloud credentials to whoever asks: AWS/GCP/Azure/
# OpenStack (169.254.169.254), AWS ECS task roles (169.254.170.2), AWS IPv6 IMDS,
# Alibaba (100.100.100.200), Oracle (192.0.0.192) and Azure's wire server, which sits on a
# public address and so needs naming explicitly.
_METADATA = {ipaddress.ip_address(a) for a in (
    "169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "192.0.0.192",
    "168.63.129.16")}
_SHARED = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")


class DestinationRefused(ScriptRuntimeError):
    """A request the broker will not send; scripts can catch it like any runtime error."""


def _ipv4_part(text: str) -> int | None:
    """One dotted part as inet_aton reads it: 0x.. hex, 0.. octal, else decimal."""
    if not text:
        return None
    try:
        if text[:2].lower() == "0x":
            return int(text[2:], 16) if text[2:] else 0
        if len(text) > 1 and text[0] == "0":
            return int(text[1:], 8)
        if text.isdigit():
            return int(text)
    except ValueError:
        return None
    return None


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address a host text denotes when it is an IP literal in any accepted form.

    Returns None for a host name. Raises DestinationRefused for a host that looks
    numeric but is out of range (resolvers disagree about those, so none is sent).
    """
    text = host.strip().strip("[]").rstrip(".")
    if ":" in text:
        try:
            return ipaddress.IPv6Address(text.split("%", 1)[0])
        except ValueError:
            return None
    parts = text.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    numbers = [_ipv4_part(p) for p in parts]
    if any(n is None for n in numbers):
        return None
    values = [n for n in numbers if n is not None]
    *head, last = values
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(values)):
        raise DestinationRefused(f"Refused to connect to '{host}': not a valid IPv4 address")
    value = 0
    for n in head:
        value = value * 256 + n
    value = value * 256 ** (5 - len(values)) + last
    return ipaddress.IPv4Address(value)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, str] | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped, "IPv4-mapped"
    if ip.sixtofour is not None:
        return ip.sixtofour, "6to4"
    if ip.teredo is not None:
        return ip.teredo[1], "Teredo"
    if ip in _NAT64 or ip in _NAT64_LOCAL:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF), "NAT64"
    if int(ip) >> 32 == 0 and int(ip) > 1:
        return ipaddress.IPv4Address(int(ip)), "IPv4-compatible"
    return None


def address_risk(ip: IPAddress) -> str | None:
    """Why a plain request must not reach `ip` (a phrase), or None for a public address."""
    if ip in _METADATA:
        return "a cloud metadata address"
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            inner, how = embedded
            risk = address_risk(inner)
            if risk is not None:
                return f"{inner} in {how} IPv6 form, {risk}"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_unspecified:
        return "the unspecified address"
    if ip.is_multicast:
        return "a multicast address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED:
        return "a shared (carrier-grade NAT) address"
    if ip.is_reserved:
        return "a reserved address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global:
        return "a reserved address"
    return None


@dataclass(frozen=True)
class HostPolicy:
    """The explicit allow list of local destinations (names, addresses, CIDR ranges)."""

    names: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, text: str) -> HostPolicy:
        names: set[str] = set()
        networks: list[IPNetwork] = []
        for raw in text.split(","):
            entry = raw.strip()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                names.add(entry.lower().rstrip("."))
        return cls(frozenset(names), tuple(networks))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> HostPolicy:
        return cls.parse((os.environ if env is None else env).get(ALLOW_ENV, ""))

    def permits_name(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.names

    def permits_address(self, ip: IPAddress) -> bool:
        candidates: list[IPAddress] = [ip]
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            candidates.append(ip.ipv4_mapped)
        return any(c.version == net.version and c in net for c in candidates
                   for net in self.networks)


class Resolver(Protocol):
    """Turns a host name into addresses; injected so tests control DNS."""

    def resolve(self, host: str, port: int) -> list[str]: ...


class SystemResolver:
    """The operating system's resolver (getaddrinfo)."""

    def resolve(self, host: str, port: int) -> list[str]:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        seen: list[str] = []
        for _family, _type, _proto, _name, sockaddr in infos:
            address = str(sockaddr[0]).split("%", 1)[0]
            if address not in seen:
                seen.append(address)
        return seen


@dataclass
class Guard:
    """Checks the destinations of requests without a connection."""

    policy: HostPolicy = field(default_factory=HostPolicy)
    resolver: Resolver = field(default_factory=SystemResolver)

    def check_url(self, url: str) -> httpx.URL:
        """Static checks: http(s) only, no user name or password, a host, literal forms."""
        parsed = _parse_url(url)
        host = parsed.host
        if not self.policy.permits_name(host):
            literal = parse_ip_literal(host)
            if literal is not None:
                self._check_address(host, literal)
        return parsed

    def addresses_for(self, host: str, port: int) -> list[str]:
        """The addresses to connect to for `host`, each one checked; refuses otherwise."""
        literal = parse_ip_literal(host)
        if literal is not None:
            if not self.policy.permits_name(host):
                self._check_address(host, literal)
            return [str(literal)]
        try:
            found = self.resolver.resolve(host, port)
        except (OSError, UnicodeError) as exc:
            raise ScriptRuntimeError(f"Could not resolve host '{host}' "
                                     f"({getattr(exc, 'strerror', None) or exc})") from None
        if not found:
            raise ScriptRuntimeError(f"Could not resolve host '{host}'")
        if self.policy.permits_name(host):
            return found
        for text in found:
            self._check_address(host, ipaddress.ip_address(text))
        return found

    def _check_address(self, host: str, ip: IPAddress) -> None:
        risk = address_risk(ip)
        if risk is None or self.policy.permits_address(ip):
            return
        shown = host if host == str(ip) else f"{host}' ({ip}"
        closing = "'" if host == str(ip) else ")"
        raise DestinationRefused(
            f"Refused to connect to '{shown}{closing}: {risk}; requests without a connection "
            f"may only reach public addresses (allow local hosts with {ALLOW_ENV})")


def _parse_url(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise DestinationRefused(f"'{_shorten(url)}' is not a valid URL ({exc})") from None
    if parsed.scheme not in _DEFAULT_PORTS:
        raise DestinationRefused(f"Only http and https URLs can be requested, not "
                                 f"'{parsed.scheme or _shorten(url)}'")
    if not parsed.host:
        raise DestinationRefused(f"'{_shorten(url)}' has no host")
    if parsed.userinfo:
        raise DestinationRefused("URLs with a user name or password are not allowed; "
                                 "put credentials in a connection")
    return parsed


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


_ENCODED_SEPARATOR = re.compile(r"%(2f|5c)", re.I)


def _remove_dot_segments(path: str) -> str:
    out: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if len(out) > 1:
                out.pop()
        elif segment != ".":
            out.append(segment)
    result = "/".join(out)
    if path.endswith(("/.", "/..")):
        result += "/"
    return result if result.startswith("/") else "/" + result


@dataclass(frozen=True)
class BaseUrl:
    """One base URL a connection may be used with: scheme, host, port, path prefix.

    `https://*.example.com` matches any subdomain of example.com (not example.com itself).
    """

    scheme: str
    host: str
    port: int
    path: str = ""
    wildcard: bool = False

    @classmethod
    def parse(cls, text: str) -> BaseUrl:
        raw = text.strip()
        wildcard = "://*." in raw
        parsed = _parse_url(raw.replace("://*.", "://", 1) if wildcard else raw)
        if parsed.query or parsed.fragment:
            raise DestinationRefused(f"Base URL '{raw}' must not have a query or fragment")
        path = _remove_dot_segments(parsed.path or "/")
        return cls(parsed.scheme, parsed.raw_host.decode("ascii").lower(),
                   parsed.port or _DEFAULT_PORTS[parsed.scheme],
                   "" if path == "/" else path.rstrip("/") + "/", wildcard)

    def __str__(self) -> str:
        port = "" if self.port == _DEFAULT_PORTS[self.scheme] else f":{self.port}"
        host = ("*." if self.wildcard else "") + (f"[{self.host}]" if ":" in self.host
                                                  else self.host)
        return f"{self.scheme}://{host}{port}{self.path or '/'}"

    def matches(self, url: str | httpx.URL) -> bool:
        try:
            parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
        except (httpx.InvalidURL, TypeError, ValueError):
            return False
        if parsed.scheme != self.scheme or parsed.userinfo:
            return False
        host = parsed.raw_host.decode("ascii").lower().rstrip(".")
        if self.wildcard:
            if not host.endswith("." + self.host):
                return False
        elif host != self.host:
            return False
        if (parsed.port or _DEFAULT_PORTS.get(parsed.scheme)) != self.port:
            return False
        if not self.path:
            return True
        raw_path = parsed.raw_path.split(b"?", 1)[0].decode("ascii", "replace")
        if _ENCODED_SEPARATOR.search(raw_path) or "\\" in raw_path:
            return False
        path = _remove_dot_segments(re.sub(r"%2e", ".", raw_path, flags=re.I))
        return (path.rstrip("/") + "/").startswith(self.path)


def first_match(bases: Iterable[BaseUrl], url: str | httpx.URL) -> BaseUrl | None:
    """The first base URL that `url` falls under, or None."""
    for base in bases:
        if base.matches(url):
            return base
    return None

