"""The `sluice` command line's argparse parser (cli.build_parser).

Kept apart from cli.py so that `sluice run SCRIPT`, which needs none of it, does not
import argparse (with gettext and locale) or build the parsers of every sub-command.
"""

from __future__ import annotations

__all__ = ["build_parser"]

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from .cli import cmd_check, cmd_completion, cmd_demo, cmd_run, cmd_translate, package_version
from .cliargs import positive_int as _positive_int
from .cliargs import positive_seconds as _positive_float


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


class _Version(argparse.Action):
    """`--version`, reading the metadata only when asked (startup stays fast)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS,
                 **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_args: Any) -> None:
        sys.stdout.write(f"sluice {package_version()}\n")
        parser.exit(0)


_ENVIRONMENT = """environment (see the README for all):
  SLUICE_HOME, SLUICE_DATABASE_URL, SLUICE_MASTER_KEY, SLUICE_TIMEZONE,
  SLUICE_ALLOW_PRIVATE_HOSTS, SLUICE_TOKEN_LEEWAY, SLUICE_OAUTH_REDIRECT_URI,
  SLUICE_AUTHORIZE_TIMEOUT, SLUICE_ACTOR,
  SLUICE_SMTP_URL, SLUICE_SMTP_PASSWORD   deliver sendmail (sluice serve --help)
  SLUICE_LOG_FORMAT                       json or text logs of serve and worker
  SLUICE_RUN_FIELD_BYTES, SLUICE_RUN_INPUT_BYTES
                                          what a run record keeps of each field (64 KB)
                                          and of the inputs (1 MB of JSON; cut inputs
                                          cannot be replayed)
"""


def build_parser(core_only: bool = False) -> argparse.ArgumentParser:
    """The `sluice` parser; `core_only` leaves out the other packages' sub-commands
    (importing them is most of the start-up of `sluice run`)."""
    parser = _Parser(prog="sluice", description="Run Deluge business scripts in a sandbox.",
                     epilog=_ENVIRONMENT, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action=_Version, help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    run = sub.add_parser("run", help="run a script and print its logs and result")
    run.add_argument("script", help="the .dg file to run")
    run.add_argument("--input", action="append", metavar="NAME=JSON",
                     help="an input value as JSON (repeatable)")
    run.add_argument("--inputs", metavar="FILE.json", help="a JSON object of inputs")
    run.add_argument("--json", action="store_true", help="print one JSON result object")
    run.add_argument("--isolated", action="store_true",
                     help="run in a forked, resource-limited child process with an empty "
                          "environment (as root: as SLUICE_ISOLATION_USER, default "
                          "uid 65532; 'none' keeps root)")
    run.add_argument("--max-statements", type=_positive_int, metavar="N",
                     help="statement limit (default 200000)")
    run.add_argument("--timeout", type=_positive_float, metavar="SECONDS",
                     help="wall-clock limit (default: the profile's, 30 s for functions)")
    run.add_argument("--profile", choices=("function", "button", "schedule"), default="function",
                     help="limit profile (default function)")
    run.add_argument("--entry", metavar="NAME", help="the function of the file to run")
    run.add_argument("--timezone", metavar="TZ",
                     help="IANA time zone when inputs have no organization.time_zone")
    run.set_defaults(func=cmd_run)

    check = sub.add_parser("check", help="parse scripts and report every problem found")
    check.add_argument("scripts", nargs="+", metavar="SCRIPT",
                       help="scripts, or directories whose *.dg scripts are all checked")
    check.add_argument("--json", action="store_true", help="print the problems as JSON")
    check.set_defaults(func=cmd_check)

    tr = sub.add_parser("translate", help="print the Python a script compiles to")
    tr.add_argument("script")
    tr.set_defaults(func=cmd_translate)

    demo = sub.add_parser("demo", help="run the example scripts offline and show the results")
    demo.set_defaults(func=cmd_demo)

    completion = sub.add_parser("completion", help="print a shell completion script",
                                description="Print the completion script of a shell, e.g. "
                                "`sluice completion bash > /etc/bash_completion.d/sluice` or "
                                "`sluice completion zsh > ~/.zfunc/_sluice`.")
    completion.add_argument("shell", choices=("bash", "zsh"))
    completion.set_defaults(func=cmd_completion)

    if not core_only:
        for register in _extensions():
            register(sub)
    return parser


def _extensions() -> list[Callable[[Any], None]]:
    """Sub-commands of the other packages (connections, service, ...), when present."""
    found = []
    for module_name in ("sluicegate.connections.cli", "sluicegate.service.cli",
                        "sluicegate.testing.command",
                        "sluicegate.org.cli",
                        "sluicegate.tooling.cli"):
        try:
            module = __import__(module_name, fromlist=["register"])
        except ImportError:
            continue
        found.append(module.register)
    return found


