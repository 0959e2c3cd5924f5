"""The translator's parser, loaded whole from a pickle instead of rebuilt from Lark's cache.

Lark's own cache (its `cache` option) reads its file and then rebuilds every object from
it (the rules, the parse table, one lexer per parser state): a tenth of a cold `sluice
run`. The
same parser pickled once built (the Lark object with its contextual lexer, before any
scanner is compiled) loads several times faster. What depends on the caller is attached
after loading, as Lark attaches it: the transformer's callbacks (`_prepare_callbacks`,
then the parser's callbacks) and a fresh post-lexer. Lark is pinned; when its objects do
not have the expected shape, or anything about the file is off, the parser is built by
Lark as before (and a pickle written for next time).

Each parser state's lexer compiles its terminals into one regular expression when the
state is first met, which `re` does in Python (a few of them are a twentieth of a cold
run). The pickle keeps what `re` compiled them to for every state (`PrecompiledRe`), and
a lexer hands that to `_sre.compile` (which validates it) instead of compiling again;
the key of the file includes the Python version, and a test checks every pattern against
`re.compile`'s.

The file lives in this user's private cache directory (`private_dir`: mode 0700 in the
temporary directory, as are Lark's own cache files of our parsers), named by a digest of
everything the parser depends on (grammar, Lark and Python versions, options, the
post-lexer's always-accepted terminals); it is read only when this user owns it and
nobody else may write it, and written atomically, readable by its owner only.
tests/test_parsercache.py checks the loaded parser against Lark's on every script of
the corpus, syntax errors included.
"""

from __future__ import annotations

__all__ = ["load_parser", "cache_path", "PrecompiledRe"]

import _sre
import copyreg
import hashlib
import importlib
import io
import os
import pickle
import re
import sys
import types
from collections.abc import Callable
from typing import Any

from .larkload import Lark
from .privatedir import private_dir, read_private, write_private

_FORMAT = "4"  # 4: the module moved to sluicegate.parsing (pickles name its classes)
# Exactly the options of parser._parser_for for the translator's parser (no positions).
# plainparse's tables are exported from this parser: a change here changes its FORMAT.
_OPTIONS: dict[str, Any] = {"parser": "lalr", "lexer": "contextual",
                            "propagate_positions": False, "maybe_placeholders": True}


def lark_cache(name: str) -> str | bool:
    """Lark's `cache=` option: a file of the private directory, or no cache."""
    folder = private_dir()
    return os.path.join(folder, name) if folder else False


def cache_path(grammar: str, always_accept: tuple[str, ...]) -> str | None:
    """Where the pickle of this grammar's parser is kept, for this user (None: nowhere)."""
    import lark

    folder = private_dir()
    if folder is None:
        return None
    key = "\n".join([_FORMAT, grammar, lark.__version__, sys.version, sys.implementation.name,
                     str(_sre.MAGIC),
                     repr(sorted(_OPTIONS.items())), repr(always_accept)])
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return os.path.join(folder, f"parser_{digest}.pickle")


def load_parser(grammar: str, postlex: Any, transformer: Any) -> Lark:
    """The translator's parser with `postlex` and `transformer` attached: unpickled when
    a usable pickle exists, else built by Lark (and pickled for the next process)."""
    path = cache_path(grammar, tuple(postlex.always_accept))
    lark = _read(path) if path else None
    if lark is None:
        lark = Lark(grammar, postlex=postlex, transformer=None, lexer_callbacks={},
                    cache=lark_cache("translator.lark") if path else False, **_OPTIONS)
        if path:
            _write(path, lark)
    return _attach(lark, postlex, transformer)


class PrecompiledRe:
    """Stands for the `re` module in Lark's lexers: `compile` of a pattern it holds the
    compiled form of goes straight to `_sre.compile`; anything else is `re`'s."""

    def __init__(self, codes: dict[tuple[str, int], tuple[Any, ...]]) -> None:
        self.codes = codes
        self.error = re.error
        self._compiled: dict[tuple[str, int], re.Pattern[str]] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {"codes": self.codes}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["codes"])  # type: ignore[misc]

    def compile(self, pattern: str, flags: int = 0) -> re.Pattern[str]:
        found = self.codes.get((pattern, flags))
        if found is None:
            return re.compile(pattern, flags)
        final_flags, code, groups, groupindex, indexgroup = found
        return _sre.compile(pattern, final_flags, code, groups, groupindex, indexgroup)

    def match(self, pattern: str, text: str, flags: int = 0) -> re.Match[str] | None:
        """`re.match`, as Lark's lexers call it (a terminal's pattern on a keyword)."""
        key = (pattern, flags)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self.compile(pattern, flags)
        return compiled.match(text)


def _compiled_form(pattern: str, flags: int) -> tuple[Any, ...]:
    """What `re.compile(pattern, flags)` hands `_sre.compile` (re._compiler.compile)."""
    from re import _compiler, _parser  # type: ignore[attr-defined]

    parsed = _parser.parse(pattern, flags)
    code = _compiler._code(parsed, flags)
    groupindex = dict(parsed.state.groupdict)
    indexgroup: list[str | None] = [None] * parsed.state.groups
    for name, index in groupindex.items():
        indexgroup[index] = name
    return (int(flags | parsed.state.flags), [int(c) for c in code], parsed.state.groups - 1,
            groupindex,
            tuple(indexgroup))


class _Recorder:
    """`re` for Lark's lexers while every state's scanner is built once: records the
    compiled form of each pattern compiled."""

    def __init__(self) -> None:
        self.codes: dict[tuple[str, int], tuple[Any, ...]] = {}
        self.error = re.error

    def compile(self, pattern: str, flags: int = 0) -> re.Pattern[str]:
        if isinstance(pattern, str) and (pattern, flags) not in self.codes:
            self.codes[(pattern, flags)] = _compiled_form(pattern, flags)
        return re.compile(pattern, flags)

    def match(self, pattern: str, text: str, flags: int = 0) -> re.Match[str] | None:
        return self.compile(pattern, flags).match(text)


def _basic_lexers(lark: Any) -> list[Any]:
    lexer = lark.parser.lexer.lexer  # PostLexConnector -> ContextualLexer
    found = {id(basic): basic for basic in lexer.lexers.values()}
    found[id(lexer.root_lexer)] = lexer.root_lexer
    return list(found.values())


def _precompile(lark: Any) -> None:
    """Build every state's scanner once, recording what `re` compiles, then leave the
    lexers as Lark made them (no scanner built) but compiling through `PrecompiledRe`."""
    lexers: list[Any] = []
    try:
        lexers = _basic_lexers(lark)
        recorder = _Recorder()
        for basic in lexers:
            basic.re = recorder
            basic._scanner = None
            basic.scanner  # noqa: B018 - builds it
        precompiled = PrecompiledRe(recorder.codes)
        for basic in lexers:
            basic.re = precompiled
            _unbuilt(basic)
    except Exception:  # noqa: BLE001 - another Lark: its lexers compile as they did
        for basic in lexers:
            basic.re = re
            _unbuilt(basic)


def _unbuilt(basic: Any) -> None:
    """A lexer as before its scanner was built (`_build_scanner` sets both)."""
    basic._scanner = None
    vars(basic).pop("callback", None)


def _attach(lark: Any, postlex: Any, transformer: Any) -> Any:
    """Give a loaded (or just built) parser its post-lexer and its transformer's
    callbacks, in the places Lark's own constructor puts them."""
    frontend = lark.parser
    lark.options.postlex = postlex
    lark.lexer_conf.postlex = postlex
    frontend.lexer_conf.postlex = postlex
    frontend.lexer.postlexer = postlex
    lark.options.transformer = transformer
    lark._prepare_callbacks()
    frontend.parser_conf.callbacks = lark._callbacks
    frontend.parser.parser.callbacks = lark._callbacks
    return lark


def _read(path: str) -> Any:
    data = read_private(path)
    if data is None:
        return None
    try:
        lark = pickle.loads(data)
        _check_shape(lark)
        return lark
    except Exception:  # noqa: BLE001 - a stale or foreign file: build the parser anew
        return None


def _check_shape(lark: Any) -> None:
    """The attributes `_attach` and fastparse use; raises when one is missing."""
    if not isinstance(lark, Lark):
        raise TypeError("not a Lark parser")
    for basic in _basic_lexers(lark):
        if basic.re is not re and not isinstance(basic.re, PrecompiledRe):
            raise TypeError("a lexer compiles with an unknown module")
    frontend = lark.parser
    for holder, name in ((lark, "options"), (lark, "lexer_conf"), (frontend, "lexer_conf"),
                         (frontend.lexer, "postlexer"), (frontend, "parser_conf"),
                         (frontend.parser.parser, "callbacks"),
                         (frontend.parser.parser, "parse_table")):
        if not hasattr(holder, name):
            raise AttributeError(name)


def _write(path: str, lark: Any) -> None:
    """Precompile the lexers' patterns of a freshly built parser (no parse has run: no
    scanner compiled; the post-lexer and callbacks are replaced on load) and pickle it.
    Where no file can be made (a read-only temporary directory) nothing is precompiled,
    which would cost this process more than it saves it; any failure only costs the
    speed-up."""
    if not os.access(os.path.dirname(path) or ".", os.W_OK):
        return
    try:
        buffer = io.BytesIO()
        _precompile(lark)
        pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
        pickler.dispatch_table = _dispatch_table()
        pickler.dump(lark)
    except Exception:  # noqa: BLE001 - unpicklable Lark internals
        return
    write_private(path, buffer.getvalue())


def _module(name: str) -> types.ModuleType:
    return importlib.import_module(name)


def _action(name: str) -> Any:
    from lark.parsers import lalr_analysis

    return getattr(lalr_analysis, name)


def _dispatch_table() -> dict[type, Callable[[Any], Any]]:
    """Modules (Lark keeps `re`) by name; the parse table's Shift/Reduce markers, which
    Lark compares by identity, as the module's own objects."""
    from lark.parsers import lalr_analysis

    table: dict[type, Callable[[Any], Any]] = dict(copyreg.dispatch_table)
    table[types.ModuleType] = lambda module: (_module, (module.__name__,))
    table[lalr_analysis.Action] = lambda action: (_action, (action.name,))
    return table
