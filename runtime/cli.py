"""The `sluice` command line (ARCHITECTURE "Contract: command line").

Exit codes: 0 success; 1 the script failed or `check` found problems; 2 the command
itself was misused (unknown option, missing file, bad --input). Heavy modules are
imported inside the commands so that `sluice run hello.dg` starts quickly.
"""

from __future__ import annotations

__all__ = ["main", "build_parser", "package_version", "UsageError"]

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from .cliargs import positive_int as _positive_int
from .cliargs import positive_seconds as _positive_float


class UsageError(Exception):
    """A mistake in how the command was called; printed without a traceback, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def _read_script(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a directory, not a script") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror})") from None


# The JSON decoder recurses; past the interpreter's depth it stops with RecursionError.
_TOO_DEEP = "nested deeper than the nesting limit of 512 levels"


def _parse_inputs(pairs: Sequence[str], inputs_file: str | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if inputs_file:
        try:
            with open(inputs_file, encoding="utf-8") as f:
                loaded = json.load(f, parse_float=Decimal)
        except FileNotFoundError:
            raise UsageError(f"--inputs {inputs_file}: no such file") from None
        except ValueError as exc:
            raise UsageError(f"--inputs {inputs_file}: not valid JSON ({exc})") from None
        except RecursionError:
            raise UsageError(f"--inputs {inputs_file}: {_TOO_DEEP}") from None
        if not isinstance(loaded, dict):
            raise UsageError(f"--inputs {inputs_file}: must hold a JSON object of inputs")
        values.update(loaded)
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"--input {pair!r}: expected NAME=JSON, e.g. --input total=12.5")
        if not name.replace("_", "a").isalnum() or name[0].isdigit():
            raise UsageError(f"--input {name!r}: not a valid variable name")
        try:
            values[name] = json.loads(text, parse_float=Decimal)
        except ValueError as exc:
            raise UsageError(f"--input {name}: value is not valid JSON ({exc.msg}); "
                             f"quote text as JSON, e.g. --input {name}='\"text\"'") from None
        except RecursionError:
            raise UsageError(f"--input {name}: {_TOO_DEEP}") from None
    return values




def cmd_run(args: argparse.Namespace) -> int:
    source = _read_script(args.script)
    inputs = _parse_inputs(args.input or [], args.inputs)
    from .engine import Runtime
    from .limits import PROFILES

    limits = PROFILES[args.profile].with_(max_statements=args.max_statements,
                                          timeout=args.timeout)
    if args.isolated:
        from .isolation import IsolatedExecutor, ZygoteForker

        # Children come from a zygote started afresh with an empty environment, never
        # from this process (its environment may hold SLUICE_MASTER_KEY); the broker is
        # built in this process only, on the first request.
        try:
            forker = ZygoteForker()
        except ValueError as exc:  # SLUICE_ISOLATION_USER names no usable user
            raise UsageError(str(exc)) from None
        broker: Any = _LazyBroker()
        try:
            executor = IsolatedExecutor(broker=broker, timezone=args.timezone, forker=forker)
            result = executor.execute(source, inputs, limits, entry=args.entry,
                                      filename=args.script)
        finally:
            forker.close()
    else:
        # Built on the first request: a run that calls out to nothing never imports it.
        broker = _LazyBroker()
        runtime = Runtime(timezone=args.timezone, broker=broker)
        result = runtime.run(source, inputs, filename=args.script, limits=limits,
                             entry=args.entry, inputs_owned=True)  # parsed for this run
    problem = getattr(broker, "problem", None)
    if problem:  # the host is misconfigured (master key, database URL): not the script
        sys.stderr.write(f"sluice run: error: {problem}\n")
        return 2
    if args.json:
        sys.stdout.write(result.to_json_text() + "\n")
    else:
        from .values import clean_text, display
        for line in result.logs:
            sys.stdout.write(line + "\n")
        if result.error is not None:
            text = source.decode("utf-8", "replace").lstrip("\ufeff")
            sys.stderr.write(result.error.diagnostic(text) + "\n")
        elif result.value is not None:
            sys.stdout.write(f"return: {clean_text(display(result.value))}\n")
    return 0 if result.ok else 1


class _LazyBroker:
    """Builds the CLI's broker on the first request, in the process that sends it."""

    def __init__(self) -> None:
        self._broker: Any = None

    @property
    def problem(self) -> str | None:
        return getattr(self._broker, "problem", None)

    def send(self, request: Any, ctx: Any) -> Any:
        if self._broker is None:
            from .http.messages import UnconfiguredBroker
            self._broker = _local_broker() or UnconfiguredBroker()
        return self._broker.send(request, ctx)


def _local_broker() -> Any:
    """The broker of CLI runs: the connections registry when it is installed and set up."""
    try:
        from .connections.setup import broker_for_cli
    except ImportError:
        return None
    return broker_for_cli()


def cmd_check(args: argparse.Namespace) -> int:
    from .tooling.cli import run_check

    return run_check(args)


def cmd_translate(args: argparse.Namespace) -> int:
    source = _read_script(args.script)
    from .errors import ScriptSyntaxError, format_diagnostic
    from .sandbox import generated_source

    try:
        sys.stdout.write(generated_source(source, args.script))
    except ScriptSyntaxError as err:
        text = source.decode("utf-8", "replace").lstrip("\ufeff")
        sys.stderr.write(format_diagnostic(args.script, text, err.line, err.column, "error",
                                           err.message) + "\n")
        return 1
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(sys.stdout)


def package_version() -> str:
    """The installed sluicegate version (pyproject's, through the package metadata)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("sluicegate")
    except PackageNotFoundError:   # run from a source tree that was never installed
        return "unknown"


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


def cmd_completion(args: argparse.Namespace) -> int:
    import shtab

    sys.stdout.write(shtab.complete(build_parser(), shell=args.shell) + "\n")
    return 0


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


def _host_problem(exc: Exception) -> str | None:
    """The message of a host misconfiguration (a master key that does not match the
    database, an unusable database URL): the command was set up wrong, exit 2. Checked
    by the modules that raise them, which are loaded only when used."""
    db = sys.modules.get("sluicegate.store.db")
    if db is not None and isinstance(exc, db.DatabaseUrlError):
        return str(exc)
    mail = sys.modules.get("sluicegate.mail.settings")
    if mail is not None and isinstance(exc, mail.SmtpUrlError):
        return str(exc)
    keyring = sys.modules.get("sluicegate.connections.keyring")
    if keyring is not None and isinstance(exc, keyring.KeyringError):
        return f"master key: {exc}"
    return None


# Commands of this module: running one needs none of the other packages' sub-commands.
_CORE_COMMANDS = {"run", "check", "translate", "demo", "completion"}


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(core_only=bool(words) and words[0] in _CORE_COMMANDS)
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except UsageError as exc:
        sys.stderr.write(f"sluice {args.command}: error: {exc}\n")
        return 2
    except Exception as exc:
        problem = _host_problem(exc)
        if problem is None:
            raise
        sys.stderr.write(f"sluice {args.command}: error: {problem}\n")
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        os._exit(0)
    return code


if __name__ == "__main__":
    sys.exit(main())
