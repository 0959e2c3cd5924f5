"""The editor commands of `sluice`: `check` (its body), `fmt` and `lsp`.

`register(sub)` adds `fmt` and `lsp` to the command line; `run_check(args)` is what
`sluice check` does. Heavy modules (the parser, pygls) are imported inside the commands
so that `sluice --help` stays quick.
"""

from __future__ import annotations

__all__ = ["configured_connection_names", "register", "run_check", "script_paths"]

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sluicegate.cli import UsageError, _read_script


def script_paths(paths: list[str]) -> list[str]:
    """The scripts named: a directory stands for every `*.dg` under it, in path order."""
    found: list[str] = []
    for path in paths:
        p = Path(path)
        if p.is_dir():
            scripts = sorted(str(s) for s in p.rglob("*.dg") if s.is_file())
            if not scripts:
                raise UsageError(f"{path}: no .dg scripts under this directory")
            found.extend(scripts)
        else:
            found.append(path)
    return found


def configured_connection_names() -> set[str] | None:
    """The link names of the configured registry; None when no registry is configured.

    Only the names are read (no secret is decrypted, so no master key is needed).
    """
    from sluicegate.connections.setup import database_exists

    if not database_exists():
        return None
    from sluicegate.store.connections import Connection
    from sluicegate.store.db import make_engine
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    try:
        engine = make_engine()
    except (SQLAlchemyError, ValueError) as exc:
        raise UsageError(f"cannot open the connection registry ({exc})") from None
    try:
        with engine.connect() as conn:
            return set(conn.execute(select(Connection.link_name)).scalars())
    except SQLAlchemyError:
        return None  # a database without the connections table yet: nothing to compare
    finally:
        engine.dispose()


class _RegistryNames:
    """The configured registry's link names, read once, when a script first names a
    connection (checking scripts that name none never opens the database)."""

    def __init__(self) -> None:
        self._names: set[str] | None = None

    def __iter__(self) -> Iterator[str]:
        if self._names is None:
            self._names = configured_connection_names() or set()
        return iter(self._names)


def run_check(args: argparse.Namespace) -> int:
    from sluicegate.connections.setup import database_exists
    from sluicegate.tooling import diagnose

    names = _RegistryNames() if database_exists() else None
    reports = []
    failed = False
    for path in script_paths(args.scripts):
        source = _read_script(path)
        problems = diagnose(source, path, names)
        if any(p.severity == "error" for p in problems):
            failed = True
        reports.append((path, source, problems))
    if args.json:
        out = [{"file": path, "ok": not any(p.severity == "error" for p in problems),
                "problems": [p.to_json() for p in problems]} for path, _, problems in reports]
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    else:
        for path, source, problems in reports:
            text = source.decode("utf-8", "replace").lstrip("\ufeff")
            for p in problems:
                sys.stdout.write(p.diagnostic(text) + "\n")
            if not any(p.severity == "error" for p in problems):
                sys.stdout.write(f"{path}: ok\n")
    return 1 if failed else 0


def register(sub: Any) -> None:
    """Add `fmt` and `lsp` to the `sluice` sub-commands."""
    fmt = sub.add_parser("fmt", help="format scripts in the vendor editor's house style")
    fmt.add_argument("paths", nargs="+", metavar="FILE",
                     help="scripts or directories to rewrite in place; - reads stdin, "
                          "writes stdout")
    fmt.add_argument("--check", action="store_true",
                     help="change nothing; exit 1 naming the files that would change")
    fmt.set_defaults(func=run_fmt)
    lsp = sub.add_parser("lsp", help="run the Deluge language server over stdio")
    lsp.set_defaults(func=run_lsp)


def run_fmt(args: argparse.Namespace) -> int:
    from sluicegate.errors import ScriptSyntaxError, format_diagnostic

    from .format import FormatterError, format_source

    if "-" in args.paths:
        if len(args.paths) > 1:
            raise UsageError("- (stdin) cannot be combined with file names")
        data = sys.stdin.buffer.read()
        try:
            out = format_source(data, "<stdin>")
        except ScriptSyntaxError as err:
            text = data.decode("utf-8", "replace")
            sys.stderr.write(format_diagnostic("<stdin>", text, err.line, err.column, "error",
                                               err.message) + "\n")
            return 1
        except FormatterError as exc:
            sys.stderr.write(f"<stdin>: error: not formatted: {exc}\n")
            return 1
        if args.check:
            changed = out != data.decode("utf-8", "replace")
            if changed:
                sys.stdout.write("<stdin>: would be reformatted\n")
            return 1 if changed else 0
        sys.stdout.write(out)
        return 0
    return _fmt_files(script_paths(args.paths), args.check)


def _fmt_files(paths: list[str], check: bool) -> int:
    from sluicegate.errors import ScriptSyntaxError, format_diagnostic

    from .format import FormatterError, format_source

    changed, failed = [], False
    for path in paths:
        data = _read_script(path)
        try:
            out = format_source(data, path)
        except ScriptSyntaxError as err:
            failed = True
            text = data.decode("utf-8", "replace")
            sys.stderr.write(format_diagnostic(path, text, err.line, err.column, "error",
                                               err.message) + "\n")
            continue
        except FormatterError as exc:
            failed = True
            sys.stderr.write(f"{path}: error: not formatted: {exc}\n")
            continue
        if out.encode("utf-8") == data:
            continue
        changed.append(path)
        if check:
            sys.stdout.write(f"{path}: would be reformatted\n")
        else:
            _write_atomically(path, out)
            sys.stdout.write(f"{path}: formatted\n")
    return 1 if failed or (check and changed) else 0


def _write_atomically(path: str, text: str) -> None:
    """Replace the file in one step: an interrupted format never leaves half a script."""
    import os
    import tempfile

    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.chmod(tmp, target.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def run_lsp(args: argparse.Namespace) -> int:
    try:
        from .lsp import serve
    except ImportError as exc:
        raise UsageError(f"the language server needs pygls ({exc})") from None
    serve()
    return 0
