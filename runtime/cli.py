"""The `sluice` command line (ARCHITECTURE "Contract: command line").

Exit codes: 0 success; 1 the script failed or `check` found problems; 2 the command
itself was misused (unknown option, missing file, bad --input). Heavy modules are
imported inside the commands so that `sluice run hello.dg` starts quickly.
"""

from __future__ import annotations

__all__ = ["main", "build_parser", "package_version", "UsageError"]

import os
import sys
from collections.abc import Sequence
from decimal import Decimal
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse


class UsageError(Exception):
    """A mistake in how the command was called; printed without a traceback, exit 2."""


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
    if not pairs and not inputs_file:
        return {}
    import json

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


def cmd_completion(args: argparse.Namespace) -> int:
    import shtab

    sys.stdout.write(shtab.complete(build_parser(), shell=args.shell) + "\n")
    return 0


def build_parser(core_only: bool = False) -> argparse.ArgumentParser:
    """The `sluice` parser; `core_only` leaves out the other packages' sub-commands
    (importing them is most of the start-up of `sluice run`). Built in `cliparser`:
    `sluice run SCRIPT` alone never needs argparse (`_plain_run_args`)."""
    from .cliparser import build_parser as build

    return build(core_only)


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


def _plain_run_args(words: list[str]) -> Any:
    """The arguments argparse makes of exactly `run SCRIPT` (a script that does not look
    like an option), without importing argparse and building every sub-command's parser
    (a tenth of a cold `sluice run`); None for any other command line. A test compares
    them with argparse's."""
    if len(words) != 2 or words[0] != "run" or words[1].startswith("-"):
        return None
    return SimpleNamespace(command="run", script=words[1], input=None, inputs=None,
                           json=False, isolated=False, max_statements=None, timeout=None,
                           profile="function", entry=None, timezone=None, func=cmd_run)


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    args = _plain_run_args(words)
    if args is None:
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
    # `python -m sluicegate.cli`: the package's own module runs, the one cliparser's
    # commands and UsageError belong to (this copy, `__main__`, would not catch them)
    from sluicegate.cli import main as _main

    sys.exit(_main())
