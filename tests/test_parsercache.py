"""The translator's parser run from plain tables (runtime/parsing/plainparse.py), and loaded from
its pickle (runtime/parsing/parsercache.py), is Lark's parser: every script of the corpus, and
every syntax error made by cutting them short, translates to the same Python or fails
with the same message at the same place as with the parser Lark builds itself, and
builds the same tree with the same tokens; an unusable or foreign file is never loaded."""

from __future__ import annotations

import os
import pickle
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from sluicegate import parser, translator
from sluicegate.errors import ScriptSyntaxError
from sluicegate.parsing import parsercache, plainparse, privatedir
from sluicegate.parsing.plainparse import NoParse
from sluicegate.parsing.tokens import Token, Tree
from sluicegate.sandbox import generated_source

ROOT = Path(__file__).resolve().parents[1]
# The shared conformance cases, where the checkout sits beside them; a clone elsewhere has
# the repository's own scripts alone (about 75 scripts, 125 of the corpus parsing).
SHARED = next((p / "shared" / "conformance" for p in ROOT.parents
               if (p / "shared" / "conformance").is_dir()), None)
# How many texts of the corpus must parse, so that both outcomes are surely compared.
PARSING = 150 if SHARED else 100


def _corpus() -> list[str]:
    roots = [ROOT / "tests" / "scripts", ROOT / "examples", *([SHARED] if SHARED else [])]
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
    assert len(texts) > (300 if SHARED else 200)
    path = parsercache.cache_path(parser.grammar_text(), ("NAME",))
    ours = _outcomes(texts, no_pickle=False)   # builds and writes the pickle if missing
    assert parser._plain.get(id(translator._BUILDER)) is not None  # the plain tables ran
    again = _outcomes(texts, no_pickle=False)  # loads it
    assert parsercache._read(path) is not None, "the parser was not pickled"
    lark = _outcomes(texts, no_pickle=True)
    errors = sum(1 for o in lark if isinstance(o, tuple))
    assert errors > 50 and len(lark) - errors > PARSING  # both kinds are compared
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
    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(tmp_path))
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


def _plain_parser(transformer: object) -> object:
    with parser._lock:
        parser._plain.clear()
        found = parser._plain_for(transformer)
        parser._plain.clear()
    assert found is not None, "no plain tables"
    return found


def _same(ours: object, lark: object, path: str = "") -> None:
    """Trees equal node by node, tokens equal with their types and every position."""
    from lark import Token as LarkToken
    from lark import Tree as LarkTree

    if isinstance(lark, LarkTree):
        assert isinstance(ours, Tree), path
        assert ours.data == lark.data, path
        assert len(ours.children) == len(lark.children), path
        for i, (a, b) in enumerate(zip(ours.children, lark.children)):
            _same(a, b, f"{path}/{lark.data}[{i}]")
    elif isinstance(lark, LarkToken):
        assert type(ours) is Token, path
        fields = ("type", "value", "start_pos", "end_pos", "line", "column", "end_line",
                  "end_column")
        assert ([getattr(ours, f) for f in fields] == [getattr(lark, f) for f in fields]
                and str(ours) == str(lark)), path
    else:
        assert ours == lark, path


def test_the_plain_table_parser_builds_lark_s_trees_and_fails_where_it_fails() -> None:
    """Without a transformer: the same tree, node for node and token for token (types,
    texts, positions), for every script of the corpus; where Lark raises, the plain
    parser raises NoParse (and Lark's error is the one reported, as compared above)."""
    texts = _corpus()
    plain = _plain_parser(None)
    with parser._lock:
        lark, _postlex = parser._parser_for(None)
    parsed = failed = 0
    for text in texts:
        try:
            expected = lark.parse(text)
        except Exception:  # noqa: BLE001 - Lark's syntax errors
            with pytest.raises(NoParse):
                plain.parse(text)
            failed += 1
            continue
        _same(plain.parse(text), expected)
        parsed += 1
    assert parsed > PARSING and failed > 50


def test_a_script_that_parses_does_not_import_lark(tmp_path: Path) -> None:
    """A run's parse is the plain tables' (once they exist); a syntax error is Lark's."""
    probe = ("import sys\nfrom sluicegate.translator import translate\n"
             "translate(sys.argv[1])\nprint('lark' in sys.modules)\n")
    generated_source('info "x";')  # the tables exist from here on

    def lark_loaded(source: str) -> str:
        done = subprocess.run([sys.executable, "-c", probe, source], capture_output=True,
                              text=True, timeout=120)
        return done.stdout.strip() or done.stderr.strip().splitlines()[-1]

    assert lark_loaded('info "hello";\nreturn 1;\n') == "False"
    assert "Missing ';'" in lark_loaded('x = 1\ny = 2;')


def test_unreadable_or_foreign_tables_are_not_used(tmp_path: Path) -> None:
    key = plainparse.tables_key(parser.grammar_text(), ("NAME",))
    folder = privatedir.private_dir()
    assert folder is not None
    _plain_parser(None)
    source = Path(plainparse.tables_path(folder, key)).read_bytes()
    assert plainparse.load_tables(plainparse.tables_path(folder, key), key) is not None
    writable = _pickle_file(tmp_path / "writable.marshal", source, 0o666)
    assert plainparse.load_tables(str(writable), key) is None
    private = _pickle_file(tmp_path / "private.marshal", source, 0o600)
    assert plainparse.load_tables(str(private), key) is not None
    assert plainparse.load_tables(str(private), key + "other") is None
    garbage = _pickle_file(tmp_path / "garbage.marshal", b"\xffgarbage", 0o600)
    assert plainparse.load_tables(str(garbage), key) is None
    link = tmp_path / "link.marshal"
    link.symlink_to(private)
    assert plainparse.load_tables(str(link), key) is None


def test_every_exported_lexer_pattern_is_what_re_compiles() -> None:
    key = plainparse.tables_key(parser.grammar_text(), ("NAME",))
    folder = privatedir.private_dir()
    assert folder is not None
    _plain_parser(None)
    tables = plainparse.load_tables(plainparse.tables_path(folder, key), key)
    assert tables is not None and len(tables["lexers"]) > 20
    for forms, _ignore, _newline, unless, firsts in tables["lexers"]:
        for form in [*forms, *(f for retype in unless.values() for f in retype),
                     *firsts.values()]:
            compiled = plainparse._compile(form)
            assert compiled == re.compile(form[0], compiled.flags & ~re.UNICODE), form[0]


def test_the_private_directory_is_in_tempfile_s_directory_without_importing_it(
        tmp_path: Path) -> None:
    """A cold run finds the temporary directory without tempfile (and shutil, bz2, lzma
    it imports): the same one tempfile finds."""
    probe = ("import sys\nfrom sluicegate.parsing import privatedir\n"
             "found = privatedir._temporary_directory()\n"
             "assert 'tempfile' not in sys.modules\n"
             "import tempfile\nprint(found == tempfile.gettempdir(), found)\n")
    readonly = tmp_path / "readonly"
    readonly.mkdir(mode=0o500)
    settings = [{}, {"TMPDIR": str(tmp_path)}, {"TMPDIR": str(tmp_path / "missing")},
                {"TMPDIR": str(tmp_path / "missing"), "TMP": str(tmp_path)},
                {"TEMP": str(tmp_path / ".." / tmp_path.name)}]
    if os.getuid() != 0:  # root may write anywhere
        settings.append({"TMPDIR": str(readonly)})
    for extra in settings:
        env = {k: v for k, v in os.environ.items() if k not in ("TMPDIR", "TEMP", "TMP")}
        done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                              env={**env, **extra}, timeout=60)
        assert done.stdout.startswith("True"), (extra, done.stdout, done.stderr)


def test_unusable_tables_are_exported_anew(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "private"
    folder.mkdir(mode=0o700)
    monkeypatch.setattr(privatedir, "private_dir", lambda: str(folder))
    key = plainparse.tables_key(parser.grammar_text(), ("NAME",))
    target = Path(plainparse.tables_path(str(folder), key))
    _pickle_file(target, b"\xffnot tables", 0o600)
    found = _plain_parser(None)
    assert found.parse('info "x";') is not None
    assert plainparse.load_tables(str(target), key) is not None  # written anew
    assert target.stat().st_mode & 0o777 == 0o600


def test_without_a_private_directory_scripts_parse_with_lark(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(privatedir, "private_dir", lambda: None)
    with parser._lock:
        parser._plain.clear()
        assert parser._plain_for(None) is None
    try:
        assert _outcome('info "x";\nreturn 1;') == _outcomes(['info "x";\nreturn 1;'],
                                                             no_pickle=True)[0]
        assert parser._plain.get(id(translator._BUILDER), "unset") is None
    finally:
        with parser._lock:
            parser._plain.clear()


def test_a_token_takes_the_blanks_after_it_only_where_no_terminal_may_start_with_one() -> None:
    """Every lexer of the grammar lexes a space or tab as the ignored WS, so each token's
    expression also takes the blanks after it (one match a token instead of two); a
    terminal tried before WS that may start with a blank keeps the lexer as Lark's."""
    from sluicegate.parsing import parsertables

    def lexer(*alternatives: str) -> tuple[object, ...]:
        pieces = [(a[4:a.index(">")], a) for a in alternatives]
        pattern = "|".join(alternatives)
        return (((pattern, int(re.compile(pattern).flags)),), ("WS",), ("WS",), {}, pieces)

    ws = r"(?P<WS>[ \t\r\n]+)"
    assert parsertables._absorbs_blanks(lexer(r"(?P<NAME>[A-Za-z_]\w*)",
                                              r"(?P<K>(?i:as)[ \t]+x)", ws))
    for before in (r"(?P<T>[ \t]*:)", r"(?P<T>\s+x)", r"(?P<T>[^a]x)", r"(?P<T>(?:x|\tx))",
                   r"(?P<T> x)", r"(?P<T>(?:a|b)?c)"):
        assert not parsertables._absorbs_blanks(lexer(before, ws)), before
    plain = _plain_parser(None)
    assert all(forms[0][0].endswith(r")[\x20\t]*") for forms, *_ in plain.lexers)


def test_first_chars_are_every_character_a_match_may_start_with() -> None:
    """What parsertables reads to try only the terminals that may start at a character:
    never a character a match can start with left out (checked by brute force)."""
    import random
    import string

    from sluicegate.parsing.firstchars import first_chars

    patterns = [r"[A-Za-z_][A-Za-z0-9_]*", r"(?i:list|map|collection)[ \t]*:", r"\/\/[^\n]*",
                r"(?s:\'(?:[^\'\\]|\\.)*\')", r"[0-9]+\.[0-9]+", r"(?i:as)[ \t]+[A-Za-z]+\b",
                r"a?b", r"\s+x", r"\w+", r"(?i:k)", r"(?i:[a-c])", r"[^a]", r".", r"(?=a)a",
                r"(?:ab|cd)+", r"==|!=", "(?i:\u212a)", r"[\u00e0-\u00ff]", r"(?i:[\u0100-\u0200])"]
    rnd = random.Random(7)
    probes = ["".join(rnd.choice(string.printable) for _ in range(rnd.randint(0, 6)))
              for _ in range(2000)]
    for pattern in patterns:
        first = first_chars(pattern)
        compiled = re.compile(pattern)
        for code in range(0x80):
            if first is None or code in first:
                continue
            assert not any(compiled.match(chr(code) + p) for p in probes), (pattern, chr(code))
    assert first_chars(r"(?i:as)x") == frozenset(map(ord, "aA"))
    assert first_chars(r"a?b") is None and first_chars("(?i:\u212a)") is None


def test_a_lexer_tried_at_a_character_matches_as_the_whole_lexer() -> None:
    """The expression of the terminals that may start at a character matches where the
    lexer's own does, as it does (same terminal, same end), at every position of the
    corpus and of texts made to start with each character."""
    plain = _plain_parser(None)
    texts = _corpus()
    samples = [t[i:] for t in texts[:60] for i in range(0, len(t), 7)]
    samples += [chr(c) + rest for c in range(0x80)
                for rest in ("", "a1 = 2;", "= =", "* /", "1.5", "'x'", '"y"', "//c", "/*c*/",
                             "list:int(", "map<", "as pdf", "url: 1", "\t\n x")]
    checked = 0
    for forms, _ignore, _newline, _unless, firsts in plain.lexers:
        whole = plainparse._compile(forms[0])
        for char, form in firsts.items():
            part = plainparse._compile(form)
            for text in samples:
                if not text.startswith(char):
                    continue
                a, b = whole.match(text), part.match(text)
                assert (a is None) == (b is None), (form[0], text)
                if a is not None and b is not None:
                    assert (a.lastgroup, a.end(), a.group(a.lastgroup)) == \
                        (b.lastgroup, b.end(), b.group(b.lastgroup)), (form[0], text)
                checked += 1
    assert checked > 10_000
