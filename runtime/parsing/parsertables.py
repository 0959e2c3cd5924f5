"""Export a Lark parser's tables as plain data for `plainparse` (needs Lark; runs once).

What is exported is read off the Lark objects themselves, so that `plainparse` does what
they do: the parse table (states renumbered 0..n-1, reductions naming the rule by index),
every rule's callback name and the wrappers Lark's `ParseTreeBuilder` would put around it,
and for every parser state the contextual lexer's scanner, built once here with a `re`
that records what each pattern compiles to (parsercache._Recorder), the lexer left as it
was. Anything of another shape (another lexer class, user lexer callbacks, propagated
positions, a wrapper not known here) exports nothing: the runtime then uses Lark's parser.
"""

from __future__ import annotations

__all__ = ["export", "write_tables"]

import marshal
import re
from array import array
from typing import Any

from . import larkload  # noqa: F401 - Lark imported as larkload imports it, first
from .privatedir import write_private


def _code_bytes(form: tuple[Any, ...], pattern: str) -> tuple[Any, ...]:
    flags, code, groups, groupindex, indexgroup = form
    packed = array("I", code)
    if packed.tolist() != list(code):  # pragma: no cover - a code that does not fit
        raise ValueError("pattern code does not fit")
    return (str(pattern), int(flags), packed.tobytes(), int(groups),
            {str(k): int(v) for k, v in groupindex.items()}, tuple(indexgroup))


def _chain(wrappers: list[Any]) -> tuple[Any, ...]:
    from lark.parse_tree_builder import (
        ChildFilterLALR,
        ChildFilterLALR_NoPlaceholders,
        ExpandSingleChild,
    )

    out: list[Any] = []
    for w in wrappers:
        func = getattr(w, "func", None)
        if w is ExpandSingleChild:
            out.append(("expand1",))
        elif func is ChildFilterLALR and len(w.args) == 2 and not w.keywords:
            to_include, append_none = w.args
            out.append(("filter", tuple((int(i), bool(e), int(n)) for i, e, n in to_include),
                        int(append_none)))
        elif func is ChildFilterLALR_NoPlaceholders and len(w.args) == 1 and not w.keywords:
            out.append(("filter_np", tuple((int(i), bool(e)) for i, e in w.args[0])))
        else:
            raise ValueError(f"a callback wrapper plainparse does not know: {w!r}")
    return tuple(out)


def _scanner_of(basic: Any) -> tuple[Any, ...]:
    """One state's lexer: its patterns as compiled, ignored and newline types, and the
    retyping scanners of its `UnlessCallback`s; the lexer is left as it was."""
    from lark.lexer import BasicLexer, UnlessCallback

    from .parsercache import _Recorder

    if type(basic) is not BasicLexer or basic.use_bytes:
        raise ValueError("another lexer")
    saved = (basic.re, basic._scanner, vars(basic).get("callback"))
    recorder = _Recorder()
    try:
        basic.re = recorder
        basic._scanner = None
        vars(basic).pop("callback", None)
        scanner = basic.scanner  # builds it and `basic.callback`
        flags = scanner.g_regex_flags

        def forms(mres: list[Any]) -> tuple[Any, ...]:
            return tuple(_code_bytes(recorder.codes[(mre.pattern, flags)], mre.pattern)
                         for mre in mres)

        unless: dict[str, Any] = {}
        for name, callback in basic.callback.items():
            if type(callback) is not UnlessCallback or callback.scanner.g_regex_flags != flags:
                raise ValueError("a lexer callback other than Lark's UnlessCallback")
            unless[str(name)] = forms(callback.scanner._mres)
        if set(basic.callback) & set(basic.ignore_types):
            raise ValueError("a callback on an ignored terminal")
        return (forms(scanner._mres), tuple(sorted(map(str, basic.ignore_types))),
                tuple(sorted(map(str, basic.newline_types))), unless)
    finally:
        basic.re, basic._scanner = saved[0], saved[1]
        vars(basic).pop("callback", None)
        if saved[2] is not None:
            basic.callback = saved[2]


def export(lark: Any, key: str) -> dict[str, Any]:
    """The tables of a Lark LALR parser with a contextual lexer (raises ValueError,
    AttributeError or TypeError where it has another shape)."""
    from lark import Tree
    from lark.lexer import ContextualLexer
    from lark.parse_tree_builder import ParseTreeBuilder
    from lark.parser_frontends import PostLexConnector
    from lark.parsers.lalr_analysis import Shift

    options = lark.options
    if (options.parser != "lalr" or options.lexer != "contextual"
            or options.propagate_positions or options.lexer_callbacks
            or len(options.start) != 1):
        raise ValueError("options plainparse does not reproduce")
    builder = ParseTreeBuilder(lark.rules, options.tree_class or Tree, False, False,
                               options.maybe_placeholders)
    rules: list[tuple[str, tuple[Any, ...]]] = []
    rule_index: dict[Any, int] = {}
    for rule, wrappers in builder.rule_builders:
        rule_index[rule] = len(rules)
        name = rule.alias or rule.options.template_source or rule.origin.name
        rules.append((str(name), _chain(wrappers)))
    frontend = lark.parser
    table = frontend.parser.parser.parse_table
    start = options.start[0]
    state_ids = {state: i for i, state in enumerate(table.states)}
    # One object per distinct action and name: marshal writes the others as references
    # to it, which reads several times faster than as many equal tuples.
    shared: dict[Any, Any] = {}
    states: list[dict[str, tuple[bool, int, int, str | None]]] = []
    for actions in table.states.values():
        row: dict[str, tuple[bool, int, int, str | None]] = {}
        for name, (action, arg) in actions.items():
            if action is Shift:
                entry: tuple[bool, int, int, str | None] = (True, state_ids[arg], 0, None)
            else:
                index = rule_index[arg]
                size = len(arg.expansion)
                if size == 1 and rules[index][1] == (("expand1",),):
                    size = -1  # returns its one child: plainparse only changes the state
                origin = str(arg.origin.name)
                entry = (False, index, size, shared.setdefault(origin, origin))
            terminal = str(name)
            row[shared.setdefault(terminal, terminal)] = shared.setdefault(entry, entry)
        states.append(row)
    connector = frontend.lexer
    if type(connector) is not PostLexConnector or type(connector.lexer) is not ContextualLexer:
        raise ValueError("another lexer")
    lexer_ids: dict[int, int] = {}
    lexers: list[Any] = []
    lexer_of: list[int] = []
    for state in table.states:
        basic = connector.lexer.lexers[state]
        if id(basic) not in lexer_ids:
            lexer_ids[id(basic)] = len(lexers)
            lexers.append(_scanner_of(basic))
        lexer_of.append(lexer_ids[id(basic)])
    if all(_absorbs_blanks(lexer) for lexer in lexers):
        lexers = [_absorbing_blanks(lexer) for lexer in lexers]
    return {"key": key, "start": state_ids[table.start_states[start]],
            "end": state_ids[table.end_states[start]], "states": states, "rules": rules,
            "lexer_of": lexer_of, "lexers": lexers,
            "terminals": tuple(str(t.name) for t in lark.terminals)}


# Spaces and tabs: what each token's expression also takes after the token (see below).
_BLANKS = (0x20, 0x09)


def _absorbs_blanks(lexer: tuple[Any, ...]) -> bool:
    """Whether a space or tab, wherever it stands, is lexed by this lexer as the start
    of the ignored WS (no terminal tried before WS can start with one). When that holds
    of every lexer, each token's expression also takes the blanks that follow it: the
    tokens are the same (a WS run split in two is still ignored, and the blanks hold no
    line break to count), with one match a token instead of two where a blank follows."""
    forms, ignore, _newline, _unless = lexer
    if len(forms) != 1 or "WS" not in ignore:
        return False
    from re import _parser  # type: ignore[attr-defined]

    pattern, flags = forms[0][0], forms[0][1]
    compiled = re.compile(pattern, flags)
    if any((m := compiled.match(blank)) is None or m.lastgroup != "WS"
           for blank in (" ", "\t")):
        return False
    names = {index: name for name, index in compiled.groupindex.items()}
    top = list(_parser.parse(pattern, flags))
    if len(top) != 1 or str(top[0][0]) != "BRANCH":
        return False
    for alternative in top[0][1][1]:
        items = list(alternative)
        if len(items) != 1 or str(items[0][0]) != "SUBPATTERN":
            return False
        if names.get(items[0][1][0]) == "WS":
            return True
        if _may_start_blank(items):
            return False
    return False


def _may_start_blank(items: list[Any]) -> bool:
    """Whether an expression, as `re`'s parser reads it, may match a text that starts
    with a space or tab (True where that is not plain from its first item)."""
    if not items:
        return True
    op, arg = items[0]
    kind = str(op)
    if kind == "LITERAL":
        return arg in _BLANKS
    if kind == "IN":
        return any(_may_hold_blank(str(item), value) for item, value in arg)
    if kind == "SUBPATTERN":
        return _may_start_blank(list(arg[3]))
    if kind == "BRANCH":
        return any(_may_start_blank(list(branch)) for branch in arg[1])
    if kind in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        return arg[0] == 0 or _may_start_blank(list(arg[2]))
    return True


def _may_hold_blank(kind: str, value: Any) -> bool:
    """Whether one item of a character class may be a space or tab."""
    if kind == "LITERAL":
        return value in _BLANKS
    if kind == "RANGE":
        return any(value[0] <= blank <= value[1] for blank in _BLANKS)
    if kind == "CATEGORY":
        return str(value) not in ("CATEGORY_DIGIT", "CATEGORY_WORD")
    return True


def _absorbing_blanks(lexer: tuple[Any, ...]) -> tuple[Any, ...]:
    """The lexer with its expression taking the blanks after each token too."""
    from .parsercache import _compiled_form

    forms, ignore, newline, unless = lexer
    pattern = f"(?:{forms[0][0]})[\\x20\\t]*"
    return ((_code_bytes(_compiled_form(pattern, forms[0][1]), pattern),), ignore, newline,
            unless)


def write_tables(path: str, lark: Any, key: str) -> bool:
    """Export and write the tables atomically, readable by their owner only; False when
    the parser has another shape or no file can be made (the runtime keeps Lark's)."""
    try:
        data = marshal.dumps(export(lark, key))
    except (ValueError, AttributeError, TypeError, KeyError):
        return False
    return write_private(path, data)
