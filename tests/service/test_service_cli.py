"""The service's `sluice` commands (scripts, schedules, runs, tokens) on SQLite and
PostgreSQL: output, exit codes and the messages of misuse."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sluicegate.store.db import make_engine


def write(name: str, text: str) -> str:
    Path(name).write_text(text, encoding="utf-8")
    return name


def test_tokens_create_prints_the_token_alone_on_its_last_line(sluice, db_url: str) -> None:
    code, out, _ = sluice("tokens", "create", "--role", "runner", "--name", "ui")
    assert code == 0
    token = out.splitlines()[-1]
    assert token.startswith("sgt_") and " " not in token and len(token) == 47
    code, out, _ = sluice("tokens", "list")
    assert token not in out and token[:12] in out and "runner" in out
    engine = make_engine(db_url)
    with engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT digest FROM api_tokens").scalar_one()
    engine.dispose()
    assert stored == hashlib.sha256(token.encode()).hexdigest()
    assert sluice("tokens", "revoke", token[:12])[0] == 0
    assert "revoked" in sluice("tokens", "list")[1]
    code, _, err = sluice("tokens", "create", "--role", "root")
    assert code == 2 and "invalid choice: 'root'" in err


def test_scripts_add_versions_diff_rollback_and_run(sluice) -> None:
    write("greet.dg", 'string standalone.greet(String who)\n{\n    return "hi " + who;\n}\n')
    assert sluice("scripts", "add", "greet", "greet.dg", "--kind", "function", "-m",
                  "first") == (0, "greet: version 1 (published)\n", "")
    write("greet.dg", 'string standalone.greet(String who)\n{\n    return "yo " + who;\n}\n')
    assert sluice("scripts", "add", "greet", "greet.dg", "--draft")[1] == (
        "greet: version 2 (draft)\n")
    code, out, _ = sluice("scripts", "versions", "greet")
    assert [line.split()[:2] for line in out.splitlines()[1:]] == [["1", "published"],
                                                                   ["2", "draft"]]
    code, out, _ = sluice("scripts", "diff", "greet")
    assert '-    return "hi " + who;' in out and '+    return "yo " + who;' in out
    assert sluice("scripts", "publish", "greet")[1] == "greet: version 2 published\n"
    code, out, err = sluice("scripts", "run", "greet", "--input", 'who="Ada"')
    assert (code, out) == (0, "return: yo Ada\n") and err.startswith("run ")
    assert sluice("scripts", "rollback", "greet", "1")[0] == 0
    code, out, _ = sluice("scripts", "show", "greet")
    assert "version:   1 (published)" in out and 'return "hi " + who;' in out
    code, out, _ = sluice("scripts", "list")
    assert out.splitlines()[1].split()[:2] == ["greet", "function"]


def test_a_button_runs_from_the_command_line(sluice) -> None:
    write("b.dg", 'return {"code": 0, "message": "ok " + invoice.get("n")};')
    assert sluice("scripts", "add", "b", "b.dg", "--kind", "button", "--module",
                  "invoices")[0] == 0
    code, out, _ = sluice("scripts", "run", "b", "--record", '{"n": "7"}')
    assert (code, out) == (0, "code: 0\nmessage: ok 7\n")


@pytest.mark.parametrize("argv, code, message", [
    (["scripts", "show", "nope"], 2, "sluice scripts: error: No script named 'nope'\n"),
    (["scripts", "add", "9x", "ok.dg", "--kind", "function"], 2,
     "sluice scripts: error: name: must start with a letter and hold only letters, digits, "
     "'_', '.' or '-' (at most 100)\n"),
    (["scripts", "add", "b", "ok.dg", "--kind", "button"], 2,
     "sluice scripts: error: module: a button belongs to a module (such as invoices)\n"),
    (["scripts", "add", "x", "missing.dg", "--kind", "function"], 2,
     "sluice scripts: error: missing.dg: no such file\n"),
    (["scripts", "add", "x", "bad.dg", "--kind", "function"], 1,
     "x.dg:1:5: error: Unexpected ';'\n    x = ;\n        ^\n"),
    (["schedules", "add", "s", "--script", "nope", "--repeat", "daily"], 2,
     "sluice schedules: error: script: no script named 'nope'\n"),
    (["runs", "show", "99"], 2, "sluice runs: error: No run with id 99\n"),
])
def test_misuse_and_failures_exit_with_a_plain_message(sluice, argv: list[str], code: int,
                                                       message: str) -> None:
    write("ok.dg", "return 1;")
    write("bad.dg", "x = ;")
    assert sluice(*argv) == (code, "", message)


def test_schedules_from_the_command_line(sluice) -> None:
    write("tick.dg", 'info "tick";')
    sluice("scripts", "add", "tick", "tick.dg", "--kind", "schedule")
    code, out, _ = sluice("schedules", "add", "nightly", "--script", "tick", "--repeat",
                          "weekly", "--days", "mon,thu", "--start", "2030-03-28T02:30",
                          "--timezone", "Europe/Berlin", "--retries", "2")
    assert code == 0
    assert "when:      every week on mon,thu at 02:30 (Europe/Berlin)" in out
    assert "  2030-03-28 02:30:00 CET  (2030-03-28 01:30:00 UTC)" in out
    assert "  2030-04-01 02:30:00 CEST  (2030-04-01 00:30:00 UTC)" in out
    code, _, err = sluice("schedules", "add", "x", "--script", "tick", "--cron", "99 * * * *")
    assert code == 2 and err.startswith("sluice schedules: error: recurrence.cron: ")
    assert sluice("schedules", "pause", "nightly")[1] == "nightly: paused\n"
    assert "paused" in sluice("schedules", "list")[1]
    assert sluice("schedules", "resume", "nightly")[1].startswith("nightly: active; next run")
    assert sluice("schedules", "run-now", "nightly")[1].startswith(
        "nightly: occurrence 1 queued")
    code, out, _ = sluice("schedules", "show", "nightly", "--next", "2")
    assert "run now" in out and out.count(" UTC)") == 2


def test_runs_list_show_and_replay(sluice) -> None:
    write("f.dg", 'info "calc"; return amount * 2;')
    sluice("scripts", "add", "f", "f.dg", "--kind", "function")
    sluice("scripts", "run", "f", "--input", "amount=4", "--input", 'password="hush"')
    code, out, _ = sluice("runs", "list")
    assert out.splitlines()[1].split()[3:6] == ["cli", "f", "1"]
    code, out, _ = sluice("runs", "show", "1")
    assert '"password":"[redacted]"' in out and "hush" not in out
    assert "return:      8" in out and "  calc" in out
    write("f.dg", "return amount * 3;")
    sluice("scripts", "add", "f", "f.dg")
    assert sluice("runs", "replay", "1", "--version", "current")[1] == "return: 12\n"
    assert sluice("runs", "replay", "1")[1] == "calc\nreturn: 8\n"
    code, out, _ = sluice("runs", "list", "--trigger", "replay", "--json")
    assert code == 0 and out.count('"replay_of":1') == 2
    assert sluice("runs", "prune", "--keep", "1")[1] == "2 runs deleted\n"
