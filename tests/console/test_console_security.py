"""The console's guarantees, checked over plain HTTP: forms without the session's CSRF
token change nothing, runner tokens cannot use admin forms, a secret typed into a form is
never in any response, sessions end with their token, sign-in never redirects off-site,
and the history pages work with 100,000 runs."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import httpx
import pytest
from conftest import Console
from sluicegate.store.runs import Run
from sqlalchemy import func, insert, select

SECRET = "sgcs_typed-into-a-form-7Q2xZ"


def _client(console: Console, token: str) -> httpx.Client:
    client = httpx.Client(base_url=console.url, timeout=30)
    answer = client.post("/sign-in", data={"token": token, "next": "/"})
    assert answer.status_code == 303, answer.text
    return client


def _csrf(client: httpx.Client, path: str = "/") -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert match
    return match.group(1)


@pytest.fixture
def admin(console: Console) -> Iterator[httpx.Client]:
    client = _client(console, console.admin)
    yield client
    client.close()


@pytest.fixture
def runner(console: Console) -> Iterator[httpx.Client]:
    client = _client(console, console.runner)
    yield client
    client.close()


def _runs(console: Console) -> int:
    with console.triggers.sessions() as s:
        return s.scalar(select(func.count()).select_from(Run)) or 0


def test_the_session_cookie_is_http_only_and_same_site(console: Console) -> None:
    with httpx.Client(base_url=console.url) as client:
        answer = client.post("/sign-in", data={"token": console.admin})
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert console.admin not in answer.headers["set-cookie"]


def test_a_form_without_the_sessions_csrf_token_changes_nothing(
        console: Console, admin: httpx.Client, runner: httpx.Client) -> None:
    console.triggers.catalog.save("f", "return 1;", kind="function")
    for csrf in ("", "forged", _csrf(runner)):   # none, made up, another session's
        answer = admin.post("/scripts/f/execute", data={"csrf": csrf})
        assert answer.status_code == 403 and "did not come from this console" in answer.text
        answer = admin.post("/tokens", data={"csrf": csrf, "role": "admin", "name": "x"})
        assert answer.status_code == 403
    assert _runs(console) == 0
    assert len(console.tokens.list()) == 2
    assert admin.post("/scripts/f/execute", data={"csrf": _csrf(admin)}).status_code == 303
    assert _runs(console) == 1


def test_a_form_posted_without_a_session_goes_to_sign_in(console: Console) -> None:
    console.triggers.catalog.save("f", "return 1;", kind="function")
    with httpx.Client(base_url=console.url) as stranger:
        answer = stranger.post("/scripts/f/execute", data={"csrf": "x"})
    assert answer.status_code == 303 and answer.headers["location"].startswith("/sign-in")
    assert _runs(console) == 0


@pytest.mark.parametrize("path, fields", [
    ("/scripts/new", {"name": "x", "kind": "function", "source": "return 1;"}),
    ("/connections/new/custom", {"service_name": "S", "auth_type": "api_key",
                                 "param_name": "X-Key", "api_key": "k-1234567890",
                                 "connection_name": "S", "base_url": "https://a.example/"}),
    ("/tokens", {"role": "admin", "name": "escalate"}),
    ("/schedules/new", {"name": "s", "script": "t", "kind": "daily"}),
])
def test_a_runner_token_is_refused_on_admin_forms(console: Console, runner: httpx.Client,
                                                  path: str, fields: dict[str, str]) -> None:
    answer = runner.post(path, data={"csrf": _csrf(runner), **fields})
    assert answer.status_code == 403 and "Administrators only" in answer.text
    assert runner.get(path).status_code == 403
    assert len(console.tokens.list()) == 2
    assert console.triggers.catalog.list() == []


def test_a_runner_can_see_and_run(console: Console, runner: httpx.Client) -> None:
    console.triggers.catalog.save("f", "return 1;", kind="function")
    for path in ("/", "/runs", "/scripts", "/scripts/f", "/schedules", "/connections"):
        assert runner.get(path).status_code == 200, path
    assert runner.post("/scripts/f/execute", data={"csrf": _csrf(runner)}).status_code == 303
    assert _runs(console) == 1
    assert "Save as a new version" not in runner.get("/scripts/f").text


def test_revoking_a_token_ends_its_sessions(console: Console, admin: httpx.Client) -> None:
    assert admin.get("/runs").status_code == 200
    console.tokens.revoke(console.admin[:12])
    answer = admin.get("/runs")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/sign-in")


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/",
                                    "/\\evil.example"])
def test_sign_in_never_redirects_off_site(console: Console, target: str) -> None:
    with httpx.Client(base_url=console.url) as client:
        answer = client.post("/sign-in", data={"token": console.admin, "next": target})
    assert answer.headers["location"] == "/"


def _every_page(client: httpx.Client) -> list[str]:
    bodies = []
    for path in ("/", "/connections", "/connections/new", "/connections/new/custom",
                 "/runs", "/tokens", "/api/v1/connections"):
        bodies.append(client.get(path, headers={"Authorization": ""}).text)
    for link in re.findall(r'href="(/connections/[a-z0-9_]+)"', client.get("/connections").text):
        bodies.append(client.get(link).text)
    return bodies


@pytest.mark.parametrize("auth, fields", [
    ("oauth2", {"client_id": "cid-1", "client_secret": SECRET,
                "authorize_url": "https://accounts.example/auth",
                "token_url": "https://accounts.example/token"}),
    ("api_key", {"param_name": "X-Api-Key", "api_key": SECRET}),
    ("basic", {"username": "ada", "password": SECRET}),
    ("oauth1", {"client_id": "ck-1", "consumer_secret": SECRET, "token_secret": SECRET}),
])
def test_a_secret_typed_into_a_form_is_never_in_a_response(
        console: Console, admin: httpx.Client, auth: str, fields: dict[str, str]) -> None:
    base = {"csrf": _csrf(admin), "service_name": "Svc", "auth_type": auth,
            "param_type": "header", "connection_name": f"Svc {auth}", **fields}
    refused = admin.post("/connections/new/custom", data=base)   # no base URL yet
    assert refused.status_code == 422 and "base" in refused.text.lower()
    assert SECRET not in refused.text
    added = admin.post("/connections/new/custom",
                       data={**base, "base_url": "https://api.example/"},
                       follow_redirects=True)
    assert added.status_code == 200, added.text
    assert SECRET not in added.text
    link = f"svc_{auth}"
    updated = admin.post(f"/connections/{link}/update",
                         data={"csrf": _csrf(admin), "secret": SECRET + "-new"},
                         follow_redirects=True)
    assert "Connection updated." in updated.text and SECRET not in updated.text
    admin_api = {"Authorization": f"Bearer {console.admin}"}
    assert SECRET not in admin.get(f"/api/v1/connections/{link}", headers=admin_api).text
    for body in _every_page(admin):
        assert SECRET not in body


def test_the_history_pages_through_100000_runs(console: Console, admin: httpx.Client) -> None:
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    rows = [{"trigger": "function", "script_name": f"s{i % 7}", "status":
             "failure" if i % 10 == 0 else "success", "inputs": {}, "logs": [],
             "logs_truncated": False, "stats": {"duration_ms": i % 50}, "http": [],
             "mail": [], "started_at": start + dt.timedelta(seconds=i),
             "finished_at": start + dt.timedelta(seconds=i), "attempt": 1, "node": "n",
             "actor": "a"} for i in range(100_000)]
    with console.triggers.sessions() as s:
        s.execute(insert(Run), rows)
        s.commit()
    first = admin.get("/runs?status=failure&script=s3")
    assert first.status_code == 200
    ids = [int(i) for i in re.findall(r'href="/runs/(\d+)"', first.text)]
    assert len(ids) == 50 and ids == sorted(ids, reverse=True)
    older = re.search(r'before=(\d+)">Older runs', first.text)
    assert older and int(older.group(1)) == ids[-1]
    second = admin.get(f"/runs?status=failure&script=s3&before={older.group(1)}")
    more = [int(i) for i in re.findall(r'href="/runs/(\d+)"', second.text)]
    assert more and max(more) < min(ids)
    assert admin.get("/").status_code == 200


def test_the_console_and_the_api_docs_load_nothing_from_outside_the_server(
        console: Console, admin: httpx.Client) -> None:
    pages = [admin.get(p).text for p in ("/", "/runs", "/scripts", "/connections/new/custom",
                                         "/docs", "/redoc")]
    for page in pages:
        for url in re.findall(r'(?:src|href)="([^"]+)"', page):
            assert url.startswith("/") or url.startswith("#"), url
    for asset in re.findall(r'(?:src|href)="(/static[^"]+)"', "".join(pages)):
        assert admin.get(asset).status_code == 200, asset
