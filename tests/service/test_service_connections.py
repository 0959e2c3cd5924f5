"""Connections in the service, on SQLite and PostgreSQL: the OAuth callback completes an
authorization started over the API (state checked), and functions, buttons and schedules
call APIs through a connection (`invokeurl ... connection:`), in-process and isolated,
with the call in the run's HTTP trace and no secret in the run record."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from servicelab import LiveServer
from sluicegate.connections.keyring import Keyring
from sluicegate.connections.registry import Registry
from sluicegate.examples.provider import LocalProvider
from sluicegate.isolation import ZygoteForker
from sluicegate.service.app import create_app
from sluicegate.service.registry import ServiceRegistry, service_broker
from sluicegate.service.tokens import TokenBook
from sluicegate.store.db import make_engine
from sluicegate.triggers import open_triggers
from sluicegate.triggers.launcher import Actor
from sluicegate.triggers.scheduler import SchedulerSettings
from sqlalchemy import Engine

ME = Actor.named("ada")


@pytest.fixture
def provider() -> Iterator[LocalProvider]:
    with LocalProvider(access_ttl=3600) as server:
        yield server


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def forker() -> Iterator[ZygoteForker]:
    zygote = ZygoteForker()
    yield zygote
    zygote.close()


def _add_books(engine: Engine, provider: LocalProvider) -> Registry:
    registry = Registry(engine, Keyring.load())
    registry.add("books", "oauth2", secret=provider.client_secret,
                 client_id=provider.client_id, authorize_url=provider.authorize_url,
                 token_url=provider.token_url, base_urls=[provider.api_base],
                 scopes=["ZohoBooks.invoices.ALL"], header_format="Zoho-oauthtoken {token}")
    return registry


def test_the_oauth_callback_completes_an_authorization_started_over_the_api(
        engine: Engine, provider: LocalProvider) -> None:
    registry = _add_books(engine, provider)
    triggers = open_triggers(engine, migrate=False)
    tokens = TokenBook(triggers.sessions)
    admin = {"Authorization": "Bearer " + tokens.create("admin")[1]}
    runner = {"Authorization": "Bearer " + tokens.create("runner")[1]}
    with LiveServer(create_app(triggers, tokens)) as server, \
            httpx.Client(base_url=server.url, timeout=10) as http:
        assert http.post("/api/v1/connections/books/authorize",
                         headers=runner).status_code == 403
        start = http.post("/api/v1/connections/books/authorize", headers=admin).json()
        assert start["redirect_uri"] == f"{server.url}/oauth/callback"
        redirect = provider.approve(start["authorization_url"])
        assert redirect.startswith(start["redirect_uri"] + "?")
        query = dict(parse_qsl(urlsplit(redirect).query))

        forged = http.get("/oauth/callback", params={**query, "state": "forged"})
        assert forged.status_code == 400
        assert forged.json()["error"]["field"] == "state"
        assert registry.get("books").status == "needs_authorization"

        done = http.get(redirect)
        assert done.status_code == 200, done.text
        assert done.json() == {"status": "authorized", "connection": "books",
                               "connection_status": "connected"}
        assert registry.get("books").status == "connected"
        assert provider.counts["authorization_code"] == 1

        again = http.get(redirect)  # a state is good for one completion only
        assert again.status_code == 400 and again.json()["error"]["field"] == "state"
        shown = http.get("/api/v1/connections/books", headers=admin).json()
        assert shown["status"] == "connected" and shown["access_token_set"] is True
        assert "access_token" not in shown
        listed = http.get("/api/v1/connections", headers=admin).json()["connections"]
        assert [c["link_name"] for c in listed] == ["books"]
    registry.close()


@pytest.mark.parametrize("query, field, words", [
    ({"code": "c"}, "state", "state: missing from the redirect"),
    ({"state": "s"}, "code", "code: missing from the redirect"),
    ({"error": "access_denied", "error_description": "the user said no", "state": "s"},
     "error", "The provider answered access_denied: the user said no"),
])
def test_a_callback_without_code_or_state_or_with_an_error_is_refused_by_name(
        engine: Engine, query: dict[str, str], field: str, words: str) -> None:
    triggers = open_triggers(engine, migrate=False)
    with LiveServer(create_app(triggers, TokenBook(triggers.sessions))) as server:
        answer = httpx.get(server.url + "/oauth/callback", params=query)
    assert answer.status_code == 400
    assert answer.json()["error"]["field"] == field
    assert words in answer.json()["error"]["message"]


def test_authorizing_an_unknown_connection_names_it(engine: Engine) -> None:
    triggers = open_triggers(engine, migrate=False)
    tokens = TokenBook(triggers.sessions)
    admin = {"Authorization": "Bearer " + tokens.create("admin")[1]}
    with LiveServer(create_app(triggers, tokens)) as server:
        answer = httpx.post(server.url + "/api/v1/connections/nothere/authorize",
                            headers=admin)
    assert answer.status_code == 404
    assert answer.json()["error"]["message"] == "Connection 'nothere' does not exist"


FUNCTION = ('r = invokeurl [ url: "{api}/invoices" type: GET '
            'parameters: {{"organization_id": "1"}} connection: "books" ];\n'
            'return r.get("invoices").size();')
BUTTON = ('r = invokeurl [ url: "{api}/invoices/" + invoice.get("invoice_id") type: GET '
          'parameters: {{"organization_id": "1"}} connection: "books" ];\n'
          'return {{"code": 0, "message": "Due: " + r.get("invoice").get("balance")}};')
SCHEDULE = ('r = invokeurl [ url: "{api}/invoices" type: GET '
            'parameters: {{"organization_id": "1"}} connection: "books" ];\n'
            'info "invoices: " + r.get("invoices").size();')


@pytest.mark.parametrize("mode", ["in-process", "isolated"])
def test_functions_buttons_and_schedules_call_apis_through_a_connection(
        engine: Engine, provider: LocalProvider, mode: str,
        request: pytest.FixtureRequest) -> None:
    registry = _add_books(engine, provider)
    start = registry.begin_authorization("books", "http://127.0.0.1:9/oauth/callback")
    answer = dict(parse_qsl(urlsplit(provider.approve(start.url)).query))
    registry.complete_authorization(answer["state"], answer["code"])
    registry.close()

    broker = service_broker(ServiceRegistry(engine))
    forker: Any = request.getfixturevalue("forker") if mode == "isolated" else None
    triggers = open_triggers(engine, migrate=False, broker=broker, forker=forker)
    api = provider.api_base
    triggers.catalog.save("count", FUNCTION.format(api=api), kind="function")
    triggers.catalog.save("balance", BUTTON.format(api=api), kind="button",
                          module="invoices")
    triggers.catalog.save("nightly", SCHEDULE.format(api=api), kind="schedule")
    try:
        out = triggers.launcher.execute_function("count", {}, actor=ME)
        assert (out.result.status, out.result.value) == ("success", 3), out.result.error
        click = triggers.launcher.click_button("balance", record={"invoice_id": "90003"},
                                               actor=ME)
        assert click.reply is not None, click.result.error
        assert click.reply.message == "Due: 49.99"
        triggers.schedules.add({"name": "nightly", "script": "nightly",
                                "recurrence": {"kind": "once"},
                                "start": "2099-01-01T00:00"})
        triggers.schedules.run_now("nightly")
        scheduler = triggers.scheduler(SchedulerSettings(lease=30))
        assert scheduler.run_due(dt.datetime.now(dt.UTC)) == 1
        runs = triggers.history.list()
        assert [(r.trigger, r.status) for r in runs] == [
            ("schedule", "success"), ("button", "success"), ("function", "success")]
        assert runs[0].logs == ["invoices: 3"]
        for run in runs:
            [call] = run.http
            assert (call["connection"], call["status"], call["method"]) == ("books", 200,
                                                                            "GET")
            assert run.stats.get("isolated", False) is (mode == "isolated")
            text = str(run.to_json())
            for token in list(provider.state.access) + list(provider.state.refresh):
                assert token not in text
    finally:
        broker.close()
