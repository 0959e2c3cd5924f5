"""Highlighting everywhere (issue 13, point 4): the TextMate grammar (generated, tested with
a grammar test runner), the VS Code extension folder, and the Pygments lexer `deluge`, all
from the runtime's word lists."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pygments.lexers import get_lexer_by_name
from pygments.token import Keyword, Name
from sluicegate.tooling.catalog import words
from sluicegate.tooling.grammars import GRAMMAR_PATH, generated_files
from sluicegate.tooling.highlight import DelugeLexer, tokens

ROOT = Path(__file__).resolve().parents[2]
VSCODE = ROOT / "editors" / "vscode"
TMGRAMMAR_TEST = "vscode-tmgrammar-test@0.1.3"


def test_generated_grammar_files_are_in_sync_with_the_runtime_tables() -> None:
    for rel, text in generated_files().items():
        committed = (ROOT / rel).read_text(encoding="utf-8")
        assert committed == text, (f"{rel} is out of date: run "
                                   "`python -m sluicegate.tooling.grammars .`")
    grammar = json.loads((ROOT / GRAMMAR_PATH).read_text(encoding="utf-8"))
    assert grammar["scopeName"] == "source.deluge"
    text = json.dumps(grammar)
    for word in ("toUpperCase", "daysBetween", "getRecordById", "ifnull", "invokeurl"):
        assert word in text


def _kinds(source: str) -> dict[str, str]:
    return {source[o:o + n]: k for o, n, k in tokens(source)}


def test_pygments_lexer_knows_every_word_of_the_runtime() -> None:
    w = words()
    for name in w["methods"]:
        assert _kinds(f"x.{name}(1);")[name] == "Name.Builtin", name
    for name in w["functions"]:
        expected = "Keyword.Reserved" if name.lower() in w["keywords"] else "Name.Builtin"
        assert _kinds(f"x = {name}(1);")[name] == expected, name  # invokeUrl(...): the keyword
    for name in w["tasks"]:
        assert _kinds(f"x = {name}(1);")[name] == "Name.Function.Magic", name
    for name in w["keywords"]:
        kind = _kinds(f"{name} x")[name]
        assert kind.startswith("Keyword"), (name, kind)
    for name in w["task_parameters"]:
        assert _kinds(f"r = invokeurl\n[\n    {name}: 1\n];")[name] == "Name.Attribute", name
    assert _kinds("x = myHelper(1);")["myHelper"] == "Name.Function"
    assert _kinds("// note\nx = 1;")["// note"] == "Comment.Single"


def test_pygments_finds_the_lexer_by_name_and_pygmentize_uses_it(tmp_path: Path) -> None:
    lexer = get_lexer_by_name("deluge")
    assert isinstance(lexer, DelugeLexer)
    kinds = {value: kind for kind, value in lexer.get_tokens('if (a) { info "x".trim(); }')}
    assert kinds["if"] in Keyword and kinds["trim"] in Name.Builtin
    script = tmp_path / "a.dg"
    script.write_text('info "hi".toUpperCase();\n', encoding="utf-8")
    pygmentize = Path(sys.executable).parent / "pygmentize"
    done = subprocess.run([str(pygmentize), "-l", "deluge", "-f", "html", str(script)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert '<span class="k">info</span>' in done.stdout
    assert '<span class="nb">toUpperCase</span>' in done.stdout


def test_vscode_extension_folder_is_complete() -> None:
    package = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))
    contributes = package["contributes"]
    (language,) = contributes["languages"]
    assert language["id"] == "deluge" and ".dg" in language["extensions"]
    assert (VSCODE / language["configuration"]).is_file()
    (grammar,) = contributes["grammars"]
    assert (VSCODE / grammar["path"]).resolve() == (ROOT / GRAMMAR_PATH).resolve()
    (snippets,) = contributes["snippets"]
    body = json.loads((VSCODE / snippets["path"]).read_text(encoding="utf-8"))
    assert {"invokeurl", "sendmail", "for each", "try catch"} <= set(body)
    json.loads((VSCODE / "language-configuration.json").read_text(encoding="utf-8"))
    main = (VSCODE / package["main"]).read_text(encoding="utf-8")
    assert '"sluice", "lsp"' in main and "vscode-languageclient/node" in main
    assert package["contributes"]["configuration"]["properties"][
        "deluge.server.command"]["default"] == ["sluice", "lsp"]
    assert "vscode-languageclient" in package["dependencies"]


@pytest.fixture(scope="session")
def tmgrammar_test(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The grammar test runner from the npm registry (skipped without Node)."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        pytest.skip("no Node.js toolchain (node and npm): the TextMate grammar test runner "
                    "vscode-tmgrammar-test needs one")
    prefix = tmp_path_factory.mktemp("tmgrammar")
    done = subprocess.run([npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund",
                           "--loglevel=error", TMGRAMMAR_TEST],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return str(prefix / "node_modules" / ".bin" / "vscode-tmgrammar-test")


def test_textmate_grammar_passes_the_grammar_test_runner(tmgrammar_test: str) -> None:
    samples = sorted((VSCODE / "tests").glob("*.dg"))
    assert len(samples) >= 2
    done = subprocess.run([tmgrammar_test, "-g", "syntaxes/deluge.tmLanguage.json",
                           "tests/*.dg"], cwd=VSCODE, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert done.stdout.count("run successfuly") == len(samples)


def test_the_grammar_runner_catches_a_wrong_scope(tmgrammar_test: str, tmp_path: Path) -> None:
    """The runner really checks: a sample asserting a wrong scope fails."""
    bad = tmp_path / "bad.dg"
    bad.write_text('// SYNTAX TEST "source.deluge" "wrong on purpose"\n'
                   "if (a) { }\n// <-- comment.line.double-slash.deluge\n", encoding="utf-8")
    done = subprocess.run([tmgrammar_test, "-g", str(ROOT / GRAMMAR_PATH), str(bad)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
