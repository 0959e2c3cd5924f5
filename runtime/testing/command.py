"""The `sluice test` command: argument parsing and the exit-code contract.

    sluice test [PATH ...] [-k PATTERN] [--update] [--watch] [--record] [--coverage]

Exit 0 when every selected case passed, 1 when any failed, 2 for misuse or a test file
that cannot be read (named as file:line). The last line of the output is always
`N passed, M failed` when cases ran.
"""

from __future__ import annotations

__all__ = ["register", "cmd_test"]

import argparse
import sys
from typing import Any

from ..cliargs import positive_int, positive_seconds


def register(sub: Any) -> None:
    test = sub.add_parser(
        "test", help="run the *.test.toml cases of scripts offline",
        description="Run the cases of *.test.toml files (default: under the current folder) "
        "offline, against fake CRM/Books records and HTTP stubs. Exit 0 all passed, 1 any "
        "failed, 2 misuse or a bad test file.")
    test.add_argument("paths", nargs="*", metavar="PATH",
                      help="test files or folders searched for *.test.toml (default: .)")
    test.add_argument("-k", dest="pattern", metavar="PATTERN",
                      help="run only cases whose name contains PATTERN (or matches a glob)")
    test.add_argument("--update", action="store_true",
                      help="rewrite the expectations of failing cases from what happened")
    test.add_argument("--watch", action="store_true",
                      help="run again whenever a test file or script changes")
    test.add_argument("--record", action="store_true",
                      help="send the selected cases' HTTP through the real connections once "
                      "and write cassettes beside the test files (never a secret)")
    test.add_argument("--coverage", action="store_true",
                      help="print the share of statements run per script and write an HTML "
                      "report")
    test.add_argument("--coverage-html", metavar="FILE", default="sluice-coverage.html",
                      help="where --coverage writes its HTML report "
                      "(default sluice-coverage.html)")
    test.add_argument("-j", "--jobs", type=positive_int, metavar="N",
                      help="worker processes (default: all cores)")
    test.add_argument("-v", "--verbose", action="store_true", help="list passing cases too")
    test.add_argument("--interval", type=positive_seconds, default=0.5, metavar="SECONDS",
                      help="how often --watch looks for changes (default 0.5)")
    test.set_defaults(func=cmd_test)


def cmd_test(args: argparse.Namespace) -> int:
    if args.watch:
        from .watch import watch
        return watch(args, lambda: _once(args), sys.stdout)
    return _once(args)


def _once(args: argparse.Namespace) -> int:
    from .session import Session
    from .spec import SpecError

    out = sys.stdout
    paths = args.paths or ["."]
    session = Session(paths, pattern=args.pattern, jobs=args.jobs, coverage=args.coverage)
    try:
        session.load()
    except SpecError as exc:
        sys.stderr.write(f"{exc.path}:{exc.line}: error: {exc.message}\n")
        return 2
    if not session.files:
        sys.stderr.write(f"sluice test: error: no test files (*.test.toml) under "
                         f"{', '.join(paths)}\n")
        return 2
    if not session.work():
        sys.stderr.write(f"sluice test: error: no case matches -k {args.pattern!r}\n")
        return 2
    if args.record:
        from .cassettes import record_session
        try:
            record_session(session, out)
        except SpecError as exc:
            sys.stderr.write(f"{exc.path}:{exc.line}: error: {exc.message}\n")
            return 2
        except OSError as exc:
            sys.stderr.write(f"sluice test: error: cannot write a cassette "
                             f"({exc.strerror}: {exc.filename})\n")
            return 2
        # the run below replays what was just recorded
        session = Session(paths, pattern=args.pattern, jobs=args.jobs, coverage=args.coverage)
        session.load()
    session.run()
    if args.update and session.failed:
        from .update import update_session
        try:
            updated = update_session(session)
        except OSError as exc:
            sys.stderr.write(f"sluice test: error: cannot rewrite a test file "
                             f"({exc.strerror}: {exc.filename})\n")
            return 2
        for path, count in updated.items():
            out.write(f"{path}: updated the expectations of {count} case(s)\n")
        # run again from the rewritten files: the summary shows what they now say
        session = Session(paths, pattern=args.pattern, jobs=args.jobs,
                          coverage=args.coverage)
        session.load()
        session.run()
    session.report(out, verbose=args.verbose)
    if args.coverage:
        from .coverage import CoverageReportError, report_coverage
        try:
            report_coverage(session, out, args.coverage_html)
        except CoverageReportError as exc:
            sys.stderr.write(f"sluice test: error: {exc}\n")
            return 2
    out.write(session.summary() + "\n")
    return 0 if session.failed == 0 else 1
