"""`sluice test --watch`: runs again when a script or test file changes."""

from __future__ import annotations

import argparse
import io

from sluicegate.testing.command import _once
from sluicegate.testing.watch import watch
from wbhelpers import write


def test_watch_runs_again_after_a_script_changes(tmp_path, capsys):
    write(tmp_path, "add", "return a + b;\n", """
        [[case]]
        name = "adds"
        inputs = { a = 1, b = 2 }
        expect.return = 3
        """)
    args = argparse.Namespace(paths=[str(tmp_path)], pattern=None, jobs=1, coverage=False,
                              record=False, update=False, verbose=False, interval=0.01,
                              coverage_html="unused.html")
    codes: list[int] = []
    polls = {"n": 0}

    def run_once() -> int:
        codes.append(_once(args))
        return codes[-1]

    def edit_on_second_poll(seconds: float) -> None:
        polls["n"] += 1
        if polls["n"] == 2:  # one quiet poll first: nothing changed, nothing re-runs
            (tmp_path / "add.dg").write_text("return a - b;\n")

    out = io.StringIO()
    assert watch(args, run_once, out, stop=lambda: len(codes) >= 2,
                 sleep=edit_on_second_poll) == 0
    assert codes == [0, 1]
    assert polls["n"] == 2
    assert f"changed: {tmp_path}/add.dg" in out.getvalue()
    printed = capsys.readouterr().out.splitlines()
    assert printed[-1] == "0 passed, 1 failed"
