"""Everything a run may import on first use is imported by `preload`, before the zygote
forks: a child that switched to its unprivileged user may not be able to read the Python
installation (a virtualenv in a 0700 directory), so a module imported there for the first
time fails with ImportError. Checked in a fresh interpreter: every module that the code
runs reach imports inside a function body (the lazy imports that keep `sluice run` fast)
is already loaded after `preload()`."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# the code a run executes: built-ins, task tables, and the runtime modules they call
RUN_CODE = [*sorted((ROOT / "stdlib").rglob("*.py")),
            *sorted((ROOT / "runtime" / "integrations").glob("*.py")),
            *sorted((ROOT / "runtime" / "isolation").glob("*.py")),
            *sorted((ROOT / "runtime" / "optimizer").glob("*.py")),
            *sorted((ROOT / "runtime" / "jsonform").glob("*.py")),
            *(ROOT / "runtime" / name for name in (
                "engine.py", "limits.py", "memory.py", "values.py", "operators.py",
                "hooks.py", "dispatch.py", "sandbox.py", "translator.py"))]


def _package(path: Path) -> str:
    """The package a module of the run's code belongs to (what its relative imports are
    relative to): runtime/ is sluicegate, stdlib/ is sluicegate.stdlib, subdirectories
    are their subpackages."""
    top, *subs = path.parent.relative_to(ROOT).parts
    return ".".join([{"runtime": "sluicegate", "stdlib": "sluicegate.stdlib"}[top], *subs])


def _lazy_imports() -> set[str]:
    """Modules imported inside function bodies of the run's code, as absolute names."""
    found: set[str] = set()
    for path in RUN_CODE:
        package = _package(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.Import):
                    found.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom):
                    base = node.module or ""
                    if node.level:
                        parts = package.split(".")
                        parts = parts[:len(parts) - node.level + 1]
                        base = ".".join([*parts, base] if base else parts)
                    if node.module is None:   # `from . import memory`: the modules
                        found.update(f"{base}.{alias.name}" for alias in node.names)
                    else:
                        found.add(base)
    return {name for name in found if name}


def test_every_lazy_import_of_a_run_is_preloaded() -> None:
    missing = [str(path) for path in RUN_CODE if not path.exists()]
    assert not missing, f"moved or renamed? update RUN_CODE: {missing}"
    names = sorted(_lazy_imports())
    assert "regex" in names and "sluicegate.memory" in names   # the scan finds them
    probe = ("import sys\nfrom sluicegate.isolation import preload\npreload()\n"
             f"print([n for n in {names!r} if n not in sys.modules])\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout


def test_a_syntax_error_after_preload_imports_nothing() -> None:
    """A run parses without Lark; a syntax error is reported by Lark's parser, which
    `preload` has loaded: reporting one in a child imports no module."""
    probe = ("import sys\nfrom sluicegate.isolation import preload\npreload()\n"
             "from sluicegate.errors import ScriptSyntaxError\n"
             "from sluicegate.translator import translate\n"
             "before = set(sys.modules)\nmessages = []\n"
             "for text in ('a = ;', 'if (x { }', \"s = 'open\", 'y = 1 ? 2 : 3;',\n"
             "             'r = invokeurl [ url: \"u\" ] info r;', 'x = 1\\ny = 2;'):\n"
             "    try:\n        translate(text)\n"
             "    except ScriptSyntaxError as err:\n        messages.append(err.message)\n"
             "print(len(messages), sorted(set(sys.modules) - before))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-2:] == ["5", "[]"], done.stdout
