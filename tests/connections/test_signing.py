"""Signing against a real API that checks credentials itself: OAuth 1 (HMAC-SHA1,
verified server-side), API keys in a header, the query and a form, Basic, OAuth 2 header
formats; response scrubbing and the trace entries."""

from __future__ import annotations

import json

import pytest

from sluicegate.connections.registry import Registry, RegistryError
from sluicegate.examples.provider import LocalProvider

from connlab import LabServer, Runner


def _oauth1(registry: Registry, lab: LabServer, secret: str | None = None) -> None:
    registry.add("o1", "oauth1", client_id="consumer-key", base_urls=[lab.url + "/oauth1/"],
                 secret=secret or json.dumps({"consumer_secret": lab.consumer_secret,
                                              "token": "access-token-id",
                                              "token_secret": lab.token_secret}))


def test_oauth1_hmac_sha1_signatures_verify_server_side(registry: Registry, lab: LabServer,
                                                        run: Runner) -> None:
    _oauth1(registry, lab)
    result = run(f'''
        a = invokeurl [ url: "{lab.url}/oauth1/items?b=2&a=1%20x" type: GET
                        parameters: {{"q": "café & co", "empty": ""}} connection: "o1" ];
        b = invokeurl [ url: "{lab.url}/oauth1/items" type: POST
                        parameters: {{"name": "Zylker", "tags": "a,b"}} connection: "o1" ];
        c = invokeurl [ url: "{lab.url}/oauth1/items" type: PUT
                        parameters: {{"json": true}} content-type: "application/json"
                        connection: "o1" ];
        return {{"a": a.get("verified"), "b": b.get("verified"), "c": c.get("verified")}};
    ''')
    assert result.ok, result.error
    assert result.value == {"a": True, "b": True, "c": True}
    signed = [r for r in lab.requests if r.path.startswith("/oauth1/")]
    assert all('oauth_token="access-token-id"' in r.headers["Authorization"] for r in signed)
    assert all("HMAC-SHA1" in r.headers["Authorization"] for r in signed)


def test_oauth1_with_a_wrong_secret_is_refused_by_the_server(
        registry: Registry, lab: LabServer, run: Runner, leaks) -> None:  # type: ignore[no-untyped-def]
    _oauth1(registry, lab, secret=leaks.secret("not-the-consumer-secret&nor-this"))
    result = run(f'r = invokeurl [ url: "{lab.url}/oauth1/x" type: GET connection: "o1" '
                 f'detailed: true ]; return r.get("responseCode");')
    assert result.value == 401


@pytest.mark.parametrize("placement, name, method", [
    ("header", "X-Api-Key", "GET"), ("query", "api_key", "GET"), ("form", "api_key", "POST"),
])
def test_api_keys_in_a_header_the_query_or_a_form(registry: Registry, lab: LabServer,
                                                  run: Runner, placement: str, name: str,
                                                  method: str) -> None:
    registry.add("k", "api_key", param_type=placement, param_name=name,
                 base_urls=[lab.url + "/key/"], secret=lab.api_key)
    result = run(f'r = invokeurl [ url: "{lab.url}/key/check" type: {method} '
                 f'parameters: {{"page": "1"}} connection: "k" ]; return r;')
    assert result.ok, result.error
    assert result.value["where"] == [placement]
    if placement == "form":
        assert result.value["form_fields"] == ["api_key", "page"]
    trace = result.http[0]
    assert lab.api_key not in json.dumps(result.to_json())
    assert trace["status"] == 200 and trace["connection"] == "k"


def test_several_named_api_keys_and_a_header_format(registry: Registry, lab: LabServer,
                                                    run: Runner) -> None:
    registry.add("k2", "api_key", base_urls=[lab.url + "/echo"],
                 secret=json.dumps({"keys": {"Authorization": lab.api_key,
                                             "X-App": lab.api_key[::-1]}}),
                 header_format="Token {token}")
    result = run(f'return invokeurl [ url: "{lab.url}/echo" type: GET connection: "k2" ];')
    assert result.value["you_sent"] == "Token [redacted]"
    request = lab.requests[-1]
    assert request.headers["Authorization"] == f"Token {lab.api_key}"
    assert request.headers["X-App"] == f"Token {lab.api_key[::-1]}"


def test_form_keys_cannot_ride_on_a_get(registry: Registry, lab: LabServer,
                                        run: Runner) -> None:
    registry.add("kf", "api_key", param_type="form", base_urls=[lab.url], secret=lab.api_key)
    result = run(f'invokeurl [ url: "{lab.url}/key/x" type: GET connection: "kf" ];')
    assert "cannot carry" in result.error.message
    assert not lab.requests


def test_basic_authentication(registry: Registry, lab: LabServer, run: Runner) -> None:
    registry.add("b", "basic", username=lab.username, base_urls=[lab.url + "/basic/"],
                 secret=lab.password)
    result = run(f'return invokeurl [ url: "{lab.url}/basic/me" type: GET connection: "b" ];')
    assert result.value == {"ok": True}


def test_the_script_cannot_override_the_connection_authorization(
        registry: Registry, lab: LabServer, run: Runner) -> None:
    registry.add("b", "basic", username=lab.username, base_urls=[lab.url + "/basic/"],
                 secret=lab.password)
    result = run(f'return invokeurl [ url: "{lab.url}/basic/me" type: GET '
                 f'headers: {{"authorization": "Basic Zm9vOmJhcg=="}} connection: "b" ];')
    assert result.value == {"ok": True}
    assert list(lab.requests[-1].headers).count("Authorization") == 1


def test_every_credential_value_in_a_response_is_redacted(
        registry: Registry, lab: LabServer, run: Runner) -> None:
    registry.add("k", "api_key", param_type="query", param_name="api_key",
                 base_urls=[lab.url + "/echo"], secret=lab.api_key)
    result = run(f'''
        r = invokeurl [ url: "{lab.url}/echo" type: GET connection: "k" detailed: true ];
        info r.get("responseText");
        return r;
    ''')
    body = result.value["responseText"]
    assert body["query"]["api_key"] == "[redacted]"
    assert lab.api_key not in result.to_json_text()
    assert result.http[0]["url"].endswith("/echo")  # the key was added after the trace URL


def test_oauth2_tokens_are_scrubbed_from_body_and_headers(
        registry: Registry, provider: LocalProvider, lab: LabServer, connected: str,
        run: Runner) -> None:
    registry.delete("zb")
    registry.add("zb", "oauth2", secret=provider.client_secret, client_id=provider.client_id,
                 authorize_url=provider.authorize_url, token_url=provider.token_url,
                 base_urls=[lab.url + "/echo"], header_format="Bearer {token}")
    from connlab import authorize
    authorize(registry, provider)
    result = run(f'return invokeurl [ url: "{lab.url}/echo" type: POST '
                 f'body: "nothing secret" connection: "zb" detailed: true ];')
    assert result.value["responseHeader"]["x-echo-auth"] == "Bearer [redacted]"
    assert result.value["responseText"]["you_sent"] == "Bearer [redacted]"
    sent = lab.requests[-1].headers["Authorization"]
    assert sent.startswith("Bearer sgat_") and sent[7:] not in result.to_json_text()


def test_a_token_as_a_query_parameter(registry: Registry, provider: LocalProvider,
                                      run: Runner) -> None:
    from connlab import add_oauth2, authorize
    add_oauth2(registry, provider, param_type="query", param_name="access_token")
    authorize(registry, provider)
    result = run(f'return invokeurl [ url: "{provider.api_base}/invoices" type: GET '
                 f'parameters: {{"organization_id": "1"}} connection: "zb" ];')
    assert result.value["code"] == 0
    assert "access_token" not in result.http[0]["url"]


def test_trace_entries_name_method_url_status_duration_connection_and_generation(
        provider: LocalProvider, connected: str, run: Runner) -> None:
    result = run(f'''
        invokeurl [ url: "{provider.api_base}/invoices" type: GET connection: "zb"
                    parameters: {{"organization_id": "1"}} ];
        r = invokeurl [ url: "{provider.api_base}/invoices/90002?organization_id=1" type: PUT
                        parameters: {{"reference_number": "r1"}}
                        content-type: "application/json" connection: "zb" ];
        return r.get("invoice").get("reference_number");
    ''')
    assert result.ok and result.value == "r1", result.error
    first, second = result.http
    assert set(first) >= {"method", "url", "status", "ms", "connection", "token_generation"}
    assert (second["method"], second["status"], second["connection"],
            second["token_generation"]) == ("PUT", 200, "zb", 1)
    assert isinstance(second["ms"], float)


def test_integration_tasks_use_the_connection_and_the_service_root(
        registry: Registry, provider: LocalProvider, connected: str, broker, leaks) -> None:  # type: ignore[no-untyped-def]
    runner = Runner(broker, leaks, system={"service_roots": {"books": provider.api_base}})
    result = runner('r = zoho.books.getRecords("invoices", "10234695", "status=overdue", "zb");'
                    ' return r.get("invoices").size();')
    assert result.ok and result.value == 2, result.error


def test_header_line_breaks_are_refused_before_sending(lab: LabServer, run: Runner) -> None:
    result = run(f'invokeurl [ url: "{lab.url}/x" type: GET '
                 f'headers: {{"X-A": "1\\r\\nX-Injected: yes"}} ];')
    assert not result.ok and "line break" in result.error.message
    assert not lab.requests


def test_files_are_sent_as_multipart_through_a_connection(
        registry: Registry, lab: LabServer, run: Runner) -> None:
    registry.add("k", "api_key", param_type="form", base_urls=[lab.url + "/key/"],
                 secret=lab.api_key)
    result = run(f'''
        f = "col1,col2".toFile("data.csv");
        r = invokeurl [ url: "{lab.url}/key/upload" type: POST files: f
                        parameters: {{"note": "n"}} connection: "k" ];
        return r;
    ''')
    assert result.ok, result.error
    sent = lab.requests[-1]
    assert sent.headers["Content-Type"].startswith("multipart/form-data")
    assert b'filename="data.csv"' in sent.body and b"col1,col2" in sent.body


def test_registry_validates_what_it_is_given(registry: Registry) -> None:
    bad = [({"link_name": "Bad"}, "link"), ({"auth_type": "digest"}, "auth"),
           ({"base_urls": []}, "base-url"), ({"base_urls": ["ftp://x"]}, "base-url"),
           ({"header_format": "Bearer"}, "header-format"),
           ({"param_type": "cookie"}, "param-type"), ({"username": None}, "username")]
    for change, field_name in bad:
        args = {"link_name": "ok", "auth_type": "basic", "secret": "pw", "username": "u",
                "base_urls": ["https://api.example.com"], **change}
        with pytest.raises(RegistryError) as info:
            registry.add(args.pop("link_name"), args.pop("auth_type"), **args)
        assert info.value.field == field_name
    registry.add("ok", "basic", secret="pw", username="u", base_urls=["https://a.example"])
    with pytest.raises(RegistryError, match="already exists"):
        registry.add("ok", "basic", secret="pw", username="u", base_urls=["https://a.example"])
