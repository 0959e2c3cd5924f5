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
from decimal import Decimal
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
    # with "compact_once" off, code outside loops has the fast paths too
    for off in ({"compact_once"}, {"compact_once", "number_inference"}):
        b = _run_with(text, inputs, off)
        for key in ("status", "logs", "return", "error"):
            assert a[key] == b[key], (key, off, text, inputs)


# Statements that reach every optimization of the fast paths: NUMBER and DECIMAL
# arithmetic and comparisons, text built in a loop, map and list growth and reads.
_VALUES = st.one_of(
    st.integers(-20, 20).map(str), st.sampled_from(["0", "3", "-7", "9223372036854775807"]),
    # past the 28 digits of Python's default context: DECIMAL + - * inline must use the
    # run's (that of the helpers)
    st.sampled_from(["12345678901234567890123456789.123456789", "-0.0000000000000000000000000001"]),
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
    # a first piece that is an inline fast path: read before the TEXT/other branch
    st.tuples(_NAMES, _NAMES, _VALUES, st.integers(1, 3)).map(
        lambda t: f"for each index i in {{{', '.join(['1'] * t[3])}}} "
                  f"{{ {t[0]} = {t[0]} + {t[1]} * {t[2]} + i; }} info {t[0]};"),
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
    "m.put(t, l);", "info m.get(t);", "m.put(t + b, b);", "m.put(b, t);", "m.put(l, 1);",
    "info m.get(l);", "info m.get(b);",
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


def _run_with(text: str, inputs: dict, off: set[str], limits: Limits | None = None) -> dict:
    from fastpathlab import run_with

    return run_with(text, inputs, off, limits or Limits(max_statements=5_000, timeout=2.0))


@FUZZ
@example("a = 12345678901234567890123456789.123456789; b = a * a; info b; c = b + a;"
         " info c; info c - a; d = 0.5; for each i in {1, 2} { d = d * d * d * d; } info d;",
         {})
@given(_OPTIMIZED, st.dictionaries(_NAMES, st.one_of(
    st.integers(-9, 9), st.just("7"), st.lists(st.integers(0, 3), max_size=3),
    st.dictionaries(st.just("k"), st.integers(0, 3))), max_size=3))
def test_each_optimization_never_changes_a_result(text: str, inputs: dict) -> None:
    """A script gives the same logs, value, error (type, message, position) and statement
    count with every optimization, with none, and with each one alone turned off.
    "compact_once" (code outside loops calls the helpers) is off in the runs that turn
    one other off, so each fast path is also compared where it runs once."""
    from sluicegate.optimizer.fastpaths import OPTIMIZATIONS

    every = _run_with(text, inputs, set())
    others = sorted(OPTIMIZATIONS - {"compact_once"})
    for off in [set(OPTIMIZATIONS), {"compact_once"},
                *({name, "compact_once"} for name in others)]:
        other = _run_with(text, inputs, off)
        for key in ("status", "logs", "return", "error"):
            assert every[key] == other[key], (key, sorted(off), text, inputs)
        assert every["stats"]["statements"] == other["stats"]["statements"], (off, text)


def _once_blocks(depth: int = 0) -> st.SearchStrategy[str]:
    """Statements that run without error, in blocks of several (each block is charged
    as a whole when entered)."""
    simple = st.sampled_from(["a = a + 1;", "info a;", "b = a * 2;", 's = s + a;',
                              "l.add(a);", 'm.put("k", a);', "info m.get(\"k\") + l.size();"])
    if depth >= 2:
        return simple
    block = st.lists(_once_blocks(depth + 1), min_size=1, max_size=4).map(" ".join)
    return st.one_of(
        simple,
        st.tuples(st.integers(0, 6), block, block).map(
            lambda t: f"if (a > {t[0]}) {{ {t[1]} }} else if (a == 2) {{ {t[2]} }}"),
        st.tuples(block, block).map(lambda t: f"try {{ {t[0]} x = 1 / 0; }} "
                                              f"catch (e) {{ {t[1]} }}"),
        st.tuples(st.integers(1, 3), block).map(
            lambda t: f"for each i in {{{', '.join(['1'] * t[0])}}} {{ {t[1]} }}"),
    )


_ONCE = st.lists(_once_blocks(), min_size=1, max_size=6).map(
    lambda ss: "a = 0; s = \"\"; l = List(); m = Map();\n" + "\n".join(ss))


@FUZZ
@example('a = 0; s = "";\ntry { info a; info a; x = 1 / 0; } catch (e) { info a; }', {}, 5)
@given(st.one_of(_ONCE, _ONCE, _OPTIMIZED, st.lists(_statements(), min_size=1,
                                                    max_size=6).map("\n".join)),
       st.dictionaries(_NAMES, st.one_of(st.integers(-9, 9), st.just("7")), max_size=2),
       st.integers(1, 25))
def test_code_run_once_compact_or_inlined_gives_the_same_run(text: str, inputs: dict,
                                                             budget: int) -> None:
    """Code outside loops as helper calls with one-call statement charges, or with the
    inline fast paths and charges: the same run, also when a small statement limit runs
    out on the way (the compact charge leaves the budget as the inline one does)."""
    limits = Limits(max_statements=budget, timeout=2.0)
    compact = _run_with(text, inputs, set(), limits)
    inlined = _run_with(text, inputs, {"compact_once"}, limits)
    for key in ("status", "logs", "return", "error"):
        assert compact[key] == inlined[key], (key, text, inputs, budget)
    assert compact["stats"]["statements"] == inlined["stats"]["statements"], (text, budget)


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


# ---- loop versions: the NUMBER copy and the refill-free copy of a loop body ------------
_LOOP_INIT = st.lists(st.sampled_from([
    "a = 0;", "b = 1;", "total = 0;", 'a = "s";', "b = 0.5;", "total = 9223372036854775000;",
    "a = null;", "b = -3;"]), max_size=4).map(" ".join)
_LOOP_SOURCES = st.sampled_from([
    "items", "items", "items", "{1, 2, 3, 4, 5, 6}", "{0, -4, 7, 9223372036854775807}", '{1, "2", 3}',
    "{2.5, 1, 3}", "{1, null, 2}", "{-1, -2, -3}", '{1, "x", 2, 3}'])
_LOOP_STATEMENTS = st.sampled_from([
    "a = a + n;", "b = b * n % 7;", "total = total + n / 2;", "total = total - n * 3;",
    "if (n % 2 == 0) { a = a + n / 2; } else { b = b - 1; }", "if (n > 3) { continue; }",
    "if (a > 20) { break; }", "info a;", "info total;", 'a = "x";', "b = n;",
    "c = n * n; info c;", "if (n == 2) { total = total / 0; }", "a = a + b - n;",
    "try { b = b * 1000000000000; } catch (e) { info e; }", "a = a * a;",
    'a = "x"; a = a + n;', "b = n; b = b * 2;", "if (n > 2) { a = null; } total = total + a;",
    # counted loops (long lists): bounds linear in the elements (the 32-bit bound) or not
    "total = total + n * n;", "a = a + n * 3 % 7;", "b = n * b;", "a = a - n / 3;"])


@FUZZ
@example("a = 0; b = 1; total = 0;", "{1, 2, 3}", ['a = "x"; a = a + n;'], [], 50, 1)
@example("a = 0; total = 0;", '{1, "x", 2, 3}', ["a = a + n;", "info a;"], [], 100, 1)
@example("a = 0; b = 1; total = 0;", "items", ["b = n; b = b * 2;", "a = a + b;"], [1, "7"], 40,
         1)
@example("a = 0; total = 0;", "{1, 2, 3, 4}", ["if (n > 2) { a = null; } total = total + a;"],
         [], 60, 1)
@example("a = 0; b = 1; total = 0;", "{1, 2, 3, 4, 5, 6}",
         ["if (n % 2 == 0) { a = a + n / 2; } else { b = b - 1; }", "info a;"], [], 9, 1)
@example("total = 0;", "items", ["total = total + n * n;"], [3, 2**32 - 1, 1], 300, 12)
@example("a = 0;", "items", ["a = a - n / 3;"], [2**32, 5], 400, 20)
@example("a = 0; total = 0;", "items", ["a = a + n * 3 % 7;", "total = total - n * 3;"],
         [2**32 - 1, 7, 0], 400, 11)
@example("a = 0; total = 0;", "items", ["a = a + n * 3 % 7;"], [-2**31, 7, 0], 400, 11)
@given(_LOOP_INIT, _LOOP_SOURCES, st.lists(_LOOP_STATEMENTS, min_size=1, max_size=5),
       st.one_of(st.lists(st.one_of(st.integers(-20, 20), st.just("7"), st.just(None)),
                          max_size=8),
                 st.lists(st.one_of(st.integers(0, 20), st.integers(-20, 20), st.sampled_from(
                     [2**32 - 1, 2**32, 2**40, -2**31, True])), min_size=1, max_size=8)),
       st.integers(3, 400), st.integers(1, 24))
def test_loop_versions_never_change_a_result(init: str, source: str, body: list[str],
                                             items: list, budget: int, times: int) -> None:
    """An innermost loop gives the same logs, value, error (with its position) and
    statement count with its versions as without, also when the statement limit runs out
    inside it (small budgets cross refills inside the loop). `items` repeated: lists long
    enough for a counted loop (loopcounted.MIN_COUNTED), elements within 32 bits or not."""
    items = items * times
    text = f"{init}\nfor each n in {source}\n{{\n" + "\n".join(body) + "\n}\ninfo a;\nreturn total;"
    limits = Limits(max_statements=budget, timeout=2.0)
    every = _run_with(text, {"items": items}, set(), limits)
    other = _run_with(text, {"items": items}, {"loop_versioning"}, limits)
    for key in ("status", "logs", "return", "error"):
        assert every[key] == other[key], (key, text, items, budget)
    assert every["stats"]["statements"] == other["stats"]["statements"], (text, budget)



# ---- dates in fixed-offset zones: the wall-clock shortcut agrees with the general path --
_DATE_TEXTS = st.sampled_from([
    "2026-03-29", "2024-02-29", "2023-02-29", "2026-10-25", "2026-11-01", "0001-01-01",
    "9999-12-31", "26-03-08", "2026-13-01"])
_DATE_EXPRESSIONS = st.sampled_from([
    'd.toDate("yyyy-MM-dd")', 'd.toDate("yy-MM-dd")', 'd.toDateTime("yyyy-MM-dd")',
    'd.toDate("yyyy-MM-dd").addDay(30)', 'd.toDate("yyyy-MM-dd").addDay(-400)',
    'd.toDate("yyyy-MM-dd").addDay(3000000)', "'01-Aug-2026'", "'29-Mar-2026 02:30:00'",
    'd.toDate("yyyy-MM-dd").addMonth(1)', 'd.toTime("yyyy-MM-dd")', "d.toDate()",
    'd.toDate("yyyy-MM-dd").addHour(5)', "'31-Dec-99'"])


@FUZZ
@example("0001-01-01", 'd.toDate("yyyy-MM-dd")', 'd.toDate("yyyy-MM-dd")', "Etc/GMT-5")
@example("9999-12-31", 'd.toDate("yyyy-MM-dd")', "'01-Aug-2026'", "Etc/GMT+5")
@given(_DATE_TEXTS, _DATE_EXPRESSIONS, _DATE_EXPRESSIONS,
       st.sampled_from(["UTC", "Etc/GMT-5", "GMT", "Europe/London", "America/New_York"]))
def test_fixed_zone_dates_equal_the_general_path(day: str, left: str, right: str,
                                                 zone: str) -> None:
    """Dates in a fixed-offset zone (localized and compared as wall clocks) give what the
    general path (DST gap and fold checks, comparison as instants) gives."""
    import sluicegate.values as values

    text = (f'd = "{day}";\nx = {left};\ny = {right};\ninfo x; info y;\n'
            "info x < y; info x > y; info x <= y; info x >= y; info x == y;\nreturn x;")
    fast = Runtime(timezone=zone).run(text, {}, filename="f.dg").to_json()
    saved = values._zone_kind
    try:  # every zone taken as one with DST (fixed_offset and the comparisons ask this)
        values._zone_kind = lambda zone: values._NOT_FIXED  # type: ignore
        slow = Runtime(timezone=zone).run(text, {}, filename="f.dg").to_json()
    finally:
        values._zone_kind = saved  # type: ignore
    for key in ("status", "logs", "return", "error"):
        assert fast[key] == slow[key], (key, text, zone)


# ---- records: the bulk checks agree with the per-item path -----------------------------
_RECORD_SCALARS = st.one_of(
    st.none(), st.booleans(), st.text(max_size=4), st.sampled_from(["\ud800", "a\udfffb", "é"]),
    st.integers(-2**64, 2**64), st.decimals(allow_nan=False, allow_infinity=False, places=2),
    st.floats(allow_nan=False, allow_infinity=False, width=32))
_RECORD_VALUES = st.one_of(_RECORD_SCALARS, st.lists(_RECORD_SCALARS, max_size=2),
                           st.dictionaries(st.text(max_size=2), _RECORD_SCALARS, max_size=2))
class _Text(str):
    """A subclass of str, as a host may pass (the per-item path makes keys plain texts)."""


class _Int(int):
    """A subclass of int, as a host may pass (an enum's value, say)."""


_RECORD_KEYS = st.one_of(st.sampled_from(["id", "name", "amount", "é", "\udc00"]),
                         st.integers(0, 2))
_RECORDS = st.lists(st.dictionaries(_RECORD_KEYS, st.one_of(_RECORD_SCALARS, _RECORD_VALUES),
                                    max_size=4), min_size=2, max_size=5)
# Records that share their keys (the column checks), in one key order or in several,
# each column mostly of one type with the odd value of another.
_COLUMN_VALUES = st.sampled_from([
    "a", "é", "\ud800", _Text("t"), 1, -2**63, 2**63 - 1, 2**63, _Int(5), _Int(2**64), True,
    None, Decimal("1.50"), 1.5, [1], {"k": 1}])
_SHARED_KEY_RECORDS = st.tuples(
    st.lists(st.sampled_from(["id", "name", "amount"]), min_size=1, max_size=3, unique=True),
    st.lists(st.tuples(st.lists(st.one_of(st.sampled_from([0, 1, 2]), _COLUMN_VALUES),
                                min_size=3, max_size=3), st.booleans()),
             min_size=2, max_size=6)).map(lambda t: [
                 dict(zip(t[0][::-1] if flip else t[0], [
                     (["x", "y", "z"], [7, -3, 0], [Decimal("2.5")] * 3)[i][j]
                     if type(v) is int and v in (0, 1, 2) and type(v) is not bool else v
                     for i, (j, v) in enumerate(zip([0, 1, 2], row))]))
                 for row, flip in t[1]])


def _typed(value: Any) -> Any:
    """A value with the type of each part spelled out (== alone takes True for 1, an int
    subclass for an int, a str subclass for a str)."""
    if isinstance(value, dict):
        return (type(value).__name__, [(_typed(k), _typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return (type(value).__name__, [_typed(v) for v in value])
    return (type(value).__name__, repr(value))


@FUZZ
@example([{"id": -2**63 - 1}, {"id": 1}], 2)
@example([{"id": 2**63 - 1, "a": "x"}, {"id": 2**63, "a": "y"}], 2)
@example([{"a": "\ud800"}, {"a": "b"}], 2)
@example([{"\udc00": 1}, {"b": 2}], 2)
@example([{"a": 1.5}, {"a": 2}], 2)
@example([{"a": 1}, {"a": 2, "b": 3}], 1)
@example([{"a": 1}, {0: 2}], 2)
@example([{_Text("k"): 1}, {"k": 2}], 2)
@example([{"a": _Text("v")}, {"a": "w"}], 2)
@example([{"a": 1, "b": "x"}, {"b": "y", "a": 2}], 2)
@example([{"a": 1, "b": True}, {"a": _Int(3), "b": None}], 2)
@example([{"a": _Int(2**64)}, {"a": 1}], 2)
@example([{"a": "x"}, {"a": _Text("y")}, {"a": "\udfff"}], 2)
# records of different keys whose counts add up like shared ones would (n keys in all,
# the lengths summed), and columns of one type but for the last value
@example([{"a": 1, "b": 2}, {"a": 3}, {"c": 4, "a": 5, "b": 6}], 2)
@example([{"a": 1, "b": 2}, {"b": 3, "c": 4}], 2)
@example([{"a": Decimal("1.5")}, {"a": Decimal("2")}, {"a": 1.5}], 2)
@example([{"a": True}, {"a": False}, {"a": 2**63}], 2)
@example([{"a": None}, {"a": None}, {"a": [1]}], 1)
@given(st.one_of(_RECORDS, _SHARED_KEY_RECORDS), st.integers(0, 3))
def test_records_checked_in_bulk_equal_the_per_item_path(records: list, depth: int) -> None:
    """Lists of records become the same Deluge values (or the same error) whether they are
    checked a column at a time or one value at a time, copied or adopted in place."""
    import copy

    import sluicegate.jsonform.inputs as jsoninputs
    import sluicegate.values as values
    from sluicegate.errors import LimitExceeded, ScriptRuntimeError

    def outcome(convert: Any) -> Any:
        try:
            # compared as they are (to_plain would clean texts again)
            return ("ok", _typed(convert({"r": copy.deepcopy(records)}, max_depth=depth)))
        except (LimitExceeded, ScriptRuntimeError) as exc:
            return ("error", type(exc).__name__, str(exc))

    bulk = [outcome(values.from_json), outcome(values.adopt_json)]
    saved = jsoninputs._plain_records
    try:
        jsoninputs._plain_records = lambda value, copy, loose=False: None  # type: ignore
        single = [outcome(values.from_json), outcome(values.adopt_json)]
    finally:
        jsoninputs._plain_records = saved  # type: ignore
    assert bulk == single


# ---- JSON text: the C encoder with marked DECIMALs agrees with the careful writer ------
_JSON_TEXTS = st.one_of(st.text(max_size=4), st.sampled_from([
    "\x00D", "\x00E", "\x00D1.5\x00E", '"\x00D', "\\u0000D", "a\x00Eb", "\u2028", "é\""]))
_JSON_WRITE_SCALARS = st.one_of(
    st.none(), st.booleans(), _JSON_TEXTS, st.integers(-2**63, 2**63 - 1),
    st.decimals(allow_nan=False, allow_infinity=False, places=3),
    st.sampled_from([Decimal("1E+5"), Decimal("-0.00"), Decimal("123456789.000000001")]))
# Records sharing their keys (in one order or several), so the walk checks them a column
# at a time: columns of one type, mixed ones, or holding a container.
_JSON_COLUMN_VALUES = st.sampled_from([
    "a", "", "é\"", "\x00D", 0, -2**63, True, None, Decimal("1.50"), Decimal("1E+3"),
    Decimal("-0.0000001"), [1], {"k": "v"}, {}])
_JSON_SHARED_KEY_RECORDS = st.tuples(
    st.lists(st.sampled_from(["id", "name", "amount", "\x00E"]), max_size=3, unique=True),
    st.lists(st.tuples(st.lists(st.one_of(st.sampled_from([0, 1, 2, 3]), _JSON_COLUMN_VALUES),
                                min_size=3, max_size=3), st.booleans()),
             min_size=2, max_size=5)).map(lambda t: [
                 dict(zip(t[0][::-1] if flip else t[0], [
                     (["x", "yy", "z"], [7, None, False], [Decimal("2.5")] * 3)[i][v]
                     if type(v) is int and v in (0, 1, 2) and type(v) is not bool else v
                     for i, v in enumerate(row)]))
                 for row, flip in t[1]])
_JSON_WRITE_VALUES = st.recursive(_JSON_WRITE_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(_JSON_TEXTS, inner, max_size=4),
    st.lists(st.dictionaries(_JSON_TEXTS, inner, max_size=3), min_size=2, max_size=4),
    _JSON_SHARED_KEY_RECORDS), max_leaves=16)


@FUZZ
@example([{"a": 1, "b": "x"}, {"b": "y", "a": Decimal("2")}], 3)
@example([{"a": [1], "b": "x"}, {"a": {"k": Decimal("1E+2")}, "b": None}], 3)
@example([{"a": "\x00D1\x00E"}, {"a": Decimal("1")}], 3)
@example({"r": [{"a": "x", "b": "y"}, {"b": "z", "a": "w"}], "d": Decimal("1E+2")}, 3)
@example({"r": [{"a": Decimal("1E+3"), "b": None}, {"a": Decimal("-0.00"), "b": True}],
          "s": [{"k": "\x00S"}, {"k": "é\""}], "t": "\x00E"}, 3)
@example([{"a": 1, "b": "\u2028"}, {"a": -2**63, "b": ""}], 2)
@example({"r": [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}], "d": Decimal("2.5"),
          "e": [Decimal("1.5"), {"f": "\u0000"}]}, 3)
@example({"r": [{"a": 1}, {"a": 2}], "s": [{"a": Decimal("1")}, {"a": Decimal("2")}]}, 3)
@example({"r": [{"a": 1}, {"a": 2}], "s": [{"a": Decimal("1")}, {"a": Decimal("2")}]}, 2)
@example({"x": Decimal("0.1"), "r": [{"a": "é", "b": None}, {"a": "", "b": False}]}, 4)
@given(st.one_of(_JSON_WRITE_VALUES, st.dictionaries(  # a MAP of lists of records
    _JSON_TEXTS, st.one_of(_JSON_SHARED_KEY_RECORDS, _JSON_WRITE_VALUES), max_size=3)),
    st.integers(1, 6))
def test_json_fast_writer_equals_the_careful_writer(value: Any, depth: int) -> None:
    """`toString()` of plain values and DECIMALs (the C encoder, decimals as counted marks,
    records walked in bulk, lists of records written a column at a time: also when
    any list of two records is long enough for that) writes what the careful writer
    writes, or fails the same way."""
    from sluicegate.jsonform import records as jsonrecords
    from sluicegate.errors import LimitExceeded
    from sluicegate.jsonform.text import _write_json, to_json_text

    def careful() -> Any:
        parts: list[str] = []
        try:
            _write_json(value, parts, 0, depth, [10**9, 0, 10**9])
        except LimitExceeded as exc:
            return ("error", str(exc))
        return ("ok", "".join(parts))

    expected = careful()
    saved = jsonrecords.MIN_RECORDS
    try:
        for shortest in (saved, 2):
            jsonrecords.MIN_RECORDS = shortest
            try:
                fast: Any = ("ok", to_json_text(value, 0, depth))
            except LimitExceeded as exc:
                fast = ("error", str(exc))
            assert fast == expected, shortest
    finally:
        jsonrecords.MIN_RECORDS = saved


@FUZZ
@example(Decimal("1E+2"), True)
@example(Decimal("0.000001"), True)
@example(Decimal("0.0000001"), False)
@example(Decimal("-0E-8"), True)
@example(Decimal("123456789012345678901234567890.5"), True)
@given(st.one_of(st.decimals(allow_nan=False, allow_infinity=False),
                 st.decimals(allow_nan=False, allow_infinity=False, places=2),
                 st.builds(lambda digits, exp: Decimal(digits).scaleb(exp),
                           st.integers(-10**30, 10**30), st.integers(-40, 40))),
       st.booleans())
def test_decimal_text_is_the_fixed_point_format(value: Decimal, capitals: bool) -> None:
    """The display of a DECIMAL (str() where it shows no exponent) is format(value, "f"),
    also as the C encoder's marked text, whatever the context's `capitals`."""
    import decimal

    from sluicegate.jsonform.text import _DECIMAL_END, _DECIMAL_MARK, _marked_decimal
    from sluicegate.values import _decimal_text

    with decimal.localcontext() as ctx:
        ctx.capitals = int(capitals)
        assert _decimal_text(value) == format(value, "f")
        assert _marked_decimal(value) == _DECIMAL_MARK + format(value, "f") + _DECIMAL_END


@FUZZ
@given(st.sampled_from(["yyyy-MM-dd", "dd/MM/yyyy HH:mm:ss", "yyyyMMdd", "y-M-d", "yyyy",
                        "MM-dd", "HH:mm", "dd-MM-yyyy HH:mm", "yyyy-MM-dd'T'HH:mm:ss"]),
       st.text(alphabet="0123456789-/: T", max_size=20),
       st.sampled_from(["", "2026-02-29", "2024-02-29", "31/12/9999 23:59:59", "20260101",
                        "0000-01-01", "2026-1-5", "2026-01-01T24:00:00"]))
def test_numeric_date_patterns_read_like_the_general_reader(pattern: str, noise: str,
                                                            text: str) -> None:
    """A pattern of numeric y M d H m s fields is read by its direct reader exactly as
    the general field-by-field reader reads it (same value, same refusals)."""
    import sluicegate.stdlib.datepatterns as datepatterns

    for candidate in (text, noise, text + noise):
        direct = datepatterns.parse_pattern(candidate, pattern, 2026)
        saved = datepatterns._numeric_reader
        try:
            datepatterns._numeric_reader = lambda pattern: None  # type: ignore
            general = datepatterns.parse_pattern(candidate, pattern, 2026)
        finally:
            datepatterns._numeric_reader = saved  # type: ignore
        assert direct == general, (pattern, candidate)


@FUZZ
@example([1, True, 2**63 - 1, -2**63], 3)
@example([1, 2**63], 3)
@example([-2**63 - 1, 0], 3)
@example([1, "2", None], 3)
@example([1, 2.5], 3)
@example([_Int(1), 2], 1)
@example([_Int(1), 2], 2)
@example([0, 2**32 - 1, True], 3)  # array("I") takes them
@example([2**32, 2**32 - 1], 3)  # "I" refuses, "q" takes them
@example([-1, _Int(2**33)], 3)
@given(st.lists(st.one_of(st.integers(-2**64, 2**64), st.booleans(), st.none(),
                          st.sampled_from(["7", "\ud800", 1.5, Decimal("2.50"), _Int(3),
                                           _Int(2**64)])), max_size=6),
       st.integers(1, 3))
def test_number_lists_checked_by_array_equal_the_general_check(items: list,
                                                               depth: int) -> None:
    """A list of NUMBERs checked in one pass (array) converts exactly as with the general
    check (types, then range), copied or adopted, or fails the same way, also at the
    nesting limit (where a subclass of int is reported)."""
    fast, general = _with_and_without(items, depth, "_number_list", lambda value: False)
    assert fast == general  # types included (_typed)


def _with_and_without(items: list, depth: int, shortcut: str,
                      off: Any) -> tuple[list[Any], list[Any]]:
    """The outcomes (value with its types, or the error) of `from_json` and `adopt_json`
    on `items` at the top and one level down, with jsoninputs' `shortcut` as it is, then
    replaced by `off` (the function that never takes the shortcut's path)."""
    import copy

    import sluicegate.jsonform.inputs as jsoninputs
    from sluicegate.errors import LimitExceeded, ScriptRuntimeError

    def outcome(convert: Any) -> Any:
        try:
            return ("ok", _typed(convert({"l": copy.deepcopy(items),
                                          "n": [copy.deepcopy(items)]}, max_depth=depth)))
        except (LimitExceeded, ScriptRuntimeError) as exc:
            return ("error", type(exc).__name__, str(exc))

    def outcomes() -> list[Any]:
        return [outcome(jsoninputs.from_json), outcome(jsoninputs.adopt_json)]

    with_shortcut = outcomes()
    saved = getattr(jsoninputs, shortcut)
    try:
        setattr(jsoninputs, shortcut, off)
        return with_shortcut, outcomes()
    finally:
        setattr(jsoninputs, shortcut, saved)


@FUZZ
@example(["\ud800", "a"], 3)  # found by this test: copied with the half left in
@example(["x\udfff", 1, None], 3)
@example(["é", "\ud800"], 1)
@given(st.lists(st.one_of(st.text(max_size=3), st.integers(-3, 3), st.booleans(), st.none(),
                          st.sampled_from(["\ud800", "é\udc00", Decimal("2.50"), 2**64,
                                           _Text("t")])), max_size=6),
       st.integers(1, 3))
def test_scalar_lists_checked_at_c_speed_equal_the_per_item_path(items: list,
                                                                 depth: int) -> None:
    """A list of scalars checked in bulk (types, range, texts) becomes what the per-item
    path makes of it (lone surrogate halves cleaned), copied or adopted."""
    bulk, single = _with_and_without(items, depth, "_scalar_kinds", lambda value, loose: None)
    assert bulk == single


@FUZZ
@given(st.lists(st.sampled_from(["'01-Aug-2026'", "'31-Dec-99'", "'29-Feb-2023'",
                                 "'05-Mar-2024 10:30:00'", "'2026-08-01'"]), min_size=1,
                max_size=3),
       st.sampled_from(["UTC", "Asia/Kolkata", "America/New_York"]))
def test_date_literals_kept_per_run_equal_literals_read_each_time(literals: list[str],
                                                                  zone: str) -> None:
    """Date literals read once per run (kept by text, zone and date format) give what
    reading them at each evaluation gives: values, errors, statement counts."""
    import sluicegate.stdlib.dates as dates

    body = "\n".join(f"x = {lit}; info x; info x.addDay(i);" for lit in literals)
    text = f"for each i in {{1, 2, 3}}\n{{\n{body}\n}}\nreturn x;"
    kept = Runtime(timezone=zone).run(text, {}, filename="f.dg").to_json()
    saved = dates.LITERALS_KEPT
    try:
        dates.LITERALS_KEPT = 0
        fresh = Runtime(timezone=zone).run(text, {}, filename="f.dg").to_json()
    finally:
        dates.LITERALS_KEPT = saved
    for key in ("status", "logs", "return", "error"):
        assert kept[key] == fresh[key], (key, text)
    assert kept["stats"]["statements"] == fresh["stats"]["statements"]


# ---- counted loops: a loop of NUMBER work charged once at its entry ---------------------
_COUNTED_INIT = st.lists(st.sampled_from([
    "total = 9223372036854775000;", "a = -9223372036854775807;", 'a = "s";', "b = 0.5;",
    "a = null;", "count = 5;", "b = -3;"]), max_size=2).map(
    lambda parts: " ".join(["a = 0; b = 1; total = 0; count = 0;", *parts]))
_COUNTED_STATEMENTS = st.sampled_from([
    "a = a + n;", "total = total + n;", "a = a - n * 2;", "total = total + n / 2;", "total = total - n * 3;", "count = count + 1;",
    "if (n % 2 == 0) { a = a + n / 2; } else { b = b - 1; }", "c = n * n;",
    "if (n > 3 && !(n < 10)) { a = a - 1; } else { a = a + n % 5; }", "a = n * b + a;",
    "b = n;", "if (n > 3) { a = a + 1; }", "total = total + n * n * n;", "b = b * n % 7;",
    "if (n == 2) { total = total / 0; }", "info a;", "a = a + b - n;",
    "count = count + n * 2 % 5;", "total = total + (count + n) % 3;", "b = b + n / 4;",
    "if ((n + 1) % 3 == 0) { count = count + n; } else { count = count + 2; }"])
_COUNTED_ITEMS = st.tuples(st.lists(st.integers(-40, 40), min_size=28, max_size=70),
                           st.one_of(st.none(), st.integers(-2**63, 2**63 - 1),
                                     st.sampled_from([2**31, -2**31, 2**62, -2**63,
                                                      2**63 - 1, 2**32 - 1, 2**32])),
                           st.sampled_from([True, True, False])).map(
    lambda parts: [abs(n) if parts[2] else n for n in parts[0]]
    + ([] if parts[1] is None else [parts[1]]))


@FUZZ
@example("a = 0; b = 1; total = 0;", ["total = total + n * n * n;"],
         [2**20] * 40, None, 10_000)
@example("a = 0; b = 1; total = 0;",
         ["if (n % 2 == 0) { a = a + n / 2; } else { b = b - 1; }"], list(range(-20, 20)),
         None, 100)
@example("a = 0; total = 0; count = 0;", ["a = a + n;", "count = count + 1;"],
         list(range(40)), "x", 200)
@example("a = 0; b = 1; total = 0;", ["a = a + n;", "total = total - n * 3;"],
         list(range(40)), 2**32 - 1, 10_000)
@example("a = 0; b = 1; total = 0;", ["a = a + n;", "total = total - n * 3;"],
         list(range(40)), 2**32, 10_000)
@example("a = 0; b = 1; total = 0;", ["a = a + n % 7;", "b = b + n / 4;"],
         list(range(40)), 2**32 - 1, 60)
@given(_COUNTED_INIT, st.lists(_COUNTED_STATEMENTS, min_size=1, max_size=4), _COUNTED_ITEMS,
       st.one_of(st.none(), st.none(), st.sampled_from(["7", True, Decimal("1.5"), None])),
       st.one_of(st.integers(3, 400), st.sampled_from([10_000, 100_000])))
def test_counted_loops_never_change_a_result(init: str, body: list[str], items: list,
                                             odd: Any, budget: int) -> None:
    """A loop charged once at its entry (runtime/loopcounted.py) gives the same logs,
    value, error (with its position) and statement count as the versioned loop and as the
    plain one: with values whose bounds do or do not fit 64 bits, an element that is not
    a NUMBER, and budgets that do or do not cover the whole loop."""
    if odd is not None or items[0] == 7:
        items = [*items[:len(items) // 2], odd, *items[len(items) // 2:]]
    text = f"{init}\nfor each n in items\n{{\n" + "\n".join(body) + "\n}\ninfo a;\nreturn total;"
    limits = Limits(max_statements=budget, timeout=2.0)
    every = _run_with(text, {"items": items}, set(), limits)
    for off in ({"loop_counted"}, {"loop_versioning"}):
        other = _run_with(text, {"items": items}, off, limits)
        for key in ("status", "logs", "return", "error"):
            assert every[key] == other[key], (key, off, text, items, budget)
        assert every["stats"]["statements"] == other["stats"]["statements"], (text, budget)
