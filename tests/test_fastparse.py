"""parser's LALR loop (runtime/fastparse.py) against `Lark.parse`: the same trees, the
same translations and the same errors (type, token, expected terminals, position)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from sluicegate import fastparse, parser
from sluicegate.errors import ScriptSyntaxError
from sluicegate.larkload import UnexpectedInput
from sluicegate.translator import _BUILDER

_TESTS = Path(__file__).resolve().parent
_SCRIPTS = [p.read_text(encoding="utf-8") for p in sorted((_TESTS / "scripts").rglob("*.dg"))]
_BROKEN = [
    "x = ;", "if (x) { info 1;", "x = 1 +* 2;", 'info "a', "x = 1\ny = 2;", "}", "else { }",
    'invokeurl [ url: "http://a" type: GET ] info 1;', "for each in l { }", "x = {1, 2",
    "return return;", "x.put(1,);", "void f( { }", "x = 'a' 'b';", "if x { }", "info;",
]


def _outcome(parse: Any, text: str, transformer: Any) -> Any:
    with parser._lock:
        lark, postlex = parser._parser_for(transformer)
        if transformer is not None:
            transformer.reset(text, "t.dg")
        try:
            result = parse(lark, text)
        except UnexpectedInput as exc:
            return (type(exc).__name__, str(getattr(exc, "token", "")),
                    sorted(getattr(exc, "expected", None) or ()), exc.line, exc.column,
                    [str(t) for t in postlex.recent])
        except ScriptSyntaxError as exc:  # raised by the translator's callbacks
            return ("ScriptSyntaxError", str(exc), exc.line, exc.column)
    if transformer is None:
        return result
    return ast.dump(result.module, include_attributes=True), result.constants


def _lark_parse(lark: Any, text: str) -> Any:
    return lark.parse(text)


@pytest.mark.parametrize("transformer", [None, _BUILDER], ids=["tree", "translation"])
def test_same_results_as_lark(transformer: Any) -> None:
    for text in _SCRIPTS + _BROKEN:
        assert (_outcome(fastparse.parse, text, transformer)
                == _outcome(_lark_parse, text, transformer)), text


def test_broken_scripts_fail_the_same_way() -> None:
    failures = [_outcome(fastparse.parse, text, None) for text in _BROKEN]
    assert sum(isinstance(f, tuple) for f in failures) >= len(_BROKEN) - 3
    assert {f[0] for f in failures if isinstance(f, tuple)} >= {"UnexpectedToken", "UnexpectedCharacters"}
