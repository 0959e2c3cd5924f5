"""`sluice run hello.dg` starts quickly: it imports only what running a script needs.

The time itself is measured by tests/benchmarks/bench_core.py (cold start); this checks the
cause, which does not depend on the machine's load: the other packages' sub-commands, the
database and HTTP stacks, the built-in modules, the integration task tables and the
date-literal patterns stay unloaded for a script that does not use them, and load when one
does.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

_PROBE = """
import json, sys
from sluicegate.cli import main
code = main(["run", sys.argv[1]])
modules = sorted(sys.modules)
from sluicegate.stdlib import dates
print(json.dumps({"code": code, "modules": modules,
                  "layouts": dates._compile_layouts.cache_info().currsize}))
"""


def _run(tmp_path: Path, source: str) -> dict:
    script = tmp_path / "hello.dg"
    script.write_text(source, encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", _PROBE, str(script)], capture_output=True,
                          text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_a_hello_run_imports_only_what_running_needs(tmp_path: Path) -> None:
    out = _run(tmp_path, 'info "hello";\n')
    assert out["code"] == 0
    loaded = set(out["modules"])
    for heavy in ("sluicegate.connections.cli", "sluicegate.service.cli",
                  "sluicegate.connections.setup", "sqlalchemy", "httpx"):
        assert heavy not in loaded, heavy
    assert out["layouts"] == 0  # the vendor date layouts are compiled on first use
    # built-ins and integration tables are imported when a name of theirs is first used
    stdlib = {m for m in loaded if m.startswith("sluicegate.stdlib.")}
    assert stdlib == {"sluicegate.stdlib.builtin", "sluicegate.stdlib.tables",
                      "sluicegate.stdlib.nameindex"}, stdlib
    for lazy in ("sluicegate.integrations.registry", "sluicegate.integrations.forms",
                 "sluicegate.integrations.crm", "sluicegate.http.messages"):
        assert lazy not in loaded, lazy


def test_what_a_script_uses_is_loaded_when_first_used(tmp_path: Path) -> None:
    out = _run(tmp_path, 'l = List(); l.add("a"); info l.distinct() + "xy".reverse();\n'
                         'info zoho.currentdate.getYear() > 2000;\n')
    assert out["code"] == 0
    loaded = set(out["modules"])
    for used in ("sluicegate.stdlib.lists", "sluicegate.stdlib.text",
                 "sluicegate.stdlib.nulls", "sluicegate.stdlib.tasks"):
        assert used in loaded, used
    assert "sluicegate.stdlib.xpath" not in loaded


def test_a_date_literal_compiles_the_layouts_when_first_needed(tmp_path: Path) -> None:
    out = _run(tmp_path, "d = '01-Jan-2026'; info d.getYear();\n")
    assert out["code"] == 0
    assert out["layouts"] == 1


def test_inferring_a_method_s_return_kind_loads_only_that_method_s_modules(
        tmp_path: Path) -> None:
    """A method call in a loop asks the type inference what it returns: that looks the
    name up (its modules), not the whole tables with the integrations behind them."""
    out = _run(tmp_path, 'x = "ab";\ny = 0;\nfor each n in {1, 2}\n{\n'
                         '    y = y + x.length() + n;\n}\ninfo y;\n')
    assert out["code"] == 0
    loaded = set(out["modules"])
    assert "sluicegate.stdlib.text" in loaded
    for lazy in ("sluicegate.integrations.registry", "sluicegate.integrations.forms",
                 "sluicegate.http.messages", "sluicegate.stdlib.files",
                 "sluicegate.stdlib.xpath"):
        assert lazy not in loaded, lazy


def test_a_plain_run_command_line_reads_as_argparse_reads_it() -> None:
    """`sluice run SCRIPT` skips argparse: the arguments are the ones its parser makes."""
    from sluicegate import cli

    for script in ("hello.dg", "dir/a b.dg", "", "run", "=x.dg", "@file", "x=1", "ü.dg"):
        plain = cli._plain_run_args(["run", script])
        assert plain is not None, script
        parsed = cli.build_parser(core_only=True).parse_args(["run", script])
        assert vars(plain) == vars(parsed), script
    for words in (["run"], ["run", "-x.dg"], ["run", "--json", "a.dg"], ["run", "a.dg", "--json"],
                  ["run", "-h"], ["check", "a.dg"], ["translate", "a.dg"], [], ["run", "--", "a"]):
        assert cli._plain_run_args(words) is None, words


def test_a_hello_run_imports_neither_lark_nor_argparse(tmp_path: Path) -> None:
    out = _run(tmp_path, 'info "hello";\nreturn 1;\n')
    out = _run(tmp_path, 'info "hello";\nreturn 1;\n')  # the parser's tables exist now
    assert out["code"] == 0
    loaded = set(out["modules"])
    for heavy in ("lark", "argparse", "sluicegate.cliparser", "tempfile", "shutil", "hashlib"):
        assert heavy not in loaded, heavy


def test_the_digest_without_openssl_is_hashlib_s() -> None:
    import hashlib

    from sluicegate.digest import sha256

    for data in (b"", b"info \"hello\";", bytes(range(256)) * 300):
        assert sha256(data).hexdigest() == hashlib.sha256(data).hexdigest()
