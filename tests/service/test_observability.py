"""Observability: GET /metrics (Prometheus text: runs by status, trigger and script, run
durations, HTTP calls by connection and status, token refreshes, scheduler backlog and
lag, the mail outbox, isolated children), JSON-line logs of every request and run with
no secret in them, and /readyz (database reachable, migrations current)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from servicelab import LiveServer, serve_api
from sluice_testdb import sqlite_copy, wait_until
from sluicegate.engine import RunResult
from sluicegate.observability import configure_logging
from sluicegate.service.app import create_app
from sluicegate.service.tokens import TokenBook
from sluicegate.store.db import make_engine
from sluicegate.triggers import open_triggers
from sluicegate.triggers.setup import Triggers


@dataclass
class Api:
    client: httpx.Client
    triggers: Triggers
    admin: dict[str, str]
    runner: dict[str, str]
    token: str


@pytest.fixture
def api(db_url: str) -> Iterator[Api]:
    def scripts(triggers: Triggers) -> None:
        triggers.catalog.save("obs_total", "return amount * 2;", kind="function")
        triggers.catalog.save("obs_fail", 'x = 1 / 0;', kind="function")
        triggers.catalog.save("obs_tick", 'return 1;', kind="schedule")

    with serve_api(db_url, node="obs-test", prepare=scripts) as served:
        yield Api(served.client, served.triggers, served.admin, served.runner,
                  served.admin_token)


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def _value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_runs_by_status_trigger_and_script_with_durations(api: Api) -> None:
    before = _samples(api.client.get("/metrics").text)
    for _ in range(2):
        api.client.post("/api/v1/functions/obs_total/execute", headers=api.runner,
                        json={"inputs": {"amount": 2}})
    api.client.post("/api/v1/functions/obs_fail/execute", headers=api.runner, json={})
    answer = api.client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    after = _samples(answer.text)
    ok = dict(status="success", trigger="function", script="obs_total")
    failed = dict(status="failure", trigger="function", script="obs_fail")
    assert _value(after, "sluice_runs_total", **ok) - _value(before, "sluice_runs_total",
                                                             **ok) == 2
    assert _value(after, "sluice_runs_total", **failed) - _value(
        before, "sluice_runs_total", **failed) == 1
    count = dict(trigger="function", script="obs_total")
    assert _value(after, "sluice_run_duration_seconds_count", **count) - _value(
        before, "sluice_run_duration_seconds_count", **count) == 2
    route = dict(method="POST", route="/api/v1/functions/{name}/execute", status="200")
    assert _value(after, "sluice_api_requests_total", **route) - _value(
        before, "sluice_api_requests_total", **route) == 3


def test_metrics_count_http_calls_by_connection_and_status(api: Api) -> None:
    from sluicegate.observability.metrics import REGISTRY

    def calls(connection: str, status: str) -> float:
        return REGISTRY.get_sample_value("sluice_http_calls_total",
                                         {"connection": connection, "status": status}) or 0
    before = (calls("zbooks", "200"), calls("zbooks", "error"), calls("none", "404"))
    result = RunResult("success", 1, [], None, {"statements": 1, "duration_ms": 2.0,
                                                "http_calls": 3}, [], [
        {"method": "GET", "url": "https://books.test/x", "status": 200, "connection": "zbooks"},
        {"method": "GET", "url": "https://books.test/y", "connection": "zbooks",
         "error": "timed out"},
        {"method": "GET", "url": "https://plain.test/", "status": 404}])
    import datetime as dt
    now = dt.datetime.now(dt.UTC)
    api.triggers.history.record(trigger="function", script_id=None, script_name="obs_http",
                                script_version=1, inputs={}, result=result, started_at=now,
                                finished_at=now)
    after = (calls("zbooks", "200"), calls("zbooks", "error"), calls("none", "404"))
    assert [a - b for a, b in zip(after, before)] == [1, 1, 1]


def test_metrics_show_scheduler_backlog_and_lag_outbox_and_token_refreshes(api: Api) -> None:
    api.triggers.schedules.add({"name": "obs_hourly", "script": "obs_tick",
                                "recurrence": {"kind": "hourly"},
                                "start": "2099-01-01T00:00"})
    api.triggers.schedules.run_now("obs_hourly")     # due now; no node runs here
    text = api.client.get("/metrics").text
    samples = _samples(text)
    assert _value(samples, "sluice_scheduler_backlog") == 1
    assert _value(samples, "sluice_scheduler_lag_seconds") >= 0
    assert _value(samples, "sluice_database_up") == 1
    assert ("sluice_mail_outbox_messages", (("state", "pending"),)) in samples
    assert "# TYPE sluice_token_refreshes_total counter" in text
    assert "# TYPE sluice_http_calls_total counter" in text


def test_metrics_show_isolated_children_alive(db_url: str) -> None:
    class Forker:
        children = 3

    class Executor:
        forker = Forker()
        mode = "isolated"

        def execute(self, *args: object, **kwargs: object) -> RunResult:
            raise AssertionError("not run here")

    engine = make_engine(db_url)
    triggers = open_triggers(engine, migrate=False, executor=Executor())  # type: ignore[arg-type]
    with LiveServer(create_app(triggers, TokenBook(triggers.sessions))) as server:
        text = httpx.get(server.url + "/metrics").text
    engine.dispose()
    assert _value(_samples(text), "sluice_isolated_children") == 3


def test_logs_are_json_lines_for_each_request_and_run_without_secrets(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLUICE_LOG_FORMAT", raising=False)
    stream = io.StringIO()               # not a terminal: JSON
    configure_logging(stream=stream)
    try:
        answer = api.client.post("/api/v1/functions/obs_total/execute?debug=hunter2",
                                 headers=api.runner,
                                 json={"inputs": {"amount": 2, "password": "hunter2"}})
        run_id = answer.json()["run_id"]
        # the request's line is written once its answer has gone out: wait for it
        wait_until(lambda: '"event": "request"' in stream.getvalue(), 10,
                   "the request's log line")
    finally:
        for name in ("sluicegate", "uvicorn"):
            logger = logging.getLogger(name)
            for handler in [h for h in logger.handlers if h.get_name() == "sluicegate"]:
                logger.removeHandler(handler)
            logger.propagate = True
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    runs = [e for e in lines if e.get("event") == "run"]
    requests = [e for e in lines if e.get("event") == "request"]
    assert len(runs) == 1 and len(requests) == 1
    run = runs[0]
    assert {k: run[k] for k in ("run_id", "script", "trigger", "status", "statements",
                                "http_calls")} == {
        "run_id": run_id, "script": "obs_total", "trigger": "function", "status": "success",
        "statements": 1, "http_calls": 0}
    assert run["duration_ms"] >= 0 and run["level"] == "info" and "ts" in run
    request = requests[0]
    assert (request["method"], request["route"], request["status"]) == (
        "POST", "/api/v1/functions/{name}/execute", 200)
    text = stream.getvalue()
    assert "hunter2" not in text and api.token not in text and "Bearer" not in text


def test_readyz_is_ready_on_a_current_schema_and_not_on_an_old_one(
        api: Api, tmp_path: Path, _sqlite_template: Path) -> None:
    assert api.client.get("/readyz").json() == {"status": "ready", "database": "ok",
                                                "migrations": "current"}
    url = sqlite_copy(_sqlite_template, tmp_path)
    engine = make_engine(url)
    with engine.begin() as conn:   # as if the database were restored from before a release
        conn.exec_driver_sql("DELETE FROM alembic_version WHERE version_num NOT LIKE "
                             "'%connections%' AND version_num NOT LIKE '%master_key%'")
        conn.exec_driver_sql("INSERT INTO alembic_version VALUES ('0001_triggers')")
    triggers = open_triggers(engine, migrate=False)
    with LiveServer(create_app(triggers, TokenBook(triggers.sessions))) as server:
        ready = httpx.get(server.url + "/readyz")
        health = httpx.get(server.url + "/healthz")
    engine.dispose()
    assert ready.status_code == 503 and ready.json()["migrations"].startswith("missing ")
    assert health.status_code == 200
