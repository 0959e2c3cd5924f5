"""Golden Deluge scripts under tests/scripts/, with their expectations written inline.

    info "abc".length();            // expect: 3
    x = 1 / 0;                      // expect error: RuntimeError: Division by zero
    // expect return: {"a": 1}
    // inputs: {"invoice": {"total": 12.5}}
    // args: --max-statements 50 --timeout 2

`expect:` lines are the run's log lines, in order; `expect error:` names the error type,
a part of its message and (by where it stands) its line; `expect return:` is JSON.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from sluicegate.engine import Runtime
from sluicegate.limits import Limits

ROOT = Path(__file__).parent / "scripts"
SCRIPTS = sorted(ROOT.rglob("*.dg"))
_EXPECT = re.compile(r"//\s*expect:\s?(.*?)\s*$")
_ERROR = re.compile(r"//\s*expect error:\s*(\w+)(?::\s*(.*?))?\s*$")
_RETURN = re.compile(r"//\s*expect return:\s*(.*?)\s*$")
_INPUTS = re.compile(r"//\s*inputs:\s*(.*?)\s*$")
_ARGS = re.compile(r"//\s*args:\s*(.*?)\s*$")


def _expectations(text: str) -> dict[str, Any]:
    exp: dict[str, Any] = {"logs": [], "error": None, "return": None, "has_return": False,
                           "inputs": {}, "limits": {}}
    for number, line in enumerate(text.splitlines(), start=1):
        if m := _ERROR.search(line):
            exp["error"] = (m.group(1), m.group(2) or "", number)
        elif m := _RETURN.search(line):
            exp["return"] = json.loads(m.group(1), parse_float=Decimal)
            exp["has_return"] = True
        elif m := _INPUTS.search(line):
            exp["inputs"] = json.loads(m.group(1), parse_float=Decimal)
        elif m := _ARGS.search(line):
            words = m.group(1).split()
            for flag, value in zip(words[::2], words[1::2]):
                if flag == "--max-statements":
                    exp["limits"]["max_statements"] = int(value)
                elif flag == "--timeout":
                    exp["limits"]["timeout"] = float(value)
                else:
                    raise ValueError(f"unknown flag in args: {flag}")
        elif m := _EXPECT.search(line):
            exp["logs"].append(m.group(1))
    return exp


def _same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, (int, Decimal)) and isinstance(actual, (int, Decimal)):
        return Decimal(expected) == Decimal(actual)
    if isinstance(expected, list):
        return (isinstance(actual, list) and len(expected) == len(actual)
                and all(_same(e, a) for e, a in zip(expected, actual)))
    if isinstance(expected, dict):
        return (isinstance(actual, dict) and set(expected) == set(actual)
                and all(_same(expected[k], actual[k]) for k in expected))
    return type(expected) is type(actual) and expected == actual


@pytest.mark.parametrize("path", SCRIPTS, ids=[str(p.relative_to(ROOT)) for p in SCRIPTS])
def test_golden_script(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    exp = _expectations(text)
    result = Runtime(timezone="UTC").run(text, exp["inputs"], filename=path.name,
                                         limits=Limits().with_(**exp["limits"]))
    out = result.to_json()
    assert out["logs"] == exp["logs"], f"logs differ; error={out['error']}"
    if exp["error"] is None:
        assert out["status"] == "success", f"unexpected error {out['error']}"
    else:
        kind, message, line = exp["error"]
        assert out["status"] == "failure"
        assert out["error"]["type"] == kind, out["error"]
        assert message.lower() in out["error"]["message"].lower(), out["error"]
        assert out["error"]["line"] == line, out["error"]
    if exp["has_return"]:
        assert _same(exp["return"], out["return"]), out["return"]
