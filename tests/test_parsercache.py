"""The translator's parser loaded from its pickle (runtime/parsercache.py) is Lark's
parser: every script of the corpus, and every syntax error made by cutting them short,
translates to the same Python or fails with the same message at the same place as with
the parser Lark builds itself; an unusable or foreign pickle is never loaded."""

from __future__ import annotations

import os
import pickle
import re
from pathlib import Path

import pytest

from sluicegate import parser, parsercache
from sluicegate.errors import ScriptSyntaxError
from sluicegate.sandbox import generated_source

ROOT = Path(__file__).resolve().parents[1]


def _corpus() -> list[str]:
    shared = next((p / "shared" / "conformance" for p in ROOT.parents
                   if (p / "shared" / "conformance").is_dir()), None)
    roots = [ROOT / "tests" / "scripts", ROOT / "examples", *([shared] if shared else [])]
    texts = [p.read_text(encoding="utf-8") for root in roots if root.is_dir()
             for p in sorted(root.rglob("*.dg"))]
    # syntax errors of every kind: the same scripts cut short
    cut = [t[: len(t) * k // 3] for t in texts for k in (1, 2) if len(t) > 3]
    return texts + cut + ['info "hello";', "x = ;", "if (a { }", "'unterminated", "a = 1 +"]


def _outcome(text: str) -> object:
    try:
        return generated_source(text)
    except ScriptSyntaxError as err:
        return ("error", err.message, err.line, err.column)


def _outcomes(texts: list[str], no_pickle: bool) -> list[object]:
    with parser._lock:
        parser._parsers.clear()
    saved = parser._NO_PICKLE
    parser._NO_PICKLE = no_pickle
    try:
        return [_outcome(text) for text in texts]
    finally:
        parser._NO_PICKLE = saved
        with parser._lock:
            parser._parsers.clear()


def test_the_pickled_parser_translates_every_script_as_lark_s_own() -> None:
    texts = _corpus()
    # the repository's own scripts, and the shared conformance cases where they are beside it
    shared = any((p / "shared" / "conformance").is_dir() for p in ROOT.parents)
    assert len(texts) > (300 if shared else 200)
    path = parsercache.cache_path(parser.grammar_text(), ("NAME",))
    ours = _outcomes(texts, no_pickle=False)   # builds and writes the pickle if missing
    again = _outcomes(texts, no_pickle=False)  # loads it
    assert parsercache._read(path) is not None, "the parser was not pickled"
    lark = _outcomes(texts, no_pickle=True)
    errors = sum(1 for o in lark if isinstance(o, tuple))
    assert errors > 50 and len(lark) - errors > 150  # both kinds are compared
    for text, a, b, c in zip(texts, ours, again, lark):
        assert a == c and b == c, text


def _pickle_file(path: Path, data: bytes, mode: int) -> Path:
    path.write_bytes(data)
    os.chmod(path, mode)
    return path


def test_a_pickle_others_may_write_or_not_a_parser_is_not_loaded(tmp_path: Path) -> None:
    assert parsercache._read(str(tmp_path / "missing.pickle")) is None
    good = parsercache._read(parsercache.cache_path(parser.grammar_text(), ("NAME",)))
    if good is None:  # no pickle yet in this temporary directory: make one
        with parser._lock:
            parser._parsers.clear()
        generated_source('info "x";')
        good = parsercache._read(parsercache.cache_path(parser.grammar_text(), ("NAME",)))
    assert good is not None
    source = Path(parsercache.cache_path(parser.grammar_text(), ("NAME",))).read_bytes()
    writable = _pickle_file(tmp_path / "writable.pickle", source, 0o666)
    assert parsercache._read(str(writable)) is None
    private = _pickle_file(tmp_path / "private.pickle", source, 0o600)
    assert parsercache._read(str(private)) is not None
    other = _pickle_file(tmp_path / "other.pickle", pickle.dumps({"not": "a parser"}), 0o600)
    assert parsercache._read(str(other)) is None
    garbage = _pickle_file(tmp_path / "garbage.pickle", b"\x80\x05garbage", 0o600)
    assert parsercache._read(str(garbage)) is None


def test_an_unusable_pickle_is_replaced_by_a_working_parser(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    target = _pickle_file(tmp_path / "parser.pickle", b"not a pickle", 0o600)
    monkeypatch.setattr(parsercache, "cache_path", lambda *_: str(target))
    lark = parsercache.load_parser(parser.grammar_text(), parser.KeywordPostLex(), None)
    assert lark.parse('info "x";') is not None
    assert parsercache._read(str(target)) is not None  # written anew, loadable
    assert target.stat().st_mode & 0o777 == 0o600


def test_without_a_writable_cache_nothing_is_precompiled(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    """Precompiling every state's patterns only pays when the pickle is kept."""
    target = tmp_path / "missing-directory" / "parser.pickle"
    monkeypatch.setattr(parsercache, "cache_path", lambda *_: str(target))
    lark = parsercache.load_parser(parser.grammar_text(), parser.KeywordPostLex(), None)
    assert lark.parse('info "x";') is not None
    assert not target.exists()
    assert all(basic.re is re for basic in parsercache._basic_lexers(lark))


def test_every_precompiled_lexer_pattern_is_what_re_compiles() -> None:
    """The lexers' patterns handed to `_sre.compile` from the pickle equal `re.compile`'s
    (a compiled pattern compares its flags and its code), and every state's lexer
    compiles through them."""
    path = parsercache.cache_path(parser.grammar_text(), ("NAME",))
    lark = parsercache._read(path)
    if lark is None:
        with parser._lock:
            parser._parsers.clear()
        generated_source('info "x";')
        lark = parsercache._read(path)
    assert lark is not None
    lexers = parsercache._basic_lexers(lark)
    assert len(lexers) > 20
    shims = {id(basic.re): basic.re for basic in lexers}
    assert len(shims) == 1
    shim = next(iter(shims.values()))
    assert isinstance(shim, parsercache.PrecompiledRe)
    assert len(shim.codes) > 20
    for (pattern, flags) in shim.codes:
        assert shim.compile(pattern, flags) == re.compile(pattern, flags), pattern
    for basic in lexers:  # the scanners build from them, matching as re's would
        assert basic.scanner.match(_Text('info "x";'), 0) == _scan(basic, 'info "x";')


class _Text:
    def __init__(self, text: str) -> None:
        self.text, self.end = text, len(text)


def _scan(basic: object, text: str) -> object:
    for mre in basic.scanner._mres:  # type: ignore[attr-defined]
        plain = re.compile(mre.pattern, mre.flags)
        m = plain.match(text, 0, len(text))
        if m:
            return m.group(0), m.lastgroup
    return None


def test_parsers_are_cached_only_in_a_directory_no_one_else_may_enter(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pickle is code: neither ours nor Lark's cache file lies directly in the shared
    temporary directory, where another user could have placed it first."""
    monkeypatch.setattr(parsercache.tempfile, "gettempdir", lambda: str(tmp_path))
    path = parsercache.cache_path(parser.grammar_text(), ("NAME",))
    folder = tmp_path / f"sluicegate-{os.getuid()}"
    assert path is not None and Path(path).parent == folder
    assert folder.stat().st_mode & 0o777 == 0o700
    assert parsercache.lark_cache("x.lark") == str(folder / "x.lark")
    folder.chmod(0o755)  # others may enter (or it was made by someone else): not used
    assert parsercache.private_dir() is None
    assert parsercache.cache_path(parser.grammar_text(), ("NAME",)) is None
    assert parsercache.lark_cache("x.lark") is False
    lark = parsercache.load_parser(parser.grammar_text(), parser.KeywordPostLex(), None)
    assert lark.parse('info "x";') is not None
    assert sorted(p.name for p in folder.iterdir()) == []  # nothing written there
    folder.rmdir()
    (tmp_path / f"elsewhere-{os.getuid()}").mkdir(mode=0o700)
    folder.symlink_to(tmp_path / f"elsewhere-{os.getuid()}")  # a link: not used either
    assert parsercache.private_dir() is None


def test_no_parser_uses_lark_s_shared_cache_file() -> None:
    root = Path(__file__).resolve().parents[1] / "runtime"
    for source in root.rglob("*.py"):
        assert "cache=True" not in source.read_text(encoding="utf-8"), source
