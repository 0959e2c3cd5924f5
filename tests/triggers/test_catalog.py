"""The script catalog: versions, drafts, publishing, rollback, diffs, and calls between
stored scripts (on SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sluicegate.triggers import Actor
from sluicegate.triggers.errors import Conflict, InvalidField, InvalidSource, NotFound
from sluicegate.triggers.setup import Triggers

ME = Actor.named("tester")
GREET_V1 = 'string standalone.greet(String who)\n{\n    return "hi " + who;\n}\n'
GREET_V2 = 'string standalone.greet(String who)\n{\n    return "hello " + who;\n}\n'


def test_every_save_is_a_version_with_author_and_message(triggers: Triggers) -> None:
    v1 = triggers.catalog.save("greet", GREET_V1, kind="function", author="ada",
                               message="first")
    v2 = triggers.catalog.save("greet", GREET_V2, author="bob", message="friendlier")
    assert (v1.number, v2.number) == (1, 2)
    versions = triggers.catalog.versions("greet")
    assert [(v.number, v.status, v.author, v.message) for v in versions] == [
        (1, "superseded", "ada", "first"), (2, "published", "bob", "friendlier")]
    assert versions[1].params == [{"name": "who", "type": "String"}]
    assert triggers.catalog.get("greet").entry_name == "standalone.greet"


def test_saving_the_same_text_again_adds_no_version(triggers: Triggers) -> None:
    triggers.catalog.save("greet", GREET_V1, kind="function")
    assert triggers.catalog.save("greet", GREET_V1).number == 1


def test_a_draft_is_not_run_until_published(triggers: Triggers) -> None:
    triggers.catalog.save("greet", GREET_V1, kind="function")
    draft = triggers.catalog.save("greet", GREET_V2, publish=False, message="wip")
    assert draft.status == "draft"
    out = triggers.launcher.execute_function("greet", {"who": "Ada"}, actor=ME)
    assert (out.result.value, out.version) == ("hi Ada", 1)
    triggers.catalog.publish("greet")
    out = triggers.launcher.execute_function("greet", {"who": "Ada"}, actor=ME)
    assert (out.result.value, out.version) == ("hello Ada", 2)


def test_rollback_publishes_an_older_version(triggers: Triggers) -> None:
    triggers.catalog.save("greet", GREET_V1, kind="function")
    triggers.catalog.save("greet", GREET_V2)
    rolled = triggers.catalog.rollback("greet", 1, by="ops")
    assert (rolled.number, rolled.status, rolled.published_by) == (1, "published", "ops")
    assert triggers.catalog.get("greet").published_version == 1
    out = triggers.launcher.execute_function("greet", {"who": "Ada"}, actor=ME)
    assert (out.result.value, out.version) == ("hi Ada", 1)
    with pytest.raises(Conflict, match="not older"):
        triggers.catalog.rollback("greet", 2)
    with pytest.raises(NotFound, match="no version 7"):
        triggers.catalog.rollback("greet", 7)


def test_diff_between_versions(triggers: Triggers) -> None:
    triggers.catalog.save("greet", GREET_V1, kind="function")
    triggers.catalog.save("greet", GREET_V2)
    assert triggers.catalog.diff("greet", 1, 2).splitlines() == [
        "--- greet v1", "+++ greet v2", "@@ -1,4 +1,4 @@",
        " string standalone.greet(String who)", " {", '-    return "hi " + who;',
        '+    return "hello " + who;', " }"]
    assert triggers.catalog.diff("greet", 2, 2) == ""


def test_a_script_with_a_syntax_error_is_kept_as_draft_but_never_published(
        triggers: Triggers) -> None:
    with pytest.raises(InvalidSource) as err:
        triggers.catalog.save("broken", "x = ;", kind="function")
    assert (err.value.line, err.value.column) == (1, 5)
    assert err.value.diagnostic.splitlines() == ["broken.dg:1:5: error: Unexpected ';'",
                                                 "    x = ;", "        ^"]
    with pytest.raises(NotFound):
        triggers.catalog.get("broken")
    triggers.catalog.save("broken", "x = ;", kind="function", publish=False)
    with pytest.raises(InvalidSource):
        triggers.catalog.publish("broken")
    with pytest.raises(Conflict, match="no published version"):
        triggers.launcher.execute_function("broken", {}, actor=ME)


@pytest.mark.parametrize("fields, field", [
    ({"name": "1abc", "kind": "function"}, "name"),
    ({"name": "ok", "kind": "macro"}, "kind"),
    ({"name": "ok"}, "kind"),
    ({"name": "ok", "kind": "button"}, "module"),
    ({"name": "ok", "kind": "button", "module": "Invoices!"}, "module"),
    ({"name": "ok", "kind": "button", "module": "invoices", "location": "sidebar"},
     "location"),
    ({"name": "ok", "kind": "function", "location": "list"}, "location"),
    ({"name": "ok", "kind": "button", "module": "invoices", "user_inputs": ["user"]},
     "user_inputs[0]"),
])
def test_bad_script_fields_are_refused_by_name(triggers: Triggers, fields: dict,
                                               field: str) -> None:
    rest = dict(fields)
    name = rest.pop("name")
    with pytest.raises(InvalidField) as err:
        triggers.catalog.save(name, "return 1;", **rest)
    assert err.value.field == field


def test_a_script_keeps_its_kind(triggers: Triggers) -> None:
    triggers.catalog.save("greet", GREET_V1, kind="function")
    with pytest.raises(Conflict, match="cannot become a button"):
        triggers.catalog.save("greet", GREET_V2, kind="button", module="invoices")


def test_stored_functions_call_each_other_by_qualified_name(triggers: Triggers) -> None:
    triggers.catalog.save("greet", GREET_V1, kind="function")
    triggers.catalog.save("caller", 'return standalone.greet("Bob") + "!";', kind="function")
    out = triggers.launcher.execute_function("caller", {}, actor=ME)
    assert (out.result.status, out.result.value) == ("success", "hi Bob!")
    missing = triggers.catalog.save("lost", "return standalone.nothere(1);", kind="function")
    assert missing.number == 1
    out = triggers.launcher.execute_function("lost", {}, actor=ME)
    assert out.result.error is not None
    assert out.result.error.message == "Unknown function 'standalone.nothere'"


def test_two_scripts_cannot_publish_the_same_qualified_name(triggers: Triggers) -> None:
    triggers.catalog.save("greet", GREET_V1, kind="function")
    with pytest.raises(Conflict, match="already published by script 'greet'"):
        triggers.catalog.save("greet2", GREET_V2, kind="function")
