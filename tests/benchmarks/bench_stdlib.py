"""Hot built-ins vs the same operation in plain Python, as ratios (issue: standard library).

    python tests/benchmarks/bench_stdlib.py

Each pair runs the built-in as a script's method call does (inside a script, through the
call site's own caller, or through the generic dispatcher `call_method`) and the closest
plain-Python operation, side by side.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from zoneinfo import ZoneInfo

from bench_core import best
from sluicegate.dispatch import call_method, method_caller
from sluicegate.engine import Runtime
from sluicegate.limits import Limits
from sluicegate.limits import RunContext, activate
from sluicegate.values import DateTime

N = 20_000


def pair(name: str, ours: Callable[[], object], python: Callable[[], object]) -> None:
    a, b = best(ours), best(python)
    print(f"{name:<40} sluice {a * 1e3:8.3f} ms  python {b * 1e3:8.3f} ms  "
          f"ratio {a / b:5.2f}x   (goal <= 2x)")


def main() -> None:
    m = {f"key{i}": i for i in range(1000)}
    keys = [f"key{i % 1000}" for i in range(N)]
    text = ",".join(str(i) for i in range(1000))
    sentence = "The quick brown fox jumps over the lazy dog " * 20
    pattern = re.compile("o[a-z]")
    when = DateTime(dt.datetime(2024, 3, 5, 14, 7, 9, tzinfo=ZoneInfo("UTC")))

    # get / put / add as scripts call them (inline fast paths included), against the
    # same loop in Python; and through the dispatcher, the path every other type takes.
    rt = Runtime()
    limits = Limits(max_statements=10**9, timeout=600)

    def script(src: str, inputs: dict[str, object]) -> Callable[[], object]:
        rt.run(src, inputs, limits=limits, convert_inputs=False)
        return lambda: rt.run(src, inputs, limits=limits, convert_inputs=False)

    def py_get() -> None:
        n = 0
        for k in keys:
            if m.get(k) is not None:
                n += 1

    pair("map get in a script (20,000)", script(
        "n = 0; for each k in keys { if (m.get(k) != null) { n = n + 1; } }",
        {"m": m, "keys": keys}), py_get)

    def py_put() -> None:
        d: dict[str, int] = {}
        for k in keys:
            d[k] = 1
    pair("map put in a script (20,000)", script(
        "d = Map(); for each k in keys { d.put(k, 1); }", {"keys": keys}), py_put)

    def py_add() -> None:
        lst: list[str] = []
        for k in keys:
            lst.append(k)
    pair("list add in a script (20,000)", script(
        "l = List(); for each k in keys { l.add(k); }", {"keys": keys}), py_add)
    pair("map get via the dispatcher (20,000)",
         lambda: [call_method(m, "get", k) for k in keys],
         lambda: [m.get(k) for k in keys])
    get_caller = method_caller("get", 1)
    pair("map get via a call site's caller (20,000)",
         lambda: [get_caller(m, k) for k in keys],
         lambda: [m.get(k) for k in keys])

    def py_text() -> None:
        n = 0
        for k in keys:
            if k.startswith("key1") and "9" in k:
                n += 1
    pair("text methods in a script (20,000)", script(
        'n = 0; for each k in keys { if (k.startsWith("key1") && k.contains("9")) '
        '{ n = n + 1; } }', {"keys": keys}), py_text)

    import json
    pair("toString of a 1,000-entry map", lambda: call_method(m, "toString"),
         lambda: json.dumps(m, separators=(",", ":")))
    pair("toList(',') of 1,000 items", lambda: call_method(text, "toList", ","),
         lambda: text.split(","))
    pair("replaceAll regex on 900 chars", lambda: call_method(sentence, "replaceAll", "o[a-z]", "#"),
         lambda: pattern.sub("#", sentence))
    with activate(RunContext()):
        pair("date toString('yyyy-MM-dd HH:mm:ss') x1000",
             lambda: [call_method(when, "toString", "yyyy-MM-dd HH:mm:ss") for _ in range(1000)],
             lambda: [when.value.strftime("%Y-%m-%d %H:%M:%S") for _ in range(1000)])


if __name__ == "__main__":
    main()
