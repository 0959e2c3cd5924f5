"""The organization profile: `sluice org set|show`, GET/PUT /api/v1/org, and what every
trigger takes from it (zoho.adminuserid, the organization map, the default time zone);
inputs still override. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from servicelab import serve_api
from sluicegate.store.db import make_engine
from sluicegate.triggers import open_triggers
from sluicegate.triggers.inputs import schedule_inputs
from sluicegate.triggers.launcher import Actor

WHO = ('return {"admin": zoho.adminuserid, "adminuser": zoho.adminuser, '
       '"login": zoho.loginuserid, "org": organization.get("organization_id"), '
       '"name": organization.get("name"), "currency": organization.get("currency_code"), '
       '"owner": organization.get("creator_owner"), '
       '"app": organization.get("creator_application"), '
       '"zone": organization.get("time_zone"), "hour_zone": zoho.currenttime.toString("z")};')


def test_org_set_then_show_and_every_field_is_checked(sluice) -> None:
    code, _, err = sluice("org", "show")
    assert code == 2 and "sluice org set --admin-email" in err
    code, _, err = sluice("org", "set", "--name", "Acme")
    assert code == 2 and "admin_email" in err and "first profile" in err
    code, out, _ = sluice("org", "set", "--admin-email", "admin@acme.test", "--org-id", "6000",
                          "--name", "Acme GmbH", "--currency", "eur", "--timezone",
                          "Europe/Berlin", "--date-format", "dd-MM-yyyy",
                          "--creator-owner", "acme", "--creator-app", "crm_app")
    assert code == 0 and "admin-email:   admin@acme.test" in out
    code, out, _ = sluice("org", "set", "--name", "Acme AG")   # merges
    assert code == 0
    code, out, _ = sluice("org", "show", "--json")
    assert json.loads(out) == {
        "admin_email": "admin@acme.test", "org_id": "6000", "name": "Acme AG",
        "currency": "EUR", "timezone": "Europe/Berlin", "date_format": "dd-MM-yyyy",
        "creator_owner": "acme", "creator_application": "crm_app"}
    for option, value, words in (("--admin-email", "not-an-address", "admin_email"),
                                 ("--timezone", "Mars/Base", "IANA"),
                                 ("--currency", "EURO", "ISO 4217"),
                                 ("--date-format", "%Y", "day, month or year")):
        code, _, err = sluice("org", "set", option, value)
        assert code == 2 and words in err and "Traceback" not in err, option
    assert json.loads(sluice("org", "show", "--json")[1])["timezone"] == "Europe/Berlin"
    code, _, err = sluice("org", "set")
    assert code == 2 and "nothing to set" in err


def test_every_trigger_takes_the_profile_and_inputs_still_override(db_url: str) -> None:
    engine = make_engine(db_url)
    triggers = open_triggers(engine, migrate=False, node="org-test")
    try:
        triggers.catalog.save("who", WHO, kind="function")
        before = triggers.launcher.execute_function("who", {}, actor=Actor.named("t"))
        assert before.result.plain["admin"] is None
        from sluicegate.org import ProfileBook
        ProfileBook(triggers.sessions).set({"admin_email": "admin@acme.test",
                                            "org_id": "6000", "name": "Acme",
                                            "currency": "EUR", "timezone": "Asia/Tokyo",
                                            "creator_owner": "acme",
                                            "creator_application": "crm_app"}, by="test")
        got = triggers.launcher.execute_function("who", {}, actor=Actor.named("t")).result
        assert got.ok, got.error
        assert got.plain == {"admin": "admin@acme.test", "adminuser": "admin@acme.test",
                             "login": "admin@acme.test", "org": "6000", "name": "Acme",
                             "currency": "EUR", "owner": "acme", "app": "crm_app",
                             "zone": "Asia/Tokyo", "hour_zone": "JST"}
        # inputs override: the caller's user e-mail is the login user; its organization wins
        got = triggers.launcher.execute_function(
            "who", {"user": {"email": "clerk@acme.test"},
                    "organization": {"time_zone": "UTC", "admin_email": "boss@acme.test"}},
            actor=Actor.named("t")).result
        assert (got.plain["admin"], got.plain["login"], got.plain["zone"],
                got.plain["org"]) == ("boss@acme.test", "clerk@acme.test", "UTC", "6000")
        # a replay re-runs the recorded inputs, which hold the profile of the first run
        first = triggers.launcher.execute_function("who", {}, actor=Actor.named("t"))
        again = triggers.launcher.replay(first.run_id, actor=Actor.named("t"))
        assert again.result.plain["admin"] == "admin@acme.test"
        # schedules: the schedule's own zone wins, the rest comes from the profile
        scheduled = schedule_inputs({}, time_zone="Europe/Berlin", defaults=triggers.defaults)
        assert scheduled["organization"]["admin_email"] == "admin@acme.test"
        assert scheduled["organization"]["time_zone"] == "Europe/Berlin"
    finally:
        engine.dispose()


def test_sendmail_from_adminuserid_is_the_profile_address_and_empty_from_is_an_error(
        db_url: str) -> None:
    engine = make_engine(db_url)
    triggers = open_triggers(engine, migrate=False, node="org-test")
    try:
        triggers.catalog.save("mail", 'sendmail [ from: zoho.adminuserid to: "a@x.test" '
                              'subject: "s" message: "m" ]\nreturn 1;', kind="function")
        failed = triggers.launcher.execute_function("mail", {}, actor=Actor.named("t")).result
        assert failed.error is not None and failed.error.line == 1
        assert "'from'" in failed.error.message and "sluice org set" in failed.error.message
        from sluicegate.org import ProfileBook
        ProfileBook(triggers.sessions).set({"admin_email": "admin@acme.test"}, by="test")
        sent = triggers.launcher.execute_function("mail", {}, actor=Actor.named("t")).result
        assert sent.ok and sent.mail[0]["from"] == "admin@acme.test"
    finally:
        engine.dispose()


@pytest.fixture
def api(db_url: str) -> Iterator[tuple[httpx.Client, dict[str, str], dict[str, str]]]:
    with serve_api(db_url, node="api-test") as served:
        yield served.client, served.admin, served.runner


def test_org_over_the_api_is_admin_only_and_checks_fields(api) -> None:
    client, admin, runner = api
    assert client.get("/api/v1/org", headers=admin).status_code == 404
    assert client.put("/api/v1/org", headers=runner,
                      json={"admin_email": "a@acme.test"}).status_code == 403
    bad = client.put("/api/v1/org", headers=admin, json={"admin_email": "nope"})
    assert bad.status_code == 422 and "admin_email" in bad.json()["error"]["message"]
    unknown = client.put("/api/v1/org", headers=admin, json={"admin_mail": "a@acme.test"})
    assert unknown.status_code == 422
    done = client.put("/api/v1/org", headers=admin,
                      json={"admin_email": "a@acme.test", "timezone": "Europe/Paris"})
    assert done.status_code == 200 and done.json()["timezone"] == "Europe/Paris"
    client.put("/api/v1/org", headers=admin, json={"currency": "usd"})
    assert client.get("/api/v1/org", headers=admin).json() == {
        "admin_email": "a@acme.test", "org_id": "", "name": "", "currency": "USD",
        "timezone": "Europe/Paris", "date_format": "", "creator_owner": "",
        "creator_application": ""}
