"""A test session: find the test files under the given paths, load them, run the selected
cases (in parallel on all cores when there are enough of them), and report.

Results come back in file and case order whatever process ran them, and every case has a
fixed clock and its own fakes, so a session's output is the same on every run.
"""

from __future__ import annotations

__all__ = ["Session", "discover", "SUFFIX", "run_example_tests"]

import fnmatch
import io
import os
import sys
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, TextIO

from .runner import Failure, Outcome, run_case
from .spec import Case, SpecError, TestFile, load_test_file

SUFFIX = ".test.toml"
# A case takes about a millisecond; forking workers and sending outcomes back costs tens
# of milliseconds (tests/benchmarks/bench_workbench.py): below this many cases per core a
# session runs in-process.
_CASES_PER_WORKER = 50
_SKIP_DIRS = {".git", "__pycache__", "node_modules", ".venv", "venv", ".tox"}


def discover(paths: Iterable[str]) -> list[str]:
    """Test files named by `paths` (files, or folders searched recursively), sorted."""
    found: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and
                                 not d.startswith("."))
                found += [os.path.join(root, f) for f in sorted(files) if f.endswith(SUFFIX)]
        elif os.path.isfile(path):
            if not path.endswith(SUFFIX):
                raise SpecError(path, 1, f"not a test file (test files end with {SUFFIX})")
            found.append(path)
        else:
            raise SpecError(path, 1, "no such file or folder")
    unique = sorted(dict.fromkeys(os.path.normpath(p) for p in found))
    return unique


def selected(case: Case, pattern: str | None) -> bool:
    """`-k`: a substring of the case name (any case), or a glob when it has * ? or [."""
    if not pattern:
        return True
    name = case.name.lower()
    pat = pattern.lower()
    if any(ch in pat for ch in "*?["):
        return fnmatch.fnmatchcase(name, pat)
    return pat in name


@dataclass
class Session:
    paths: list[str]
    pattern: str | None = None
    jobs: int | None = None
    coverage: bool = False
    files: list[TestFile] = field(default_factory=list)
    sources: dict[str, bytes] = field(default_factory=dict)
    cassettes: dict[str, Any] = field(default_factory=dict)
    outcomes: list[Outcome] = field(default_factory=list)

    def load(self) -> None:
        """Read every test file and its script; raises SpecError on the first bad one."""
        self.files = [load_test_file(p) for p in discover(self.paths)]
        for test in self.files:
            if os.path.isfile(test.cassette_path):
                from .cassettes import load_cassette
                self.cassettes[test.path] = load_cassette(test.cassette_path)
            if test.script_path not in self.sources:
                try:
                    with open(test.script_path, "rb") as f:
                        self.sources[test.script_path] = f.read()
                except OSError as exc:
                    raise SpecError(test.path, 1, f"cannot read the script "
                                    f"{test.script_path} ({exc.strerror})") from None

    def work(self) -> list[tuple[int, int]]:
        return [(fi, case.index) for fi, test in enumerate(self.files)
                for case in test.cases if selected(case, self.pattern)]

    def run(self) -> list[Outcome]:
        work = self.work()
        jobs = self.jobs or os.cpu_count() or 1
        _precompile(self)
        if jobs > 1 and len(work) >= 2 * _CASES_PER_WORKER and _can_fork():
            self.outcomes = self._parallel(work, jobs)
        else:
            self.outcomes = [_run_one(self, fi, ci) for fi, ci in work]
        return self.outcomes

    def _parallel(self, work: list[tuple[int, int]], jobs: int) -> list[Outcome]:
        import multiprocessing

        global _SESSION
        _SESSION = self
        chunks = [work[i::jobs] for i in range(jobs)]
        try:
            with ProcessPoolExecutor(max_workers=jobs,
                                     mp_context=multiprocessing.get_context("fork")) as pool:
                results = pool.map(_run_chunk, chunks)
                by_key = {(o.path, o.index): o for chunk in results for o in chunk}
        except (BrokenProcessPool, OSError):
            # a worker was killed (out of memory) or could not start: run here instead
            return [_run_one(self, fi, ci) for fi, ci in work]
        finally:
            _SESSION = None
        return [by_key[(self.files[fi].path, ci)] for fi, ci in work]

    # ---- reporting ------------------------------------------------------------------------
    @property
    def passed(self) -> int:
        return sum(1 for o in self.outcomes if o.passed)

    @property
    def failed(self) -> int:
        return sum(1 for o in self.outcomes if not o.passed)

    def report(self, out: TextIO, verbose: bool = False) -> None:
        for outcome in self.outcomes:
            if not outcome.passed:
                out.write(outcome.report() + "\n")
            elif verbose:
                out.write(f"{outcome.path}:{outcome.line}: ok: {outcome.case}\n")

    def summary(self) -> str:
        return f"{self.passed} passed, {self.failed} failed"


_SESSION: Session | None = None


def _can_fork() -> bool:
    return sys.platform != "win32" and hasattr(os, "fork")


def _precompile(session: Session) -> None:
    """Compile each script once before any fork, so workers share the compiled code."""
    from ..errors import ScriptSyntaxError
    from ..sandbox import compile_script

    for path, source in session.sources.items():
        try:
            compile_script(source, path)
        except ScriptSyntaxError:
            pass  # every case of it reports the syntax error as its failure


def _run_chunk(chunk: list[tuple[int, int]]) -> list[Outcome]:
    session = _SESSION
    assert session is not None
    return [_run_one(session, fi, ci) for fi, ci in chunk]


def _run_one(session: Session, fi: int, ci: int) -> Outcome:
    test = session.files[fi]
    case = test.cases[ci]
    tracer = None
    if session.coverage:
        from ..errors import ScriptSyntaxError
        from ..sandbox import compile_script
        from .coverage import LineTracer
        try:
            tracer = LineTracer(compile_script(session.sources[test.script_path],
                                               test.script_path).code)
        except ScriptSyntaxError:
            tracer = None  # nothing of it runs
    recorded = session.cassettes.get(test.path)
    cassette = recorded.replay(case.name) if recorded is not None else None
    try:
        outcome = run_case(test, case, session.sources[test.script_path], cassette=cassette,
                           tracer=tracer)
    except Exception as exc:  # a bug of ours must fail one case, not the session
        outcome = Outcome(test.path, case.name, case.line, case.index,
                          [Failure(case.line, f"case '{case.name}': internal error",
                                   f"{type(exc).__name__}: {exc}")])
    if tracer is not None:
        outcome.covered = {test.script_path: tracer.lines}
    return outcome


def run_example_tests(out: TextIO) -> int:
    """`sluice demo`'s last part: the test files shipped with the examples, run offline
    from the installed package (`sluicegate.examples`); returns the number that failed."""
    from importlib import resources

    out.write("\n== sluice test: the examples' test files (fake Books records, HTTP stubs)\n")
    with resources.as_file(resources.files("sluicegate.examples")) as folder:
        session = Session([str(folder)], jobs=1)
        try:
            session.load()
        except SpecError as exc:
            out.write(f"{exc}\n")
            return 1
        session.run()
        buffer = io.StringIO()
        session.report(buffer, verbose=True)
        out.write(buffer.getvalue().replace(str(folder) + os.sep, "examples/"))
    out.write(session.summary() + "\n")
    return session.failed
