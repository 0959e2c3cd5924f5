"""parser's LALR loop (runtime/parsing/fastparse.py) against `Lark.parse`: the same trees, the
same translations and the same errors (type, token, expected terminals, position)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sluicegate import parser
from sluicegate.errors import ScriptSyntaxError
from sluicegate.parsing import fastparse
from sluicegate.parsing.larkload import UnexpectedInput
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


_LEXER_TEXTS = _BROKEN + [
    "x = 1 @ 2;", "x = `a`;", 'info "abc\ny";', "x = 1; /* open", "x = 1;\r\n\ty = x + 2;\n",
    "// only a comment", "", "   \n\n  ", "a = 'x' + \"y\" /* c */ // d\n;", "x = 1 # 2;",
    "for each index i in {1,2} { info i; }\ninfo \"é\\u00e9\";",
]


def _tokens(parse: Any, text: str, positions: bool) -> Any:
    """Every token (all its fields) and comment of a parse, and how it ended."""
    with parser._lock:
        lark, postlex = parser._parser_for(None, positions)
        postlex.record = []
        parser._comments.clear()
        try:
            parse(lark, text)
            ended: Any = "ok"
        except UnexpectedInput as exc:
            ended = (type(exc).__name__, exc.line, exc.column,
                     sorted(getattr(exc, "expected", None) or ()),
                     sorted(getattr(exc, "allowed", None) or ()))
        fields = ("type", "value", "start_pos", "line", "column", "end_line", "end_column",
                  "end_pos")
        found = [tuple(getattr(t, f) for f in fields) for t in postlex.record]
        comments = [tuple(getattr(t, f) for f in fields) for t in parser._comments]
        postlex.record = None
        parser._comments.clear()
        return ended, found, comments


@pytest.mark.parametrize("positions", [False, True], ids=["plain", "positions"])
def test_the_inline_lexer_gives_lark_s_tokens(positions: bool) -> None:
    """`_lex` yields the tokens Lark's contextual lexer yields, with every position
    field, runs the comment callbacks of the positioned parser, and fails the same way."""
    for text in _SCRIPTS + _LEXER_TEXTS:
        ours = _tokens(fastparse.parse, text, positions)
        assert ours == _tokens(_lark_parse, text, positions), text
    assert any(_tokens(fastparse.parse, t, True)[2] for t in _LEXER_TEXTS)  # comments seen


_PIECES = ["x", " ", "\n", "\r\n", "=", "1", "1.5", ";", '"a\\"b"', "'01-Jan-2020'", "{", "}",
           "(", ")", "if", "else", "for each", "in", "info", "//c\n", "/*c*/", "@", "é", "+",
           ".get(", ",", "\t", "index", "return", "'", '"']


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(_PIECES), max_size=30).map("".join))
def test_the_inline_lexer_agrees_on_any_text(text: str) -> None:
    assert _tokens(fastparse.parse, text, True) == _tokens(_lark_parse, text, True)
