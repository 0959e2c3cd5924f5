"""Asynchronous runs (`?wait=false` answers 202 with a run id; any node runs it through
the queue's claims), incoming webhooks (`sluice scripts expose`), and script deletion.
On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import httpx
import pytest
from servicelab import ServiceApi, serve_api
from sluice_testdb import wait_until
from sluicegate.store.db import make_engine
from sluicegate.triggers import open_triggers
from sluicegate.triggers.queue import QueueNode, RunQueue
from sluicegate.triggers.setup import Triggers

BUTTON = ('map button.remind(Map invoice)\n{\n    return {"code": 0, "message": "Reminded " + '
          'invoice.get("number")};\n}\n')


Api = ServiceApi


def _scripts(triggers: Triggers) -> None:
    triggers.catalog.save("double", "return amount * 2;", kind="function")
    triggers.catalog.save("remind", BUTTON, kind="button", module="invoices")


@pytest.fixture
def api(db_url: str) -> Iterator[Api]:
    with serve_api(db_url, node="async-test", prepare=_scripts) as served:
        yield served


def _queue(api: Api, node: str = "node-a", **kwargs: object) -> RunQueue:
    return RunQueue(api.triggers.sessions, api.triggers.launcher, node=node,
                    **kwargs)  # type: ignore[arg-type]


def test_wait_false_answers_202_with_a_run_id_that_a_node_then_runs(api: Api) -> None:
    answer = api.client.post("/api/v1/functions/double/execute?wait=false",
                             headers=api.runner, json={"inputs": {"amount": 12.50}})
    assert answer.status_code == 202
    run_id = answer.json()["run_id"]
    assert answer.json()["state"] == "queued"
    assert answer.headers["location"] == f"/api/v1/runs/{run_id}"
    queued = api.client.get(f"/api/v1/runs/{run_id}", headers=api.runner).json()
    assert (queued["state"], queued["status"], queued["script"]) == ("queued", "queued",
                                                                       "double")
    assert _queue(api).run_due() == 1
    done = api.client.get(f"/api/v1/runs/{run_id}", headers=api.runner).json()
    assert (done["state"], done["status"], done["return"]) == ("finished", "success", 25.00)
    assert done["node"] == "async-test" and done["trigger"] == "function"
    assert _queue(api).run_due() == 0


def test_a_button_click_can_be_queued_too(api: Api) -> None:
    answer = api.client.post("/api/v1/buttons/remind/click?wait=false", headers=api.runner,
                             json={"record": {"number": "INV-9"}})
    assert answer.status_code == 202
    _queue(api).run_due()
    done = api.triggers.history.get(answer.json()["run_id"])
    assert done.status == "success" and done.return_value == {"code": 0,
                                                              "message": "Reminded INV-9"}


def test_queued_requests_are_checked_before_they_are_accepted(api: Api) -> None:
    missing = api.client.post("/api/v1/functions/nope/execute?wait=false", headers=api.runner,
                              json={})
    assert missing.status_code == 404
    bad = api.client.post("/api/v1/buttons/remind/click?wait=false", headers=api.runner,
                          json={"records": [{"number": 1}]})
    assert bad.status_code == 422
    assert api.client.get("/api/v1/runs", headers=api.runner).json()["runs"] == []
    unauthenticated = api.client.post("/api/v1/functions/double/execute?wait=false", json={})
    assert unauthenticated.status_code == 401


def test_nodes_claim_queued_runs_once_and_a_lost_node_hands_its_run_on(api: Api) -> None:
    ids = [api.client.post("/api/v1/functions/double/execute?wait=false", headers=api.runner,
                           json={"inputs": {"amount": n}}).json()["run_id"] for n in range(3)]
    a = _queue(api, "node-a").claim(2)
    b = _queue(api, "node-b").claim(2)
    assert len(a) == 2 and len(b) == 1
    assert sorted(c.run_id for c in a + b) == sorted(ids)
    assert api.triggers.history.get(a[0].run_id).status == "running"
    # both nodes die; after their leases another node runs all three
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)

    class Later:
        def now(self) -> dt.datetime:
            return later
    c = _queue(api, "node-c", clock=Later())
    assert c.run_due(5) == 3
    assert {api.triggers.history.get(x.run_id).status for x in a + b} == {"success"}
    # a run whose nodes keep dying is given up after max_attempts, as a failure
    lost = api.client.post("/api/v1/functions/double/execute?wait=false", headers=api.runner,
                           json={"inputs": {"amount": 1}}).json()["run_id"]
    _queue(api, "n1").claim(1)
    stubborn = _queue(api, "n2", clock=Later(), max_attempts=1)
    assert stubborn.run_due() == 1
    record = api.triggers.history.get(lost)
    assert record.status == "failure" and "not tried again" in record.error["message"]


def test_a_queue_node_runs_queued_runs_on_its_threads(api: Api) -> None:
    node = QueueNode(_queue(api), concurrency=2, poll=0.05)
    node.start()
    try:
        run_id = api.client.post("/api/v1/functions/double/execute?wait=false",
                                 headers=api.runner,
                                 json={"inputs": {"amount": 4}}).json()["run_id"]
        wait_until(lambda: api.triggers.history.get(run_id).status == "success", 20,
                   "the queued run to finish")
    finally:
        node.stop()


def test_an_exposed_function_runs_from_its_webhook_url_with_body_and_query(
        api: Api, sluice) -> None:
    code, out, _ = sluice("scripts", "expose", "double", "--base-url",
                          str(api.client.base_url))
    assert code == 0
    url = out.splitlines()[-1]
    token = url.rsplit("/", 1)[-1]
    assert url.startswith(f"{api.client.base_url}/hooks/sgh_")
    ran = httpx.post(url + "?source=crm", json={"amount": 21})
    assert ran.status_code == 200 and ran.json()["return"] == 42
    record = api.triggers.history.get(ran.json()["run_id"])
    assert record.trigger == "webhook" and record.inputs["source"] == "crm"
    assert token not in str(record.to_json())
    by_query = httpx.get(url + "?amount=5")     # query values are text
    assert api.triggers.history.get(by_query.json()["run_id"]).inputs["amount"] == "5"
    assert httpx.post(url[:-3] + "xyz", json={}).status_code == 404
    metrics = api.client.get("/metrics").text
    assert 'route="/hooks/{token}"' in metrics and token not in metrics
    assert sluice("scripts", "unexpose", "double")[1] == "double: 1 webhook revoked\n"
    assert httpx.post(url, json={"amount": 1}).status_code == 404
    code, _, err = sluice("scripts", "expose", "remind")
    assert code == 2 and "button" in err


def test_scripts_delete_by_cli_and_api_refuses_while_a_schedule_uses_it(api: Api,
                                                                        sluice) -> None:
    api.triggers.catalog.save("tick", "return 1;", kind="schedule")
    api.triggers.schedules.add({"name": "hourly", "script": "tick",
                                "recurrence": {"kind": "hourly"}, "start": "2099-01-01T00:00"})
    code, _, err = sluice("scripts", "delete", "tick")
    assert code == 1 and "schedule hourly" in err
    api.triggers.schedules.delete("hourly")
    assert sluice("scripts", "delete", "tick") == (0, "tick: deleted with 1 version\n", "")
    assert sluice("scripts", "delete", "tick")[0] == 2
    assert api.client.delete("/api/v1/scripts/double", headers=api.runner).status_code == 403
    assert api.client.delete("/api/v1/scripts/double", headers=api.admin).status_code == 204
    assert api.client.get("/api/v1/scripts/double", headers=api.admin).status_code == 404


def test_concurrent_claims_on_postgresql_never_share_a_queued_run(postgres_url: str) -> None:
    import threading

    engine = make_engine(postgres_url)
    triggers = open_triggers(engine, migrate=False, node="pg")
    try:
        triggers.catalog.save("double", "return amount * 2;", kind="function")
        from sluicegate.triggers.launcher import Actor
        actor = Actor.named("t")
        live, inputs = triggers.launcher.prepare_function("double", {"amount": 1}, actor=actor)
        queue = RunQueue(triggers.sessions, triggers.launcher)
        ids = {queue.enqueue(live, inputs, trigger="function", actor=actor)
               for _ in range(40)}
        barrier = threading.Barrier(4)
        taken: list[list[int]] = [[] for _ in range(4)]

        def claim(n: int) -> None:
            node = RunQueue(triggers.sessions, triggers.launcher, node=f"node-{n}")
            barrier.wait(10)
            while batch := node.claim(3):
                taken[n].extend(c.run_id for c in batch)

        threads = [threading.Thread(target=claim, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        claimed = [run_id for part in taken for run_id in part]
        assert sorted(claimed) == sorted(ids)          # each queued run exactly once
    finally:
        engine.dispose()
