"""Functions, buttons and replays through the launcher, and what the history keeps of
each run (on SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sluice_testdb import ManualClock
from sluicegate.triggers import Actor, RetentionPolicy
from sluicegate.triggers.buttons import safe_message
from sluicegate.triggers.errors import InvalidField, NotFound
from sluicegate.triggers.history import cap_logs
from sluicegate.triggers.setup import Triggers

ME = Actor.named("ada", "42")


def _button(triggers: Triggers, body: str, location: str = "details",
            user_inputs: list | None = None) -> None:
    triggers.catalog.save("btn", body, kind="button", module="invoices", location=location,
                          user_inputs=user_inputs)


def test_a_function_sees_its_inputs_organization_and_user(triggers: Triggers) -> None:
    triggers.catalog.save("echo", 'void automation.echo(Map invoice, Map organization, '
                          'Map user)\n{\n  info organization.get("time_zone");\n'
                          '  info user.get("name");\n  return invoice.get("total");\n}',
                          kind="function", module="invoices")
    out = triggers.launcher.execute_function("echo", {"invoice": {"total": Decimal("12.50")}},
                                             actor=ME)
    assert out.result.logs == ["UTC", "ada"]
    assert out.result.value == Decimal("12.50")
    assert out.to_json()["run_id"] == out.run_id
    record = triggers.history.get(out.run_id)
    assert (record.trigger, record.script_name, record.script_version, record.actor) == (
        "function", "echo", 1, "ada")
    assert record.return_value == Decimal("12.50")
    assert record.inputs["user"] == {"name": "ada", "email": "", "user_id": "42",
                                     "zuid": "42"}


def test_the_callers_organization_wins_over_the_default(triggers: Triggers) -> None:
    triggers.catalog.save("tz", 'return organization.get("time_zone");', kind="function")
    out = triggers.launcher.execute_function(
        "tz", {"organization": {"time_zone": "Asia/Kolkata", "organization_id": "7"}},
        actor=ME)
    assert out.result.value == "Asia/Kolkata"


def test_a_failed_run_is_recorded_with_the_error_position(triggers: Triggers) -> None:
    triggers.catalog.save("boom", 'info "before";\nx = 1 / 0;', kind="function")
    out = triggers.launcher.execute_function("boom", {}, actor=ME)
    record = triggers.history.get(out.run_id)
    assert record.status == "failure"
    assert record.logs == ["before"]
    assert record.error is not None
    assert (record.error["type"], record.error["line"]) == ("RuntimeError", 2)


def test_a_message_button_returns_code_and_message(triggers: Triggers) -> None:
    _button(triggers, 'return {"code": 0, "message": "Sent " + invoice.get("number")};')
    out = triggers.launcher.click_button("btn", record={"number": "INV-7"}, actor=ME)
    assert out.to_json() == {"code": 0, "message": "Sent INV-7", "run_id": out.run_id}
    assert triggers.history.get(out.run_id).trigger == "button"


def test_a_table_button_returns_header_context_and_data(triggers: Triggers) -> None:
    _button(triggers, 'h = List();\nh.add({"key": "n", "value": "Number"});\nd = List();\n'
            'd.add({"n": invoice.get("number")});\nreturn {"header_context": h, "data": d};')
    out = triggers.launcher.click_button("btn", record={"number": "INV-7"}, actor=ME)
    assert out.to_json() == {"header_context": [{"key": "n", "value": "Number"}],
                             "data": [{"n": "INV-7"}], "run_id": out.run_id}


@pytest.mark.parametrize("returned, message", [
    ('"done"', 'A button must return a map {"code": N, "message": TEXT} or '
               '{"header_context": [...], "data": [...]}; it returned TEXT \'done\''),
    ("null", 'A button must return a map {"code": N, "message": TEXT} or '
             '{"header_context": [...], "data": [...]}; it returned nothing'),
    ('{"code": 0}', 'A button must return a map {"code": N, "message": TEXT} or '
                    '{"header_context": [...], "data": [...]}; it returned a map with code'),
    ('{"code": "0", "message": "x"}',
     "The button's 'code' must be a NUMBER (0 for success); it is TEXT"),
    ('{"code": 0, "message": 5}', "The button's 'message' must be TEXT; it is NUMBER"),
    ('{"header_context": "n", "data": List()}',
     "The button's 'header_context' must be a LIST of maps with a TEXT 'key' (and a "
     "'value' label)"),
    ('{"header_context": {"a": 1}.keys(), "data": {1, 2}}',
     "The button's 'header_context' must be a LIST of maps with a TEXT 'key' (and a "
     "'value' label)"),
    ('{"header_context": List(), "data": {1, 2}}',
     "The button's 'data' must be a LIST of maps, one per row"),
])
def test_any_other_button_return_is_a_clear_error(triggers: Triggers, returned: str,
                                                  message: str) -> None:
    _button(triggers, f"return {returned};")
    out = triggers.launcher.click_button("btn", record={"number": "1"}, actor=ME)
    body = out.to_json()
    assert (body["code"], body["message"], body["status"]) == (1, message, "failure")
    record = triggers.history.get(out.run_id)
    assert record.status == "failure"
    assert record.error is not None and record.error["message"] == message


def test_a_script_error_in_a_button_is_reported_with_its_position(triggers: Triggers) -> None:
    _button(triggers, 'x = invoice.get("a").toLong();\nreturn {"code": 0, "message": "ok"};')
    body = triggers.launcher.click_button("btn", record={"a": "x1"}, actor=ME).to_json()
    assert body["code"] == 1 and body["error"]["line"] == 1


def test_a_bulk_button_gets_the_list_of_records(triggers: Triggers) -> None:
    _button(triggers, 'return {"code": 0, "message": invoices.size() + " invoices"};',
            location="list")
    out = triggers.launcher.click_button("btn", records=[{"id": 1}, {"id": 2}], actor=ME)
    assert out.to_json()["message"] == "2 invoices"
    with pytest.raises(InvalidField, match="list bulk-action button"):
        triggers.launcher.click_button("btn", record={"id": 1}, actor=ME)


def test_button_user_inputs_are_declared_and_checked(triggers: Triggers) -> None:
    _button(triggers, 'return {"code": 0, "message": reason};',
            user_inputs=[{"name": "reason", "required": True}])
    out = triggers.launcher.click_button("btn", record={}, inputs={"reason": "late"},
                                         actor=ME)
    assert out.to_json()["message"] == "late"
    with pytest.raises(InvalidField) as err:
        triggers.launcher.click_button("btn", record={}, inputs={}, actor=ME)
    assert err.value.field == "inputs.reason"
    with pytest.raises(InvalidField, match="not a user input of this button"):
        triggers.launcher.click_button("btn", record={}, inputs={"reason": "x", "x": 1},
                                       actor=ME)


def test_buttons_run_under_the_10_second_profile(triggers: Triggers) -> None:
    assert triggers.launcher.limits_for("button").timeout == 10.0
    assert triggers.launcher.limits_for("function").timeout == 30.0
    assert triggers.launcher.limits_for("schedule").timeout == 15 * 60.0


def test_a_function_is_not_a_button(triggers: Triggers) -> None:
    triggers.catalog.save("f", "return 1;", kind="function")
    with pytest.raises(NotFound, match="'f' is a function script, not a button"):
        triggers.launcher.click_button("f", record={}, actor=ME)


def test_button_messages_keep_links_and_escape_other_markup() -> None:
    assert safe_message("Plain & simple") == "Plain & simple"
    assert safe_message('See <a href="https://x.test/i?a=1&b=2">INV</a> <b>now</b>') == (
        'See <a href="https://x.test/i?a=1&amp;b=2" target="_blank" '
        'rel="noopener noreferrer">INV</a> <b>now</b>')
    assert safe_message('<a href="javascript:alert(1)">x</a><script>y</script>') == (
        '&lt;a href=&quot;javascript:alert(1)&quot;&gt;x&lt;/a&gt;&lt;script&gt;y'
        '&lt;/script&gt;')


def test_replay_uses_the_stored_inputs_on_the_original_or_current_version(
        triggers: Triggers) -> None:
    triggers.catalog.save("calc", "return amount * 2;", kind="function")
    first = triggers.launcher.execute_function("calc", {"amount": 5}, actor=ME)
    triggers.catalog.save("calc", "return amount * 3;")
    original = triggers.launcher.replay(first.run_id, version="original", actor=ME)
    current = triggers.launcher.replay(first.run_id, version="current", actor=ME)
    assert (original.result.value, original.version) == (10, 1)
    assert (current.result.value, current.version) == (15, 2)
    record = triggers.history.get(current.run_id)
    assert (record.trigger, record.replay_of, record.inputs["amount"]) == ("replay",
                                                                          first.run_id, 5)
    with pytest.raises(InvalidField):
        triggers.launcher.replay(first.run_id, version="latest", actor=ME)
    with pytest.raises(NotFound):
        triggers.launcher.replay(9999, actor=ME)


def test_a_replayed_button_is_checked_again(triggers: Triggers) -> None:
    _button(triggers, 'return {"code": 0, "message": "v1"};')
    first = triggers.launcher.click_button("btn", record={"id": 1}, actor=ME)
    _button(triggers, 'return "broken";')
    again = triggers.launcher.replay(first.run_id, version="current", actor=ME)
    assert again.to_json()["status"] == "failure"
    assert triggers.launcher.replay(first.run_id, actor=ME).to_json()["message"] == "v1"


def test_secret_inputs_are_redacted_in_the_history(triggers: Triggers) -> None:
    triggers.catalog.save("f", "return 1;", kind="function")
    out = triggers.launcher.execute_function(
        "f", {"api_key": "k-123", "settings": {"password": "p", "client_secret": "s",
                                               "refresh_token": "r", "size": 3},
              "token_list": ["t"], "note": "kept"}, actor=ME)
    inputs = triggers.history.get(out.run_id).inputs
    assert inputs["api_key"] == "[redacted]" and inputs["token_list"] == "[redacted]"
    assert inputs["settings"] == {"password": "[redacted]", "client_secret": "[redacted]",
                                  "refresh_token": "[redacted]", "size": 3}
    assert inputs["note"] == "kept"


def test_logs_are_capped_in_the_history(triggers: Triggers) -> None:
    triggers.history.max_log_lines = 5
    triggers.catalog.save("chatty", "for each i in {1,2,3,4,5,6,7,8} { info i; }",
                          kind="function")
    out = triggers.launcher.execute_function("chatty", {}, actor=ME)
    record = triggers.history.get(out.run_id)
    assert record.logs == ["1", "2", "3", "4", "5", "[3 more log lines not stored: the "
                           "history keeps 5 lines / 64 KB]"]
    assert record.logs_truncated
    assert cap_logs(["x" * 10] * 3, 100, 25) == (
        ["x" * 10, "x" * 10, "[1 more log line not stored: the history keeps 100 lines / "
                             "0 KB]"], True)


def test_retention_prunes_runs_by_age_and_by_count(triggers: Triggers,
                                                   clock: ManualClock) -> None:
    triggers.catalog.save("f", "return 1;", kind="function")
    for _ in range(3):
        triggers.launcher.execute_function("f", {}, actor=ME)
    clock.advance(40 * 86400)
    kept = [triggers.launcher.execute_function("f", {}, actor=ME).run_id for _ in range(4)]
    policy = RetentionPolicy(max_age=dt.timedelta(days=30), max_count=None)
    assert triggers.history.prune(policy, clock.now()) == 3
    assert triggers.history.prune(RetentionPolicy(max_age=None, max_count=2),
                                  clock.now()) == 2
    assert [r.id for r in triggers.history.list()] == kept[:-3:-1]


def test_runs_are_listed_newest_first_and_filtered(triggers: Triggers) -> None:
    triggers.catalog.save("f", "return 1;", kind="function")
    triggers.catalog.save("g", "x = 1/0;", kind="function")
    a = triggers.launcher.execute_function("f", {}, actor=ME).run_id
    b = triggers.launcher.execute_function("g", {}, actor=ME).run_id
    assert [r.id for r in triggers.history.list()] == [b, a]
    assert [r.id for r in triggers.history.list(status="failure")] == [b]
    assert [r.id for r in triggers.history.list(script="f")] == [a]
    assert [r.id for r in triggers.history.list(before=b)] == [a]
