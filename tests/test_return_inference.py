"""Type inference from built-in return types (runtime/inference.py): a variable assigned
from a built-in method whose every row returns exactly TEXT or NUMBER takes that kind,
so the fast paths drop its type guards. The claim must hold for every receiver and every
argument the call succeeds with, since a wrong one would skip a needed guard."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import pytest

from fastpathlab import fast_paths_off, run_with
from sluicegate.limits import RunContext, activate
from sluicegate.optimizer.inference import local_kinds, method_return_kinds
from sluicegate.sandbox import generated_source
from sluicegate.stdlib import METHODS
from sluicegate.translator import translate
from sluicegate.values import CaughtError, Collection, DateTime, File, TypedList

_EXACT = {"text": str, "number": int}


def _receivers() -> dict[str, list[Any]]:
    import datetime as dt

    when = DateTime(dt.datetime(2024, 3, 5, 10, 30, tzinfo=dt.timezone.utc))
    return {
        "TEXT": ["", "a,b", " Mixed Case 12 ", "01-Jan-2020", CaughtError("boom", 3), "é",
                 "12", "<a><b>1</b></a>"],
        "NUMBER": [0, 7, -12], "DECIMAL": [Decimal("2.5"), Decimal("-0.5"), Decimal("3")],
        "LIST": [[], [1, "a"], TypedList("TEXT", ["x"])], "MAP": [{}, {"k": 1}],
        "DATETIME": [when], "ANY": ["a", 3, None, [1], {"k": 1}, True],
        "FILE": [File("a.txt", "text/plain", b"hello"), File("e", "", b"")],
        "COLLECTION": [Collection(), _collection(["a", 1]), _collection({"k": 1})],
    }


def _collection(items: Any) -> Collection:
    made = Collection()
    made.items, made.keyed = items, isinstance(items, dict)
    return made


_ARGS = [0, 1, 2, 99, -1, "a", "o", ",", "", "zzz", Decimal("1.5"), "01-Feb-2020", None,
         "/a/b", "01-Mar-2025 10:00:00"]


def test_return_kinds_come_from_the_tables() -> None:
    kinds = method_return_kinds()
    assert kinds["trim"] == "text" and kinds["size"] == "number"
    assert kinds["length"] == "number" and kinds["subtext"] == "text"
    # Any-typed, typed lists, a Creator fetch's own, or possibly the receiver itself
    for unknown in ("getjson", "tomap", "get", "tolist", "count", "tostring", "leftpad"):
        assert unknown not in kinds  # Any-typed, typed lists, or a Creator fetch's own


def test_every_inferred_method_returns_exactly_its_kind() -> None:
    """Each row of each inferred name, on receivers of its types (a caught error's TEXT
    too) with arguments from a small pool: every result that is not an error is exactly
    str or int (never a bool, never a str subclass)."""
    receivers = _receivers()
    kinds = method_return_kinds()
    tried = 0
    answered: set[tuple[str, str]] = set()  # the inferred rows that gave a value
    with activate(RunContext()):
        for tag, table in METHODS.items():
            for name, row in table.items():
                kind = kinds.get(name.lower())
                if kind is None:
                    continue
                hi = row.max_args if row.max_args is not None else row.min_args + 1
                for receiver in receivers.get(tag, []):
                    for n in range(row.min_args, min(hi, 2) + 1):
                        for args in itertools.product(_ARGS, repeat=n):
                            try:
                                result = row.fn(receiver, *args)
                            except Exception:  # noqa: BLE001 - an error is no value
                                continue
                            tried += 1
                            answered.add((tag, name))
                            assert type(result) is _EXACT[kind], (tag, name, receiver, args,
                                                                  result)
    assert tried > 500
    inferred = {(tag, name) for tag, table in METHODS.items() for name in table
                if name.lower() in kinds}
    assert inferred <= answered, sorted(inferred - answered)  # none left untried


def test_variables_from_built_ins_take_their_kind() -> None:
    src = ('s = " a "; t = s.trim(); n = t.length(); l = List(); k = l.size(); '
           'u = t.toUpperCase() + "x"; info n + k; info u;')
    # the kinds are read from the translated function once the runtime nodes are in
    from sluicegate.sandbox import _policy, _RuntimeNodes

    module = translate(src).module
    _policy(module)
    _RuntimeNodes().visit(module)
    kinds = local_kinds(module.body[0])
    assert kinds["v_t"] == "text" and kinds["v_u"] == "text"
    assert kinds["v_n"] == "number" and kinds["v_k"] == "number"
    python = _source_inlined(src)  # the fast paths also where the code runs once
    assert "v_n = dg_len(v_t)" in python  # no guard on t: it is known to be TEXT
    assert "v_k = dg_len(v_l)" in python


def _source_inlined(src: str) -> str:
    with fast_paths_off({"compact_once"}):
        return generated_source(src)


@pytest.mark.parametrize("src", [
    # a NUMBER from a built-in, then arithmetic that overflows at the script's position
    'n = "abc".length(); m = n * 9223372036854775807; info m;',
    # a method that fails: the error and its position are the helper's
    's = "abc"; n = s.subString(5, 9); info n;',
    # a caught error's TEXT (a str subclass) through methods that may return it as is
    'try { x = 1 / 0; } catch (e) { t = e.toString(); u = e.leftPad(0); info t.length(); '
    'info u.trim() + t.trim(); t = t + "!"; info t; info t.lineNo; }',
    'try { x = 1 / 0; } catch (e) { t = e.trim(); info t.length(); t = t + "!"; info t; }',
    # getJSON is unknown: no kind, guards stay
    'm = "{\\"a\\": [1]}"; v = m.getJSON("a"); info v.size();',
])
def test_results_and_errors_are_the_same_with_and_without(src: str) -> None:
    outcomes = []
    # straight-line code takes the helpers unless "compact_once" is off: the inferred
    # kinds' fast paths are compared with the helpers both ways
    for off in (set(), {"compact_once"},
                {"compact_once", "type_inference", "number_inference"}):
        outcomes.append(run_with(src, {}, off))
    a = outcomes[0]
    for b in outcomes[1:]:
        for key in ("status", "logs", "return", "error"):
            assert a[key] == b[key], key
        assert a["stats"]["statements"] == b["stats"]["statements"]
