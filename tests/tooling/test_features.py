"""Editor features in-process (the language server's answers, without the protocol)."""

from __future__ import annotations

from sluicegate.tooling import analyze
from sluicegate.tooling.features import complete, signature_help

SCRIPT = 'name = "Ada";\nitems = List();\nd = \'01-Jan-2026\';\ninfo name + items + d;\n'


def _labels(text: str, line: int, column: int) -> list[str]:
    return [c.label for c in complete(analyze(SCRIPT), text, line, column)]


def test_completion_follows_the_inferred_type_of_each_receiver() -> None:
    text = SCRIPT + "x = items.\n"
    assert "addAll" in _labels(text, 5, 11) and "toUpperCase" not in _labels(text, 5, 11)
    text = SCRIPT + "x = d.\n"
    assert "addDay" in _labels(text, 5, 7) and "addAll" not in _labels(text, 5, 7)
    text = SCRIPT + 'x = "abc".\n'
    assert "toUpperCase" in _labels(text, 5, 11)
    text = SCRIPT + "x = today.\n"
    assert "addDay" in _labels(text, 5, 11) and "addAll" not in _labels(text, 5, 11)


def test_no_completion_inside_texts_and_comments() -> None:
    assert _labels(SCRIPT + 'x = "see a.\n', 5, 12) == []
    assert _labels(SCRIPT + "// name.\n", 5, 9) == []
    assert "trim" in _labels(SCRIPT + 'x = "a.b" + name.\n', 5, 18)


def test_task_parameters_inside_a_task_block() -> None:
    text = SCRIPT + 'r = invokeurl\n[\n    url: "https://a.example"\n    \n];\n'
    labels = _labels(text, 8, 5)
    assert "type:" in labels and "connection:" in labels and "subject:" not in labels


def test_signature_help_while_typing_a_method_call() -> None:
    doc = analyze(SCRIPT)
    text = SCRIPT + "x = name.subString(1, \n"
    found = signature_help(doc, text, 5, 23)
    assert found is not None
    assert found.label.startswith("text.subString(") and found.active_parameter == 1
    text = SCRIPT + 'x = ifnull(name.trim(), "a"'
    found = signature_help(doc, text, 5, 28)
    assert found is not None and found.label.startswith("ifnull(") and found.active_parameter == 1


def test_hover_names_system_values_and_variables_with_their_types() -> None:
    from sluicegate.tooling.features import hover

    doc = analyze(SCRIPT + "info today.addDay(1);\n")
    found = hover(doc, 5, 7)
    assert found is not None and "system value: DATETIME" in found.text
    found = hover(doc, 1, 2)
    assert found is not None and "variable: TEXT" in found.text
    found = hover(doc, 5, 13)
    assert found is not None and "addDay(" in found.text
