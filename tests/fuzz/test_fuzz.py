"""Property-based fuzzing of the front end: random, mutated and generated Deluge source.

The properties:
- `check` (and the parser under it) never raises; every problem it reports is one of its
  kinds, with a position inside the text;
- whatever the translator accepts, the sandbox backend compiles (policy pass, runtime
  nodes, fast paths, CPython's compiler), and running it never ends in an internal error;
- whatever translates, `sluice fmt` formats idempotently without its meaning check ever
  tripping, and the editor features (completion, signature help, hover, references)
  answer at any position of any text.

The normal test run tries a few hundred examples. A long run is a documented command
(see tests/benchmarks/README.md and the README):

    SLUICE_FUZZ_EXAMPLES=20000 python -m pytest tests/fuzz -q -p no:randomly
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from sluicegate.checker import check_source
from sluicegate.engine import Runtime
from sluicegate.errors import ScriptSyntaxError
from sluicegate.limits import Limits
from sluicegate.sandbox import compile_script

EXAMPLES = int(os.environ.get("SLUICE_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 150,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

_TESTS = Path(__file__).resolve().parents[1]
CORPUS = sorted((_TESTS / "scripts").rglob("*.dg"))
_CORPUS_TEXT = [p.read_text(encoding="utf-8") for p in CORPUS]

# Tokens of the language and of the forms that trip parsers, for insertions.
VOCABULARY = [
    "if", "else", "else if", "for each", "in", "index", "while", "break", "continue",
    "return", "info", "try", "catch", "throw", "void", "string", "int", "map", "list",
    "standalone.", "invokeurl", "invokeapi", "sendmail", "[", "]", "{", "}", "(", ")",
    ";", ",", ":", ".", "=", "==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "%",
    "+=", "-=", "&&", "||", "!", "\"", "'", "//", "/*", "*/", "\n", "\t", " ", "\ufeff",
    "null", "true", "false", "0", "-1", "1.5", "99999999999999999999", "'01-Jan-2020'",
    "x", "input.Field", "Map()", "List()", "List:String()", "Collection()", ".get(",
    ".put(", ".toString()", "zoho.crm.getRecordById(", "url:", "type: GET",
    "connection: \"a\"", "if(", "__class__", "dg_n", "v_x", "é", "\u2028", "\x00",
]


def _problems_are_syntax_errors(text: str) -> None:
    problems = check_source(text, "fuzz.dg")
    lines = text.count("\n") + 2
    for p in problems:
        assert p.type in ("SyntaxError", "UnknownName", "ArgumentCount", "UnusedVariable",
                          "UnassignedVariable", "UnreachableCode"), p
        assert p.message and "Traceback" not in p.message
        if p.line is not None:
            assert 1 <= p.line <= lines, p


def _compiles_if_accepted(text: str) -> None:
    try:
        compiled = compile_script(text, "fuzz.dg")
    except ScriptSyntaxError as err:
        assert err.message and err.line is not None
        return
    assert compiled is not None


def _runs_without_internal_error(text: str) -> None:
    limits = Limits(max_statements=2_000, timeout=2.0, max_text=100_000,
                    max_elements=10_000)
    result = Runtime(timezone="UTC").run(text, {}, filename="fuzz.dg", limits=limits)
    out = result.to_json()
    if out["error"] is not None:
        assert out["error"]["type"] in ("SyntaxError", "RuntimeError", "LimitExceeded"), out
        assert out["error"]["type"] != "InternalError", out


@FUZZ
@given(st.text(max_size=400))
def test_random_text_gets_only_syntax_errors(text: str) -> None:
    _problems_are_syntax_errors(text)
    _compiles_if_accepted(text)


@FUZZ
@given(st.lists(st.sampled_from(VOCABULARY), max_size=60))
def test_token_soup_gets_only_syntax_errors(tokens: list[str]) -> None:
    text = " ".join(tokens)
    _problems_are_syntax_errors(text)
    _compiles_if_accepted(text)


@st.composite
def _mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(_CORPUS_TEXT))
    for _ in range(draw(st.integers(1, 4))):
        if not text:
            break
        at = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["delete", "insert", "duplicate", "swap-lines"]))
        if kind == "delete":
            end = min(len(text), at + draw(st.integers(1, 12)))
            text = text[:at] + text[end:]
        elif kind == "insert":
            text = text[:at] + draw(st.sampled_from(VOCABULARY)) + text[at:]
        elif kind == "duplicate":
            end = min(len(text), at + draw(st.integers(1, 40)))
            text = text[:end] + text[at:end] + text[end:]
        else:
            lines = text.split("\n")
            i = draw(st.integers(0, len(lines) - 1))
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
    return text


@FUZZ
@given(_mutated())
def test_mutated_real_scripts_get_only_syntax_errors_and_compile(text: str) -> None:
    _problems_are_syntax_errors(text)
    _compiles_if_accepted(text)


@FUZZ
@given(_mutated(), st.integers(0, 10**6), st.integers(0, 10**6))
def test_formatter_and_editor_features_never_fail(text: str, a: int, b: int) -> None:
    """`sluice fmt` formats whatever translates, idempotently (its self-check never
    trips), and the editor features answer anywhere in any text, valid or not."""
    from sluicegate.tooling import analyze
    from sluicegate.tooling.features import complete, hover, references, signature_help
    from sluicegate.tooling.format import format_source

    try:
        out = format_source(text, "fuzz.dg")
    except ScriptSyntaxError:
        pass
    else:
        assert format_source(out, "fuzz.dg") == out
    doc = analyze(text, "fuzz.dg")
    lines = doc.source.split("\n")
    line = a % len(lines) + 1
    column = b % (len(lines[line - 1]) + 1) + 1
    complete(doc if doc.tree is not None else None, doc.source, line, column)
    signature_help(None, doc.source, line, column)
    if doc.tree is not None:
        hover(doc, line, column)
        references(doc, line, column)


# ---- generated valid scripts -----------------------------------------------------------
_NAMES = st.sampled_from(["a", "b", "total", "Rec", "m", "l", "x1"])
_LITERALS = st.one_of(
    st.integers(-10**6, 10**6).map(str),
    st.decimals(-1000, 1000, places=2, allow_nan=False).map(str),
    st.text(alphabet="abc XYZ,é-", max_size=8).map(lambda s: '"' + s + '"'),
    st.sampled_from(["null", "true", "false", "{}", "{1, 2}", '{"k": 1}', "Map()",
                     "List()", "'01-Jan-2020'", "today", "zoho.currentdate"]),
)
_METHODS = st.sampled_from([
    ".toString()", ".length()", ".size()", ".isEmpty()", ".toList()", ".get(0)",
    '.get("k")', ".toUpperCase()", ".trim()", ".toLong()", ".toDecimal()", ".isNull()",
    '.contains("a")', ".keys()", ".addDay(1)", ".round(1)", ".abs()", ".toMap()",
    '.getJSON("k")', ".sort()", ".distinct()", ".subString(0, 1)",
])


def _expressions() -> st.SearchStrategy[str]:
    leaves = st.one_of(_LITERALS, _NAMES)
    return st.recursive(leaves, lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "%", "==", "!=", "<", ">=",
                                          "&&", "||"]), inner).map(" ".join),
        st.tuples(inner, _METHODS).map("".join),
        inner.map(lambda e: "(" + e + ")"),
        inner.map(lambda e: "!" + e),
        st.tuples(inner, inner, inner).map(lambda t: f"if({t[0]}, {t[1]}, {t[2]})"),
        st.lists(inner, max_size=3).map(lambda xs: "{" + ", ".join(xs) + "}"),
        st.tuples(inner, inner).map(lambda t: f"ifnull({t[0]}, {t[1]})"),
    ), max_leaves=8)


def _statements(depth: int = 0) -> st.SearchStrategy[str]:
    expr = _expressions()
    simple = st.one_of(
        st.tuples(_NAMES, expr).map(lambda t: f"{t[0]} = {t[1]};"),
        st.tuples(_NAMES, st.sampled_from(["+=", "-="]), expr).map(
            lambda t: f"{t[0]} {t[1]} {t[2]};"),
        expr.map(lambda e: f"info {e};"),
        st.tuples(_NAMES, expr).map(lambda t: f'{t[0]}.put("k", {t[1]});'),
        st.just("break;"), st.just("continue;"),
    )
    if depth >= 2:
        return simple
    block = st.lists(_statements(depth + 1), max_size=3).map(lambda ss: "\n".join(ss))
    return st.one_of(
        simple,
        st.tuples(expr, block, block).map(
            lambda t: f"if ({t[0]})\n{{\n{t[1]}\n}}\nelse\n{{\n{t[2]}\n}}"),
        st.tuples(_NAMES, expr, block).map(
            lambda t: f"for each {t[0]} in {t[1]}\n{{\n{t[2]}\n}}"),
        st.tuples(block, _NAMES, block).map(
            lambda t: f"try\n{{\n{t[0]}\n}}\ncatch ({t[1]})\n{{\n{t[2]}\n}}"),
    )


@FUZZ
@given(st.lists(_statements(), min_size=1, max_size=6).map("\n".join))
@example("a = 0.get(0);")   # found by this test: a literal receiver of the list-get fast path
@example('b = "x".get(1);\nc = null.get(0);')
def test_generated_scripts_compile_and_never_fail_internally(text: str) -> None:
    _problems_are_syntax_errors(text)
    _compiles_if_accepted(text)
    _runs_without_internal_error(text)


# ---- the fast paths change speed, never results -----------------------------------------
_INT_HEAVY = st.lists(st.one_of(
    st.tuples(_NAMES, st.integers(-50, 50)).map(lambda t: f"{t[0]} = {t[1]};"),
    st.tuples(_NAMES, _NAMES, st.sampled_from(["+", "-", "*", "/", "%"]),
              st.integers(-5, 5)).map(lambda t: f"{t[0]} = {t[1]} {t[2]} {t[3]};"),
    st.tuples(_NAMES, _NAMES, _NAMES).map(lambda t: f"{t[0]} = {t[1]} * {t[2]};"),
    st.tuples(_NAMES, _NAMES).map(lambda t: f"{t[0]} = {t[1]} + 0.5;"),
    st.tuples(_NAMES, st.integers(1, 4), _NAMES).map(
        lambda t: f"for each index i in {{{', '.join(['1'] * t[1])}}} {{ {t[2]} = {t[2]} + i; }}"),
    st.tuples(_NAMES, _NAMES).map(lambda t: f"if ({t[0]} > {t[1]}) {{ {t[0]} = {t[1]}; }}"),
    _NAMES.map(lambda n: f"info {n};"),
), min_size=1, max_size=10).map("\n".join)


@FUZZ
@given(_INT_HEAVY, st.dictionaries(_NAMES, st.one_of(st.integers(-9, 9), st.just("7")),
                                   max_size=2))
def test_number_inference_never_changes_a_result(text: str, inputs: dict) -> None:
    """Scripts of NUMBER arithmetic run with the inferred-NUMBER fast paths and without
    them give the same logs, value and error (the inference only drops type guards)."""
    a = _run_with(text, inputs, set())
    b = _run_with(text, inputs, {"number_inference"})
    for key in ("status", "logs", "return", "error"):
        assert a[key] == b[key], (key, text, inputs)


# Statements that reach every optimization of the fast paths: NUMBER and DECIMAL
# arithmetic and comparisons, text built in a loop, map and list growth and reads.
_VALUES = st.one_of(
    st.integers(-20, 20).map(str), st.sampled_from(["0", "3", "-7", "9223372036854775807"]),
    st.decimals(-50, 50, places=2, allow_nan=False).map(str),
    st.text(alphabet="ab ,", max_size=4).map(lambda s: '"' + s + '"'),
    st.sampled_from(["null", "true", "{1, 2}", '{"k": 1}', "List()", "Map()"]),
    _NAMES,
)
_OPERATORS = st.sampled_from(["+", "-", "*", "/", "%", "==", "!=", "<", ">=", ">"])
_OPTIMIZED = st.lists(st.one_of(
    st.tuples(_NAMES, _VALUES).map(lambda t: f"{t[0]} = {t[1]};"),
    st.tuples(_NAMES, _VALUES, _OPERATORS, _VALUES).map(
        lambda t: f"{t[0]} = {t[1]} {t[2]} {t[3]}; info {t[0]};"),
    st.tuples(_NAMES, st.integers(-9, 9), _OPERATORS, st.integers(-9, 9)).map(
        lambda t: f"{t[0]} = {t[1]} {t[2]} {t[3]}; info {t[0]};"),
    st.tuples(_NAMES, _NAMES, _VALUES).map(lambda t: f"{t[0]} = {t[1]} + {t[2]}; info {t[0]};"),
    st.tuples(_NAMES, _VALUES).map(lambda t: f'{t[0]} = {t[0]} + "-" + {t[1]}; info {t[0]};'),
    st.tuples(_NAMES, st.integers(1, 5), _NAMES, _VALUES).map(
        lambda t: f"for each index i in {{{', '.join(['1'] * t[1])}}} "
                  f"{{ {t[0]} = {t[0]} + {t[3]}; {t[2]} = {t[2]} + i; }} info {t[0]};"),
    st.tuples(_NAMES, _VALUES).map(lambda t: f'{t[0]}.put("k", {t[1]}); info {t[0]};'),
    st.tuples(_NAMES, _VALUES).map(lambda t: f"{t[0]}.add({t[1]} + 1); info {t[0]};"),
    st.tuples(_NAMES, _NAMES, st.integers(-1, 3)).map(
        lambda t: f"{t[0]} = {t[1]}.get({t[2]}); info {t[0]};"),
    st.tuples(_NAMES, _NAMES, st.sampled_from(
        [".trim()", ".toUpperCase()", ".toLowerCase()", ".length()", '.contains("a")',
         ".size()", '.get("k")'])).map(lambda t: f"{t[0]} = {t[1]}{t[2]}; info {t[0]};"),
), min_size=1, max_size=10).map("\n".join)
# Variables that hold one kind (type inference) or, when mixed, several.
_KIND_STATEMENTS = st.sampled_from([
    "m = Map();", 'm = {"k": 1};', "l = List();", "l = {1, 2};", 't = " a b ";',
    "t = t + l;", 't = t + "x" + b;', "m = l;", "l = m;", "t = m;", "b = 2;",
    'info m.size() + l.size();', 'info t.trim() + t.length();', 'm.put("k", t);',
    "l.add(t);", "info l.get(0);", 'info m.get("k");', 'info t.contains("a");'])
# Variables assigned from built-ins whose return type is known (TEXT, NUMBER) or not
# (getJSON, toString of a caught error's TEXT), mixed with the statements above.
_RETURN_STATEMENTS = st.sampled_from([
    "t = t.trim();", "n = t.length();", "n = l.size() + m.size();", "t = t.subString(0, 1);",
    "n = n + t.length();", "info n * 2;", 't = t.toUpperCase() + "x";', 'n = t.indexOf("a");',
    "n = n * 3037000500;", "t = b.toString();", "t = t.leftPad(3);", 'n = t.getJSON("k");',
    "info n + 1;", "info t.length() + n;", "n = t;", "t = n;", 'n = "12".toNumber();',
    "try { n = 1 / 0; } catch (e) { t = e.removeFirstOccurrence(\"\"); info t.lineNo; }",
    "for each x in l { n = n + x.length(); }", 'l.add(t.trim()); m.put("k", n);'])
_OPTIMIZED = st.one_of(_OPTIMIZED, st.lists(_KIND_STATEMENTS, min_size=1, max_size=8).map(
    lambda ss: "\n".join(['t = ""; m = Map(); l = List(); b = 1;', *ss])),
    st.lists(st.one_of(_RETURN_STATEMENTS, _KIND_STATEMENTS), min_size=1, max_size=8).map(
        lambda ss: "\n".join(['t = " a "; n = t.length(); m = Map(); l = List(); b = 1;',
                              *ss])))


def _run_with(text: str, inputs: dict, off: set[str]) -> dict:
    import sluicegate.fastpaths as fastpaths
    from sluicegate.sandbox import clear_cache

    limits = Limits(max_statements=5_000, timeout=2.0)
    saved = set(fastpaths.disabled)
    fastpaths.disabled.clear()
    fastpaths.disabled.update(off)
    try:
        clear_cache()
        return Runtime(timezone="UTC").run(text, dict(inputs), filename="f.dg",
                                           limits=limits).to_json()
    finally:
        fastpaths.disabled.clear()
        fastpaths.disabled.update(saved)
        clear_cache()


@FUZZ
@given(_OPTIMIZED, st.dictionaries(_NAMES, st.one_of(
    st.integers(-9, 9), st.just("7"), st.lists(st.integers(0, 3), max_size=3),
    st.dictionaries(st.just("k"), st.integers(0, 3))), max_size=3))
def test_each_optimization_never_changes_a_result(text: str, inputs: dict) -> None:
    """A script gives the same logs, value, error (type, message, position) and statement
    count with every optimization, with none, and with each one alone turned off."""
    from sluicegate.fastpaths import OPTIMIZATIONS

    every = _run_with(text, inputs, set())
    for off in [set(OPTIMIZATIONS), *({name} for name in sorted(OPTIMIZATIONS))]:
        other = _run_with(text, inputs, off)
        for key in ("status", "logs", "return", "error"):
            assert every[key] == other[key], (key, sorted(off), text, inputs)
        assert every["stats"]["statements"] == other["stats"]["statements"], (off, text)


# ---- inputs: copied (from_json) and adopted in place (adopt_json) agree ----------------
_JSON_SCALARS = st.one_of(
    st.none(), st.booleans(), st.text(max_size=4),
    st.integers(-2**64, 2**64), st.decimals(allow_nan=False, allow_infinity=False, places=3),
    st.floats(allow_nan=False, allow_infinity=False, width=32))
_JSON_VALUES = st.recursive(_JSON_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.one_of(st.text(max_size=3), st.integers(0, 3)), inner, max_size=4)),
    max_leaves=12)


@FUZZ
@given(st.dictionaries(st.text(max_size=3), _JSON_VALUES, max_size=4), st.integers(1, 4))
def test_inputs_adopted_in_place_equal_inputs_copied(inputs: dict, depth: int) -> None:
    """The two ways inputs become Deluge values give the same value, or the same error."""
    import copy

    from sluicegate.errors import LimitExceeded, ScriptRuntimeError
    from sluicegate.values import adopt_json, from_json, to_plain

    def outcome(convert: Any) -> Any:
        try:
            return ("ok", to_plain(convert(copy.deepcopy(inputs), max_depth=depth)))
        except (LimitExceeded, ScriptRuntimeError) as exc:
            return ("error", type(exc).__name__, str(exc))

    assert outcome(adopt_json) == outcome(from_json)
