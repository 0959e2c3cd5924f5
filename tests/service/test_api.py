"""The HTTP API on SQLite and PostgreSQL: authentication and roles (refusals change
nothing), functions, buttons, runs and replay, scripts, schedules, the OpenAPI document,
/healthz. The OAuth callback is tested in test_service_connections.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from servicelab import ServiceApi, serve_api
from sluicegate.store.runs import Run
from sluicegate.store.schedules import Occurrence
from sluicegate.store.scripts import ScriptVersion
from sluicegate.triggers.setup import Triggers
from sqlalchemy import func, select

BUTTON = ('map button.remind(Map invoice)\n{\n    info "reminding " + invoice.get("number");\n'
          '    return {"code": 0, "message": "Reminded " + invoice.get("number")};\n}\n')


Api = ServiceApi


def _scripts(triggers: Triggers) -> None:
    triggers.catalog.save("total", "return amount * 2;", kind="function")
    triggers.catalog.save("remind", BUTTON, kind="button", module="invoices")
    triggers.catalog.save("tick", 'info "tick"; return 1;', kind="schedule")
    triggers.schedules.add({"name": "hourly", "script": "tick",
                            "recurrence": {"kind": "hourly"}, "start": "2099-01-01T00:00"})


@pytest.fixture
def api(db_url: str) -> Iterator[Api]:
    with serve_api(db_url, node="api-test", prepare=_scripts) as served:
        yield served


def _counts(api: Api) -> tuple[int, int, int, bool, int]:
    with api.triggers.sessions() as s:
        return (s.scalar(select(func.count()).select_from(Run)) or 0,
                s.scalar(select(func.count()).select_from(Occurrence)) or 0,
                s.scalar(select(func.count()).select_from(ScriptVersion)) or 0,
                api.triggers.schedules.get("hourly").paused,
                len(api.tokens.list()))


WRITES = [
    ("post", "/api/v1/functions/total/execute", {"inputs": {"amount": 2}}),
    ("post", "/api/v1/buttons/remind/click", {"record": {"number": "INV-1"}}),
    ("post", "/api/v1/schedules/hourly/run-now", None),
    ("post", "/api/v1/schedules/hourly/pause", None),
    ("post", "/api/v1/scripts", {"name": "total", "source": "return 0;"}),
    ("post", "/api/v1/runs/1/replay", {}),
]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer sgt_not-a-real-token"},
                                     {"Authorization": "Basic dXNlcjpwYXNz"},
                                     {"Authorization": "Bearer"}])
def test_requests_without_a_valid_token_get_401_and_change_nothing(
        api: Api, headers: dict[str, str]) -> None:
    api.client.post("/api/v1/functions/total/execute", headers=api.runner,
                    json={"inputs": {"amount": 1}})
    before = _counts(api)
    for method, path, body in WRITES + [("get", "/api/v1/runs", None),
                                        ("get", "/api/v1/runs/1", None)]:
        answer = getattr(api.client, method)(path, headers=headers,
                                             **({"json": body} if body is not None else {}))
        assert answer.status_code == 401, path
        assert answer.headers["www-authenticate"].startswith("Bearer")
        assert answer.json()["error"]["type"] == "Unauthorized"
    assert _counts(api) == before


def test_a_revoked_token_is_refused(api: Api) -> None:
    info, token = api.tokens.create("runner")
    headers = {"Authorization": f"Bearer {token}"}
    assert api.client.get("/api/v1/runs", headers=headers).status_code == 200
    api.tokens.revoke(str(info.id))
    assert api.client.get("/api/v1/runs", headers=headers).status_code == 401


def test_a_runner_token_cannot_administer_and_changes_nothing(api: Api) -> None:
    before = _counts(api)
    for method, path, body in WRITES[2:] + [("get", "/api/v1/scripts", None),
                                            ("get", "/api/v1/schedules", None),
                                            ("delete", "/api/v1/schedules/hourly", None)]:
        answer = getattr(api.client, method)(path, headers=api.runner,
                                             **({"json": body} if body is not None else {}))
        assert answer.status_code == 403, path
        assert answer.json()["error"]["message"] == ("This needs the admin role; the token "
                                                     "is a runner token")
    assert _counts(api) == before


def test_tokens_are_stored_only_as_digests(api: Api) -> None:
    token = api.runner["Authorization"].split()[1]
    with api.triggers.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT * FROM api_tokens").all()
    assert all(token not in str(value) for row in rows for value in row)


def test_executing_a_function_answers_the_run_result_and_run_id(api: Api) -> None:
    answer = api.client.post("/api/v1/functions/total/execute", headers=api.runner,
                             content=b'{"inputs": {"amount": 12.50}}')
    assert answer.status_code == 200
    assert '"return":25.00' in answer.text          # decimals keep their scale
    body = answer.json()
    assert {"status", "return", "logs", "error", "mail", "http", "stats", "run_id"} <= set(body)
    assert body["status"] == "success"
    run = api.client.get(f"/api/v1/runs/{body['run_id']}", headers=api.runner).json()
    assert (run["trigger"], run["script"], run["version"]) == ("function", "total", 1)
    assert run["inputs"]["user"]["name"] == "ui"


def test_a_failing_function_answers_its_error_with_position(api: Api) -> None:
    api.triggers.catalog.save("boom", 'info "x";\ny = 1 / 0;', kind="function")
    body = api.client.post("/api/v1/functions/boom/execute", headers=api.runner).json()
    assert (body["status"], body["error"]["type"], body["error"]["line"]) == (
        "failure", "RuntimeError", 2)


def test_clicking_a_button_answers_code_message_and_run_id(api: Api) -> None:
    answer = api.client.post("/api/v1/buttons/remind/click", headers=api.runner,
                             json={"record": {"number": "INV-9"}})
    assert answer.status_code == 200
    body = answer.json()
    assert body == {"code": 0, "message": "Reminded INV-9", "run_id": body["run_id"]}
    run = api.client.get(f"/api/v1/runs/{body['run_id']}", headers=api.runner).json()
    assert run["logs"] == ["reminding INV-9"] and run["trigger"] == "button"


def test_a_button_with_a_bad_return_answers_a_clear_error(api: Api) -> None:
    api.triggers.catalog.save("remind", 'return {"status": "ok"};')
    body = api.client.post("/api/v1/buttons/remind/click", headers=api.runner,
                           json={"record": {"number": "INV-9"}}).json()
    assert body["code"] == 1 and body["status"] == "failure"
    assert body["message"] == ('A button must return a map {"code": N, "message": TEXT} or '
                               '{"header_context": [...], "data": [...]}; it returned a '
                               'map with status')


@pytest.mark.parametrize("path, body, status, error", [
    ("/api/v1/functions/nope/execute", {}, 404, "NotFound"),
    ("/api/v1/buttons/total/click", {"record": {}}, 404, "NotFound"),
    ("/api/v1/buttons/remind/click", {"records": [{}]}, 422, "InvalidField"),
    ("/api/v1/buttons/remind/click", {}, 422, "InvalidField"),
    ("/api/v1/functions/total/execute", {"inputs": [1]}, 422, "InvalidField"),
    ("/api/v1/functions/total/execute", {"input": {"amount": 1}}, 422, "InvalidField"),
])
def test_bad_requests_say_what_is_wrong(api: Api, path: str, body: dict, status: int,
                                        error: str) -> None:
    answer = api.client.post(path, headers=api.runner, json=body)
    assert answer.status_code == status
    assert answer.json()["error"]["type"] == error


def test_an_unknown_body_field_is_named_and_nothing_runs(api: Api) -> None:
    answer = api.client.post("/api/v1/functions/total/execute", headers=api.runner,
                             json={"arguments": {"amount": 5}})
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "arguments"
    assert api.client.get("/api/v1/runs?script=total", headers=api.runner).json()["runs"] == []


def test_a_body_that_is_not_json_is_a_400(api: Api) -> None:
    answer = api.client.post("/api/v1/functions/total/execute", headers=api.runner,
                             content=b"{inputs")
    assert answer.status_code == 400


def test_runs_are_listed_and_replayed_by_an_admin(api: Api) -> None:
    first = api.client.post("/api/v1/functions/total/execute", headers=api.runner,
                            json={"inputs": {"amount": 5}}).json()
    api.triggers.catalog.save("total", "return amount * 3;")
    listing = api.client.get("/api/v1/runs?script=total", headers=api.runner).json()
    assert [r["id"] for r in listing["runs"]] == [first["run_id"]]
    assert api.client.post(f"/api/v1/runs/{first['run_id']}/replay",
                           headers=api.runner, json={}).status_code == 403
    original = api.client.post(f"/api/v1/runs/{first['run_id']}/replay", headers=api.admin,
                               json={"version": "original"}).json()
    current = api.client.post(f"/api/v1/runs/{first['run_id']}/replay", headers=api.admin,
                              json={"version": "current"}).json()
    assert (original["return"], original["version"]) == (10, 1)
    assert (current["return"], current["version"]) == (15, 2)
    replayed = api.client.get(f"/api/v1/runs/{current['run_id']}", headers=api.runner).json()
    assert replayed["replay_of"] == first["run_id"]


def test_scripts_are_versioned_diffed_and_rolled_back_over_the_api(api: Api) -> None:
    bad = api.client.post("/api/v1/scripts", headers=api.admin,
                          json={"name": "total", "source": "return amount *;"})
    assert bad.status_code == 422
    assert bad.json()["error"]["diagnostic"].startswith("total.dg:1:")
    saved = api.client.post("/api/v1/scripts", headers=api.admin,
                            json={"name": "total", "source": "return amount * 4;",
                                  "message": "x4"})
    assert saved.status_code == 201 and saved.json()["version"]["number"] == 2
    script = api.client.get("/api/v1/scripts/total", headers=api.admin).json()
    assert [(v["number"], v["status"]) for v in script["versions"]] == [
        (1, "superseded"), (2, "published")]
    diff = api.client.get("/api/v1/scripts/total/diff?from=1&to=2", headers=api.admin)
    assert "-return amount * 2;" in diff.json()["diff"]
    rolled = api.client.post("/api/v1/scripts/total/rollback", headers=api.admin,
                             json={"version": 1})
    assert rolled.json()["status"] == "published"
    body = api.client.post("/api/v1/functions/total/execute", headers=api.runner,
                           json={"inputs": {"amount": 1}}).json()
    assert (body["return"], body["version"]) == (2, 1)
    source = api.client.get("/api/v1/scripts/total/versions/2", headers=api.admin).json()
    assert source["source"] == "return amount * 4;"


def test_schedules_over_the_api(api: Api) -> None:
    created = api.client.post("/api/v1/schedules", headers=api.admin, json={
        "name": "monthly", "script": "tick", "timezone": "Europe/Berlin",
        "recurrence": {"kind": "monthly", "nth": "first", "weekday": "mon"},
        "start": "2030-01-01T08:00", "end": {"after": 12}, "retries": 1})
    assert created.status_code == 201
    assert created.json()["next_runs"][:2] == ["2030-01-07T07:00:00+00:00",
                                               "2030-02-04T07:00:00+00:00"]
    bad = api.client.post("/api/v1/schedules", headers=api.admin, json={
        "name": "bad", "script": "tick", "recurrence": {"kind": "weekly", "days": ["xyz"]}})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "recurrence.days"
    assert api.client.post("/api/v1/schedules/monthly/pause",
                           headers=api.admin).json()["paused"] is True
    assert api.client.post("/api/v1/schedules/monthly/resume",
                           headers=api.admin).json()["paused"] is False
    queued = api.client.post("/api/v1/schedules/monthly/run-now", headers=api.admin)
    assert queued.status_code == 202 and queued.json()["state"] == "pending"
    shown = api.client.get("/api/v1/schedules/monthly?next=3", headers=api.admin).json()
    assert len(shown["next_runs"]) == 3 and shown["occurrences"][0]["manual"] is True
    names = [s["name"] for s in api.client.get("/api/v1/schedules",
                                               headers=api.admin).json()["schedules"]]
    assert names == ["hourly", "monthly"]
    assert api.client.delete("/api/v1/schedules/monthly",
                             headers=api.admin).status_code == 204
    assert api.client.get("/api/v1/schedules/monthly", headers=api.admin).status_code == 404


def test_the_api_is_described_by_an_openapi_document(api: Api) -> None:
    doc = api.client.get("/openapi.json").json()
    for path in ("/api/v1/functions/{name}/execute", "/api/v1/buttons/{name}/click",
                 "/api/v1/runs", "/api/v1/runs/{run_id}", "/api/v1/schedules",
                 "/oauth/callback", "/healthz", "/api/v1/connections",
                 "/api/v1/connections/{link}/authorize"):
        assert path in doc["paths"], path
    click = doc["paths"]["/api/v1/buttons/{name}/click"]["post"]
    assert "record" in click["requestBody"]["content"]["application/json"]["schema"][
        "properties"]
    assert click["security"] == [{"HTTPBearer": []}]
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


def test_healthz_needs_no_token(api: Api) -> None:
    answer = api.client.get("/healthz")
    assert answer.status_code == 200
    assert (answer.json()["database"], answer.json()["executor"]) == ("ok", "in-process")
