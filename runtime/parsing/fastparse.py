"""Lark's LALR loop with its per-token overhead taken out; same tables, same callbacks.

`Lark.parse` feeds each token to `ParserState.feed_token`, which for every action looks
the action up by state and terminal, checks `arg != end_state` (for a reduce, a Python
`Rule.__eq__` call), hashes the rule (a Python `__hash__`) to find its callback and reads
`rule.expansion` and `rule.origin.name`. That was a fifth of compiling a script. Here the
parse table is turned once per parser into rows whose reduce entries carry the rule's
length, callback and left-hand side, and `feed_token` reads them.

The contextual lexer's loop is likewise taken out (`_lex`): per token, Lark's
`BasicLexer.next_token` goes through `Scanner.match`, `LineCounter.feed` and
`Token.__new__`, and every run of blanks between tokens takes the same trip. `_lex` runs
the same scanners (the same regular expressions, in the same order, for the lexer of the
parser's current state), the same terminal callbacks and the same line counting, inline.
Where no terminal matches, it hands the rest to Lark's own `ContextualLexer.lex`, which
raises the error Lark raises there.

Everything else is Lark's own, called as `Lark.parse` calls it (lark is pinned): the lexer
thread, the post-lexer, the end token and the error handling of
`_Parser.parse_from_state`, and the same `UnexpectedToken` (with the same `expected` set
and state) when a token does not fit. `_drive` is that loop with the shifts and
reductions of `feed_token` inline (a method call and its attribute reads per token were a
tenth of the parse); a token without an action goes to `feed_token` itself, which raises
Lark's error from the same stacks. When the Lark objects do not have the expected shape, `parse` is
`Lark.parse`.

A reduction by a one-symbol rule whose callback is Lark's `ExpandSingleChild` (the
`?rule` levels an operand passes through, one per precedence level) gives the symbol's
own value: its row says so (length -1) and `feed_token` only replaces the state. An
operand climbs a run of them before the next token; the state the run ends in depends
only on the state under it, the state it starts from and the token's type, and is
remembered (the intermediate states are seen by nothing).
"""

from __future__ import annotations

__all__ = ["parse"]

import sys
from functools import partial
from operator import itemgetter
from typing import Any

from .larkload import Lark, Token, UnexpectedInput, UnexpectedToken
from .plainparse import unit_run

try:
    from lark.exceptions import LexError
    from lark.lexer import BasicLexer, ContextualLexer, LexerThread
    from lark.parse_tree_builder import (
        ChildFilterLALR,
        ChildFilterLALR_NoPlaceholders,
        ExpandSingleChild,
    )
    from lark.parser_frontends import PostLexConnector
    from lark.parsers.lalr_analysis import Shift
    from lark.parsers.lalr_interactive_parser import InteractiveParser
    from lark.parsers.lalr_parser_state import ParseConf, ParserState
except ImportError:  # pragma: no cover - another Lark: its own loop
    ParserState = object  # type: ignore[assignment,misc]
    Shift = ParseConf = None


class _FastState(ParserState):  # type: ignore[misc,valid-type]
    """A `ParserState` whose `feed_token` reads precomputed rows (module docstring)."""

    __slots__ = ("rows", "units")

    def feed_token(self, token: Any, is_end: bool = False) -> Any:
        state_stack = self.state_stack
        value_stack = self.value_stack
        rows = self.rows
        while True:
            try:
                shift, arg, size, callback, origin = rows[state_stack[-1]][token.type]
            except KeyError:
                states = self.parse_conf.states
                expected = {s for s in states[state_stack[-1]].keys() if s.isupper()}
                raise UnexpectedToken(token, expected, state=self,
                                      interactive_parser=None) from None
            if shift:
                state_stack.append(arg)
                value_stack.append(token if callback is None else callback(token))
                return None
            if size < 0:  # a one-symbol rule whose value is the symbol's: only the state
                below = state_stack[-2]
                if is_end:
                    state_stack[-1] = rows[below][origin][1]
                    if state_stack[-1] == self.parse_conf.end_state:
                        return value_stack[-1]
                    continue
                # the run of such reductions from here, before this token, is always the
                # same: the state it ends in is remembered
                key = (below, state_stack[-1], token.type)
                top = self.units.get(key)
                if top is None:
                    top = self.units[key] = unit_run(rows, below, rows[below][origin][1],
                                                     token.type, 4)
                state_stack[-1] = top
                continue
            if size:
                s = value_stack[-size:]
                del state_stack[-size:]
                del value_stack[-size:]
            else:
                s = []
            value = callback(s) if callback is not None else s
            state_stack.append(rows[state_stack[-1]][origin][1])
            value_stack.append(value)
            if is_end and state_stack[-1] == self.parse_conf.end_state:
                return value_stack[-1]


_ROWS: dict[int, tuple[Any, dict[Any, dict[str, tuple[Any, ...]]]]] = {}
# (state under, top state, token type) -> the top state after the pass-through run
_UNITS: dict[int, dict[tuple[Any, Any, str], Any]] = {}


def _rows(parser: Any) -> dict[Any, dict[str, tuple[Any, ...]]]:
    """The parse table of a Lark `_Parser` as rows of
    (shift, next state or rule, rule length, callback, rule's left-hand side)."""
    cached = _ROWS.get(id(parser))
    if cached is not None and cached[0] is parser:
        return cached[1]
    callbacks = parser.callbacks
    rows: dict[Any, dict[str, tuple[Any, ...]]] = {}
    for state, actions in parser.parse_table.states.items():
        row = rows[state] = {}
        for name, (action, arg) in actions.items():
            if action is Shift:
                # a terminal's own callback, as `feed_token` looks it up by name
                row[name] = (True, arg, 0, callbacks.get(name) if callbacks else None, None)
            else:
                callback = callbacks[arg] if callbacks else None
                size = len(arg.expansion)
                # the left-hand side's name as a plain str: Lark's is a Token, whose
                # Python `__eq__` each lookup of it in a row (of str keys) would call
                origin = sys.intern(str(arg.origin.name))
                if size == 1 and type(callback) is ExpandSingleChild:
                    # its callback returns the one child as it is: no call (size -1)
                    row[name] = (False, arg, -1, None, origin)
                else:
                    row[name] = (False, arg, size, _direct(callback), origin)
    _ROWS[id(parser)] = (parser, rows)
    return rows


def _direct(callback: Any) -> Any:
    """A rule's callback made cheaper, for the same values:

    - a `_rule`'s tree (Lark's default callback, named after the rule) is only ever
      spliced into its parent's children by the parent's filter, which reads nothing of
      it but its children: `_Spliced` holds them;
    - Lark's child filter (which drops the anonymous tokens, `(` and `;`, and puts None
      for an absent `[optional]` part) becomes a direct pick of the kept children by
      their places, when no child is a `_rule` to splice in: the same list for the same
      builder, without the filter's loop over its plan per reduction."""
    if _splice_tree(callback):
        return _Spliced
    kind = type(callback)
    if kind is not ChildFilterLALR_NoPlaceholders and kind is not ChildFilterLALR:
        return callback
    build = callback.node_builder
    if _splice_tree(build):
        build = _Spliced
    if any(entry[1] for entry in callback.to_include):  # a `_rule` child to splice in
        if build is callback.node_builder:
            return callback
        if kind is ChildFilterLALR_NoPlaceholders:
            return ChildFilterLALR_NoPlaceholders(callback.to_include, build)
        return ChildFilterLALR(callback.to_include, callback.append_none, build)
    if kind is ChildFilterLALR_NoPlaceholders:
        plan: list[int | None] = [i for i, _ in callback.to_include]
    else:
        plan = []
        for i, _, nones in callback.to_include:
            plan += [None] * nones + [i]
        plan += [None] * callback.append_none
    if None in plan or not plan:
        places = tuple(plan)
        return lambda children: build([None if i is None else children[i] for i in places])
    if len(plan) == 1:
        only = plan[0]
        return lambda children: build([children[only]])
    pick = itemgetter(*plan)
    return lambda children: build(list(pick(children)))


def _splice_tree(callback: Any) -> bool:
    """Whether `callback` is Lark's default callback for a `_rule` (the tree it makes is
    spliced into its parent's children, never seen)."""
    return (type(callback) is partial and len(callback.args) == 1 and not callback.keywords
            and isinstance(callback.args[0], str) and callback.args[0].startswith("_"))


class _Spliced:
    """The children of a `_rule`, as its parent's child filter splices them."""

    __slots__ = ("children",)

    def __init__(self, children: list[Any]) -> None:
        self.children = children


# id(contextual lexer) -> (that lexer, {parser state: what _lex reads of its lexer})
_TABLES: dict[int, tuple[Any, dict[Any, tuple[Any, ...]]]] = {}


def _tables(contextual: Any) -> dict[Any, tuple[Any, ...]]:
    """The lexer tables of a contextual lexer, by parser state, kept from parse to parse
    (a state's lexer and its scanner do not change)."""
    cached = _TABLES.get(id(contextual))
    if cached is None or cached[0] is not contextual:
        cached = _TABLES[id(contextual)] = (contextual, {})
    return cached[1]


_new_str = str.__new__


def _lex(contextual: Any, lexer_state: Any, parser_state: Any) -> Any:
    """`ContextualLexer.lex` with `BasicLexer.next_token` inline (module docstring)."""
    lexers = contextual.lexers
    text, end = lexer_state.text.text, lexer_state.text.end
    ctr = lexer_state.line_ctr
    newline_char = ctr.newline_char
    # the parser's state is the top of its stack (`ParserState.position`), read directly
    stack = parser_state.state_stack if type(parser_state) is _FastState else None
    tables = _tables(contextual)
    while True:
        state = stack[-1] if stack is not None else parser_state.position
        table = tables.get(state)
        if table is None:
            lexer = lexers[state]
            if type(lexer) is not BasicLexer:  # pragma: no cover - another lexer class
                yield from contextual.lex(lexer_state, parser_state)
                return
            mres = lexer.scanner._mres  # builds `lexer.callback` too
            table = tables[state] = (mres[0].match if len(mres) == 1 else None, mres,
                                     lexer.ignore_types, lexer.newline_types, lexer.callback)
        match, mres, ignore, newline, callback = table
        pos = ctr.char_pos
        while True:
            if pos >= end:
                return
            if match is not None:  # one regular expression for all the terminals
                m = match(text, pos, end)
            else:
                m = None
                for mre in mres:
                    m = mre.match(text, pos, end)
                    if m:
                        break
            if not m:  # nothing matches: Lark's own lexer raises its error from here
                yield from contextual.lex(lexer_state, parser_state)
                return
            value = m.group(0)
            kind = m.lastgroup
            line, column = ctr.line, ctr.column
            if kind in newline:
                count = value.count(newline_char)
                if count:
                    ctr.line = line + count
                    ctr.line_start_pos = pos + value.rindex(newline_char) + 1
            start = pos
            pos += len(value)
            ctr.char_pos = pos
            ctr.column = pos - ctr.line_start_pos + 1
            ignored = kind in ignore
            if ignored and kind not in callback:
                continue
            t = _new_str(Token, value)
            t.type = kind
            t.start_pos = start
            t.value = value
            t.line = line
            t.column = column
            t.end_line = ctr.line
            t.end_column = ctr.column
            t.end_pos = pos
            if kind in callback:  # (a terminal without one is a Token, and not ignored)
                t = callback[kind](t)
                if ignored:
                    continue
                if not isinstance(t, Token):
                    raise LexError("Callbacks must return a token (returned %r)" % t)
            lexer_state.last_token = t
            yield t
            break


class _FastConnector:
    """Lark's `PostLexConnector` around `_lex` instead of `ContextualLexer.lex`."""

    __slots__ = ("contextual", "postlexer")

    def __init__(self, contextual: Any, postlexer: Any) -> None:
        self.contextual = contextual
        self.postlexer = postlexer

    def lex(self, lexer_state: Any, parser_state: Any) -> Any:
        return self.postlexer.process(_lex(self.contextual, lexer_state, parser_state))


def _lexer_thread(frontend: Any, text: str) -> Any:
    """The lexer thread `Lark.parse` would make, with `_lex` where it has that shape."""
    thread = frontend._make_lexer_thread(text)
    connector = getattr(thread, "lexer", None)
    if (type(thread) is LexerThread and type(connector) is PostLexConnector
            and type(connector.lexer) is ContextualLexer):
        thread.lexer = _FastConnector(connector.lexer, connector.postlexer)
    return thread


def parse(lark: Lark, text: str) -> Any:
    """`lark.parse(text)` (an LALR parser with one start rule), with the faster loop."""
    try:
        frontend = lark.parser
        lalr = frontend.parser.parser  # ParsingFrontend -> LALR_Parser -> _Parser
        start = frontend._verify_start(None)
        rows = _rows(lalr)
    except (AttributeError, TypeError):  # pragma: no cover - another Lark
        return lark.parse(text)
    if ParseConf is None:  # pragma: no cover
        return lark.parse(text)
    state = _FastState(ParseConf(lalr.parse_table, lalr.callbacks, start),
                       _lexer_thread(frontend, text))
    state.rows = rows
    state.units = _UNITS.setdefault(id(rows), {})
    if getattr(lalr, "debug", False):  # pragma: no cover - Lark's loop prints its stacks
        return lalr.parse_from_state(state)
    return _drive(lalr, state)


def _drive(lalr: Any, state: _FastState) -> Any:
    """`lalr.parse_from_state(state)` with `state.feed_token` inline for the tokens that
    have an action (module docstring); the end token and the errors are Lark's."""
    try:
        token = None
        rows, units = state.rows, state.units
        state_stack, value_stack = state.state_stack, state.value_stack
        for token in state.lexer.lex(state):
            kind = token.type
            while True:
                action = rows[state_stack[-1]].get(kind)
                if action is None:  # Lark's error, raised from these stacks
                    state.feed_token(token)
                    break
                shift, arg, size, callback, origin = action
                if shift:
                    state_stack.append(arg)
                    value_stack.append(token if callback is None else callback(token))
                    break
                if size < 0:  # a pass-through run: only the state (see feed_token)
                    below = state_stack[-2]
                    key = (below, state_stack[-1], kind)
                    top = units.get(key)
                    if top is None:
                        top = units[key] = unit_run(rows, below, rows[below][origin][1], kind, 4)
                    state_stack[-1] = top
                    continue
                if size:
                    children = value_stack[-size:]
                    del state_stack[-size:]
                    del value_stack[-size:]
                else:
                    children = []
                value_stack.append(callback(children) if callback is not None else children)
                state_stack.append(rows[state_stack[-1]][origin][1])
        end_token = (Token.new_borrow_pos("$END", "", token) if token
                     else Token("$END", "", 0, 1, 1))
        return state.feed_token(end_token, True)
    except UnexpectedInput as exc:
        try:
            exc.interactive_parser = InteractiveParser(lalr, state, state.lexer)
        except NameError:  # pragma: no cover - as Lark's own loop
            pass
        raise exc
