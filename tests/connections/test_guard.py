"""The destination guard: literal address forms, base URL binding, the allow list."""

from __future__ import annotations

import ipaddress

import pytest

from sluicegate.http.guard import (
    BaseUrl, DestinationRefused, Guard, HostPolicy, address_risk, parse_ip_literal,
)


@pytest.mark.parametrize("host, address", [
    ("127.0.0.1", "127.0.0.1"), ("2130706433", "127.0.0.1"), ("0177.0.0.1", "127.0.0.1"),
    ("0x7f.1", "127.0.0.1"), ("127.1", "127.0.0.1"), ("0x7f000001", "127.0.0.1"),
    ("017700000001", "127.0.0.1"), ("::ffff:127.0.0.1", "::ffff:7f00:1"),
    ("[::1]", "::1"), ("169.254.169.254.", "169.254.169.254"),
])
def test_literal_hosts_in_every_resolver_form_are_recognised(host: str, address: str) -> None:
    assert parse_ip_literal(host) == ipaddress.ip_address(address)


def test_host_names_are_not_literals_and_out_of_range_numbers_are_refused() -> None:
    assert parse_ip_literal("api.example.com") is None
    assert parse_ip_literal("1e100.net") is None
    with pytest.raises(DestinationRefused, match="not a valid IPv4 address"):
        parse_ip_literal("256.1.1.1")


@pytest.mark.parametrize("address, phrase", [
    ("127.0.0.1", "loopback"), ("10.1.2.3", "private"), ("192.168.0.1", "private"),
    ("172.16.5.5", "private"), ("169.254.10.10", "link-local"),
    ("169.254.169.254", "metadata"), ("fd00:ec2::254", "metadata"),
    ("100.100.100.200", "metadata"), ("100.64.0.1", "carrier-grade"), ("0.0.0.0", "unspecified"),
    ("::1", "loopback"), ("fe80::1", "link-local"), ("fc00::1", "private"),
    ("::ffff:10.0.0.1", "IPv4-mapped"), ("2002:a00:1::", "6to4"), ("64:ff9b::7f00:1", "NAT64"),
    ("224.0.0.1", "multicast"), ("240.0.0.1", "reserved"),
])
def test_non_public_addresses_have_a_named_risk(address: str, phrase: str) -> None:
    risk = address_risk(ipaddress.ip_address(address))
    assert risk is not None and phrase in risk


def test_public_addresses_have_no_risk() -> None:
    for address in ("8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"):
        assert address_risk(ipaddress.ip_address(address)) is None


class _Resolver:
    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers

    def resolve(self, host: str, port: int) -> list[str]:
        return self.answers[host]


def test_a_name_resolving_to_any_private_address_is_refused() -> None:
    guard = Guard(HostPolicy(), _Resolver({"mixed.example": ["93.184.216.34", "10.0.0.7"],
                                           "public.example": ["93.184.216.34"]}))
    with pytest.raises(DestinationRefused, match=r"mixed.example' \(10.0.0.7\): a private"):
        guard.addresses_for("mixed.example", 443)
    assert guard.addresses_for("public.example", 443) == ["93.184.216.34"]


def test_the_allow_list_permits_names_addresses_and_ranges() -> None:
    policy = HostPolicy.parse("dev.local, 127.0.0.1, 10.20.0.0/16, ::1")
    guard = Guard(policy, _Resolver({"dev.local": ["192.168.1.5"], "svc": ["10.20.3.4"],
                                     "other": ["10.21.0.1"]}))
    assert guard.addresses_for("dev.local", 80) == ["192.168.1.5"]
    assert guard.addresses_for("svc", 80) == ["10.20.3.4"]
    assert guard.addresses_for("127.0.0.1", 80) == ["127.0.0.1"]
    assert guard.addresses_for("::ffff:127.0.0.1", 80) == ["::ffff:7f00:1"]
    with pytest.raises(DestinationRefused):
        guard.addresses_for("other", 80)
    assert HostPolicy.from_env({"SLUICE_ALLOW_PRIVATE_HOSTS": "localhost"}).permits_name(
        "LOCALHOST.")


@pytest.mark.parametrize("url, reason", [
    ("ftp://example.com/", "Only http and https"), ("http://u:p@example.com/", "user name"),
    ("http://2130706433/", "loopback"), ("http://[::ffff:a9fe:a9fe]/", "metadata"),
])
def test_static_url_checks(url: str, reason: str) -> None:
    with pytest.raises(DestinationRefused, match=reason):
        Guard().check_url(url)


def test_base_urls_bind_scheme_host_port_and_path_prefix() -> None:
    base = BaseUrl.parse("https://API.example.com/books/v3")
    assert str(base) == "https://api.example.com/books/v3/"
    assert base.matches("https://api.example.com/books/v3/invoices?x=1")
    assert base.matches("https://api.example.com:443/books/v3")
    for url in ("http://api.example.com/books/v3/", "https://api.example.com:8443/books/v3/",
                "https://evil.example.com/books/v3/", "https://api.example.com/books/v30",
                "https://api.example.com/books/v3/../../admin",
                "https://api.example.com/books/v3/%2e%2e/%2e%2e/admin",
                "https://api.example.com/books/v3%2f..%2fadmin",
                "https://user@api.example.com/books/v3/",
                "https://api.example.com.evil.net/books/v3/"):
        assert not base.matches(url), url


def test_wildcard_base_urls_match_subdomains_only() -> None:
    base = BaseUrl.parse("https://*.googleapis.com")
    assert base.matches("https://sheets.googleapis.com/v4/spreadsheets")
    assert not base.matches("https://googleapis.com/")
    assert not base.matches("https://evilgoogleapis.com/")


def test_base_urls_must_be_plain_http_urls() -> None:
    for text in ("ftp://x/", "https://x/?q=1", "https://u:p@x/", "not a url"):
        with pytest.raises(DestinationRefused):
            BaseUrl.parse(text)
