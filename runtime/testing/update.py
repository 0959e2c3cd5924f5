"""`sluice test --update`: rewrite the expectations of failing cases from what happened
(snapshot style), keeping the file's comments, order and formatting everywhere else.

Only the expectations that failed are rewritten (a failed `return` becomes the actual
return value, a failed `logs` the actual logs, ...); an unexpected error becomes an
`expect.error`, and an expected error that did not happen becomes `expect.return`. The
file is written to a temporary file beside it and renamed over it, so an interrupted
update never leaves half a file.
"""

from __future__ import annotations

__all__ = ["update_session", "toml_value"]

import os
import tempfile
from decimal import Decimal
from typing import Any

import tomlkit
from tomlkit.items import Float, Trivia

from .runner import Outcome
from .session import Session
from .spec import TestFile


def toml_value(value: Any) -> Any:
    """A JSON-shaped value as a tomlkit item: decimals keep their scale, null is written
    `{ null = true }`, maps are inline tables."""
    if value is None:
        table = tomlkit.inline_table()
        table["null"] = True
        return table
    if isinstance(value, bool):
        return value
    if isinstance(value, Decimal):
        text = format(value, "f")
        if "." not in text:
            text += ".0"  # a TOML float needs a fraction; scale 0 cannot be written
        return Float(float(value), Trivia(), text)
    if isinstance(value, dict):
        table = tomlkit.inline_table()
        for k, v in value.items():
            table[str(k)] = toml_value(v)
        return table
    if isinstance(value, list):
        array = tomlkit.array()
        for v in value:
            array.append(toml_value(v))
        if any(isinstance(v, (dict, list)) for v in value) or len(value) > 4:
            array.multiline(True)
        return array
    return value


def _mail(actual: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"to": m.get("to"), "subject": m.get("subject"), "message": m.get("message")}
            for m in actual]


def _rewrite(expect: Any, outcome: Outcome, keys: set[str]) -> None:
    actual = outcome.actual
    if "error" in keys:
        if "error" in actual:
            for stale in ("return", "return_at"):
                if stale in expect:
                    del expect[stale]
            expect["error"] = toml_value({k: v for k, v in actual["error"].items()
                                          if v is not None})
        else:
            del expect["error"]
            expect["return"] = toml_value(actual.get("return"))
    if "return" in keys:
        expect["return"] = toml_value(actual.get("return"))
    if "return_at" in keys and "return" in actual:
        from .compare import PathMissing, get_path
        paths = expect["return_at"]
        for path in list(paths):
            try:
                paths[path] = toml_value(get_path(actual["return"], path))
            except PathMissing:
                del paths[path]
    if "logs" in keys or "logs_contain" in keys:
        if "logs_contain" in keys:
            del expect["logs_contain"]
        expect["logs"] = toml_value(actual["logs"])
    if "mail" in keys:
        expect["mail"] = toml_value(_mail(actual["mail"]))
    if "http" in keys:
        expect["http"] = toml_value([{"method": c["method"], "url": c["url"]}
                                     for c in actual["http"]])
    for kind in ("created", "updated", "deleted"):
        if kind in keys:
            expect[kind] = toml_value(actual[kind])
    if "records" in keys:
        wanted = expect["records"]
        for key in list(wanted):
            found = {k.lower(): v for k, v in actual["records"].items()}.get(key.lower(), [])
            wanted[key] = toml_value(found)


def _update_file(test: TestFile, outcomes: list[Outcome]) -> int:
    document = tomlkit.parse(test.located.text)
    changed = 0
    for outcome in outcomes:
        keys = {f.key for f in outcome.failures if f.key}
        if not keys:
            continue  # an unmatched request or a bad time zone: nothing to snapshot
        case = document["case"][outcome.index]
        if "expect" not in case:
            table = tomlkit.table()
            case["expect"] = table
        _rewrite(case["expect"], outcome, keys)
        changed += 1
    if changed:
        folder = os.path.dirname(os.path.abspath(test.path))
        fd, temp = tempfile.mkstemp(prefix=".sluice-update-", dir=folder)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(document.as_string())
            os.replace(temp, test.path)
        except BaseException:
            os.unlink(temp)
            raise
    return changed


def update_session(session: Session) -> dict[str, int]:
    """Rewrite every test file that has failing cases; {path: cases updated}."""
    done: dict[str, int] = {}
    for test in session.files:
        failing = [o for o in session.outcomes if o.path == test.path and not o.passed]
        if failing:
            count = _update_file(test, failing)
            if count:
                done[test.path] = count
    return done
