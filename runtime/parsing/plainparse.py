"""The translator's parser run from plain tables, without importing Lark.

Importing Lark (its grammar compiler, logging, pickle...) and unpickling its parser was a
third of a cold `sluice run`. A script that parses needs none of it: only the tables
Lark's parser runs on. `parsertables` exports them once, with Lark, when the parser is
first built: per parser state, the contextual lexer's terminals (the regular expressions
Lark's scanner compiles, as `re` compiled them, in Lark's order, with the ignored and
newline-bearing terminals and the retyping of `"+"`/`"-"` that Lark's `UnlessCallback`
does), and the LALR action/goto table with each rule's length, left-hand side and what
Lark's parse-tree builder wraps its callback in (`ExpandSingleChild`, the child filters
that drop anonymous tokens, splice `_rule`s and insert the `None` of `[optional]` parts).
They are kept with `marshal` (built-in types only) in the private cache directory.
Two forms of a lexer's expression are exported for speed and match as Lark's does: each
takes the blanks after a token with it (where every lexer lexes a blank as the ignored
WS), and at an ASCII character only the terminals that may start with it are tried.

`PlainParser.parse` is then Lark's contextual lexer and LALR loop as fastparse runs them
(same matches, same line counting, same callbacks, in the same order, on `tokens.Token`
and `tokens.Tree`), and calls the translator's methods exactly as Lark's callbacks
would. Where the script does not lex or parse it raises `NoParse` and the caller runs
Lark's own parser, whose error (message, expected terminals, position) is the one
reported. tests/test_parsercache.py compares trees, tokens and outcomes with Lark's on
every script of the corpus.
"""

from __future__ import annotations

__all__ = ["NoParse", "PlainParser", "load_tables", "tables_path", "tables_key", "unit_run"]

import _sre
import marshal
import os
import sys
from collections.abc import Callable, Iterator
from functools import partial
from operator import itemgetter
from typing import Any

from .. import compilebudget
from .tokens import Token, Tree

FORMAT = "plain-4"
# Tokens read between two looks at the compile deadline (as the post-lexer's `process`).
_CHECK_EVERY = 256
_new_str = str.__new__


class NoParse(Exception):
    """The text does not lex or parse: Lark's parser says how."""


def _lark_identity() -> str:
    """Which Lark the tables were exported by, without importing it: its package's
    `__init__` file, its size and its modification time (a reinstall changes them)."""
    origin = _lark_init()
    try:
        info = os.stat(origin) if origin else None
    except OSError:
        info = None
    if info is None:
        return "no lark"
    return f"{origin}:{info.st_size}:{info.st_mtime_ns}"


def _lark_init() -> str | None:
    """The `lark/__init__.py` an `import lark` would run: the first entry of sys.path
    holding a package `lark` (two `stat`s an entry), or, where an entry holds anything
    else of that name (a module, a namespace portion), what importlib finds."""
    for entry in sys.path:
        folder = os.path.join(entry or ".", "lark")
        init = os.path.join(folder, "__init__.py")
        if os.path.isfile(init):
            return init
        if os.path.exists(folder) or os.path.exists(folder + ".py"):
            break
    from importlib.util import find_spec

    try:
        spec = find_spec("lark")
    except (ImportError, ValueError):
        return None
    return spec.origin if spec is not None else None


def tables_key(grammar: str, always_accept: tuple[str, ...]) -> str:
    """Everything the tables depend on: stored in the file and compared when read."""
    return "\n".join([FORMAT, grammar, _lark_identity(), sys.version,
                      sys.implementation.name, str(_sre.MAGIC), repr(always_accept)])


def tables_path(folder: str, key: str) -> str:
    from ..digest import sha256

    digest = sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return os.path.join(folder, f"tables_{digest}.marshal")


def load_tables(path: str, key: str) -> dict[str, Any] | None:
    """The tables in `path` when this user owns the file, nobody else may write it, and
    it was exported for `key`; else None."""
    from .privatedir import read_private

    data = read_private(path)
    if data is None:
        return None
    try:
        tables = marshal.loads(data)
    except (EOFError, ValueError, TypeError):  # a stale or broken file
        return None
    if type(tables) is not dict or tables.get("key") != key:
        return None
    return tables


def _compile(form: tuple[Any, ...]) -> Any:
    """A regular expression from what `re` compiled it to (parsercache.PrecompiledRe);
    `_sre.compile` validates the code."""
    pattern, flags, code, groups, groupindex, indexgroup = form
    return _sre.compile(pattern, flags, memoryview(code).cast("I").tolist(), groups,
                        groupindex, indexgroup)


_WRAPPERS = ("expand1", "filter", "filter_np")


def _wrap(chain: tuple[Any, ...], f: Callable[[list[Any]], Any]) -> Callable[[list[Any]], Any]:
    """`f` inside the wrappers Lark's parse-tree builder puts around a rule's callback,
    innermost first (parse_tree_builder.ExpandSingleChild, ChildFilterLALR and
    ChildFilterLALR_NoPlaceholders, with the same behaviour)."""
    for wrapper in chain:
        if wrapper[0] == "expand1":
            f = partial(_expand_single_child, f)
        elif wrapper[0] == "filter":
            f = partial(_child_filter, tuple(wrapper[1]), wrapper[2], f)
        elif wrapper[0] == "filter_np":
            if wrapper[1] and not any(to_expand for _i, to_expand in wrapper[1]):
                f = _picker(tuple(i for i, _to_expand in wrapper[1]), f)
            else:
                f = partial(_child_filter_np, tuple(wrapper[1]), f)
        else:
            raise ValueError(f"unknown wrapper {wrapper[0]!r}")
    return f


def _expand_single_child(f: Callable[[list[Any]], Any], children: list[Any]) -> Any:
    return children[0] if len(children) == 1 else f(children)


def _child_filter(to_include: tuple[Any, ...], append_none: int,
                  f: Callable[[list[Any]], Any], children: list[Any]) -> Any:
    filtered: list[Any] = []
    for i, to_expand, add_none in to_include:
        if add_none:
            filtered += [None] * add_none
        if to_expand:
            if filtered:
                filtered += children[i].children
            else:  # as Lark: the spliced rule's own list (left recursion)
                filtered = children[i].children
        else:
            filtered.append(children[i])
    if append_none:
        filtered += [None] * append_none
    return f(filtered)


def _picker(indices: tuple[int, ...],
            f: Callable[[list[Any]], Any]) -> Callable[[list[Any]], Any]:
    """`_child_filter_np` of a rule that splices no child: the kept children picked out
    by one C-level getter (most rules: their anonymous tokens dropped)."""
    if len(indices) == 1:
        return partial(_pick_one, indices[0], f)
    return partial(_pick, itemgetter(*indices), f)


def _pick_one(index: int, f: Callable[[list[Any]], Any], children: list[Any]) -> Any:
    return f([children[index]])


def _pick(getter: Callable[[list[Any]], tuple[Any, ...]], f: Callable[[list[Any]], Any],
          children: list[Any]) -> Any:
    return f(list(getter(children)))


def _child_filter_np(to_include: tuple[Any, ...], f: Callable[[list[Any]], Any],
                     children: list[Any]) -> Any:
    filtered: list[Any] = []
    for i, to_expand in to_include:
        if to_expand:
            if filtered:
                filtered += children[i].children
            else:
                filtered = children[i].children
        else:
            filtered.append(children[i])
    return f(filtered)


def _user_callback(transformer: Any, name: str) -> Callable[[list[Any]], Any]:
    """The transformer's method for a rule, or a tree, as Lark's `create_callback`."""
    f = getattr(transformer, name, None) if transformer is not None else None
    if f is None:
        default = getattr(transformer, "__default__", None) if transformer is not None else None
        if default:
            return lambda children: default(name, children, None)
        return partial(Tree, name)
    if getattr(f, "visit_wrapper", None) is not None:
        raise ValueError("a method with a visit wrapper (v_args): Lark's parser calls it")
    return f


class PlainParser:
    """The tables with one transformer's callbacks attached (see the module docstring);
    callers hold the parser's lock (the transformer and post-lexer keep per-parse state)."""

    def __init__(self, tables: dict[str, Any], transformer: Any, postlex: Any) -> None:
        if transformer is not None and any(
                (getattr(c, "__module__", "") or "").split(".")[0] == "lark"
                for c in type(transformer).__mro__):
            raise ValueError("a Lark transformer: Lark's parser calls it")
        self.states: list[dict[str, tuple[bool, int, int, str | None]]] = tables["states"]
        self.start: int = tables["start"]
        self.end: int = tables["end"]
        self.lexer_of: list[int] = tables["lexer_of"]
        self.lexers: list[Any] = tables["lexers"]
        self.rules: list[tuple[str, tuple[Any, ...]]] = tables["rules"]
        self.transformer = transformer
        # each rule's callback, made when the rule is first reduced (most never are)
        self.callbacks: list[Any] = [None] * len(self.rules)
        self.terminal_callbacks = {
            name: f for name in tables["terminals"]
            if transformer is not None and (f := getattr(transformer, name, None)) is not None}
        self.postlex = postlex
        self.scanners: list[Any] = [None] * len(self.lexers)
        # compiled expressions by their text (lexers share many of them)
        self.matchers: dict[str, Any] = {}
        # (state under, top state, token type) -> the top state after pass-through rules
        self.units: dict[tuple[int, int, str], int] = {}
        if not (0 <= self.start < len(self.states) and 0 <= self.end < len(self.states)
                and len(self.lexer_of) == len(self.states)):
            raise ValueError("inconsistent tables")
        if any(w[0] not in _WRAPPERS for _name, chain in self.rules for w in chain):
            raise ValueError("a callback wrapper of another Lark")

    def _callback(self, index: int) -> Callable[[list[Any]], Any]:
        name, chain = self.rules[index]
        try:
            callback = _wrap(chain, _user_callback(self.transformer, name))
        except ValueError:  # a method Lark calls through its visit wrapper: Lark parses
            raise NoParse from None
        self.callbacks[index] = callback
        return callback

    def _scanner(self, index: int) -> tuple[Any, ...]:
        """A lexer's matcher (its compiled expressions tried in turn: one, as exported
        from this grammar), ignored and newline types, retypings, and the matchers by
        first character met so far (`_matcher`), compiled when a state using it is
        first met (as Lark builds its scanners)."""
        forms, ignore, newline, unless, _firsts = self.lexers[index]
        mres = [_compile(form) for form in forms]
        scanner = self.scanners[index] = (
            mres[0].match if len(mres) == 1 else partial(_first_match, mres),
            frozenset(ignore), frozenset(newline), frozenset(ignore) | frozenset(newline),
            {name: [_compile(form) for form in retype] for name, retype in unless.items()},
            {})
        return scanner

    def _matcher(self, index: int, char: str) -> Any:
        """The matcher of lexer `index` at a character: the expression of the terminals
        that may start with it where parsertables exported one (the same match, fewer
        alternatives tried), else the lexer's own; compiled when first needed."""
        form = self.lexers[index][4].get(char)
        if form is None:
            match = self.scanners[index][0]
        else:
            match = self.matchers.get(form[0])
            if match is None:
                match = self.matchers[form[0]] = _compile(form).match
        self.scanners[index][5][char] = match
        return match

    def _tokens(self, text: str, state_stack: list[int]) -> Iterator[Token]:
        """The contextual lexer: each token lexed by the lexer of the parser's state
        once the token before it is shifted (fastparse._lex, Lark's BasicLexer), then
        retyped as the post-lexer's `process` would (its keyword rule, here where the
        token is made: one generator stage instead of two)."""
        lexer_of, scanners = self.lexer_of, self.scanners
        keywords, keyword_type = self.postlex.keywords, self.postlex.keyword_type
        end = len(text)
        pos, line, line_start = 0, 1, 0
        prev_type = None
        until_check = _CHECK_EVERY
        while pos < end:
            index = lexer_of[state_stack[-1]]
            _, ignore, newline, special, unless, firsts = (scanners[index]
                                                           or self._scanner(index))
            while True:
                match = firsts.get(text[pos]) or self._matcher(index, text[pos])
                m = match(text, pos)
                if m is None:
                    raise NoParse
                kind = m.lastgroup
                value = m.group(kind)  # without the blanks after it (parsertables)
                start, tok_line = pos, line
                pos = m.end()
                if kind not in special:  # most tokens: neither ignored nor multi-line
                    tok_column = start - line_start + 1
                    break
                if kind in newline:
                    count = value.count("\n")
                    if count:
                        line += count
                        if kind in ignore:
                            line_start = start + value.rindex("\n") + 1
                            if pos < end:
                                continue
                            return
                        tok_column = start - line_start + 1
                        line_start = start + value.rindex("\n") + 1
                        break
                if kind not in ignore:
                    tok_column = start - line_start + 1
                    break
                if pos >= end:
                    return
            until_check -= 1
            if not until_check:  # parsing counts against the compile deadline
                until_check = _CHECK_EVERY
                compilebudget.check()
            if unless and kind in unless:  # Lark's UnlessCallback: a string terminal's own type
                for mre in unless[kind]:
                    full = mre.fullmatch(value)
                    if full:
                        kind = full.lastgroup
                        break
            if kind == "NAME":
                low = value.lower()
                if low in keywords:
                    kind = keyword_type(low, prev_type)
            t = _new_str(Token, value)
            t.type = kind
            t.start_pos = start
            t.value = value
            t.line = tok_line
            t.column = tok_column
            t.end_line = line
            t.end_pos = stop = start + len(value)
            t.end_column = stop - line_start + 1
            yield t
            prev_type = t.type

    def parse(self, text: str) -> Any:
        """What Lark's `parse(text)` returns with these callbacks; NoParse where Lark
        would raise (a lexing or parsing error)."""
        states, callbacks, units = self.states, self.callbacks, self.units
        terminal_callbacks = self.terminal_callbacks
        end_state = self.end
        state_stack = [self.start]
        value_stack: list[Any] = []
        tokens = self._tokens(text, state_stack)
        while True:
            token = next(tokens, None)
            is_end = token is None
            kind = "$END" if is_end else token.type
            while True:
                action = states[state_stack[-1]].get(kind)
                if action is None:
                    raise NoParse
                shift, arg, size, origin = action
                if shift:
                    if is_end:
                        raise NoParse
                    state_stack.append(arg)
                    callback = terminal_callbacks.get(kind) if terminal_callbacks else None
                    value_stack.append(token if callback is None else callback(token))
                    break
                if size < 0:  # a pass-through `?rule` of one symbol: only the state changes
                    below = state_stack[-2]
                    if is_end:
                        state_stack[-1] = states[below][origin][1]
                        if state_stack[-1] == end_state:
                            return value_stack[-1]
                        continue
                    key = (below, state_stack[-1], kind)
                    top = units.get(key)
                    if top is None:
                        top = units[key] = unit_run(states, below, states[below][origin][1],
                                                     kind)
                    state_stack[-1] = top
                    continue
                if size:
                    children = value_stack[-size:]
                    del state_stack[-size:]
                    del value_stack[-size:]
                else:
                    children = []
                value = (callbacks[arg] or self._callback(arg))(children)
                state_stack.append(states[state_stack[-1]][origin][1])
                value_stack.append(value)
                if is_end and state_stack[-1] == end_state:
                    return value_stack[-1]


def _first_match(mres: list[Any], text: str, pos: int) -> Any:
    """The match of the first of `mres` that matches at `pos` (Lark's scanner, where
    its terminals did not fit in one expression)."""
    for mre in mres:
        m = mre.match(text, pos)
        if m:
            return m
    return None


def unit_run(rows: Any, below: Any, top: Any, kind: str, origin: int = 3) -> Any:
    """The state on top of `below` once every one-symbol pass-through reduction that
    token type `kind` calls for from `top` is done (each replaces the top state: the
    state under it stays `below`). It stops where the token's action is anything else,
    or none (the error is then raised there, as the reductions one by one would).
    `origin` is where a row's action holds the rule's left-hand side (3 in the plain
    tables, 4 in fastparse's rows, which also hold the callback)."""
    while True:
        action = rows[top].get(kind)
        if action is None or action[0] or action[2] >= 0:
            return top
        top = rows[below][action[origin]][1]
