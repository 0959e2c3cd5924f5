"""Export a Lark parser's tables as plain data for `plainparse` (needs Lark; runs once).

What is exported is read off the Lark objects themselves, so that `plainparse` does what
they do: the parse table (states renumbered 0..n-1, reductions naming the rule by index),
every rule's callback name and the wrappers Lark's `ParseTreeBuilder` would put around it,
and for every parser state the contextual lexer's scanner, built once here with a `re`
that records what each pattern compiles to (parsercache._Recorder), the lexer left as it
was (with the blank-taking and by-first-character forms of its expression, `_finished`).
Anything of another shape (another lexer class, user lexer callbacks, propagated
positions, a wrapper not known here) exports nothing: the runtime then uses Lark's parser.
"""

from __future__ import annotations

__all__ = ["export", "write_tables"]

import marshal
import re
from array import array
from typing import Any

from . import larkload  # noqa: F401 - Lark imported as larkload imports it, first
from .firstchars import first_chars
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
        # Each terminal's alternative, as Lark joins them (Scanner._build_mres), where
        # its one expression is that join (else no terminal is told apart).
        pieces = [f"(?P<{t.name}>{t.pattern.to_regexp()})" for t in scanner.terminals]
        if len(scanner._mres) != 1 or "|".join(pieces) != scanner._mres[0].pattern:
            pieces = []
        return (forms(scanner._mres), tuple(sorted(map(str, basic.ignore_types))),
                tuple(sorted(map(str, basic.newline_types))), unless,
                [(str(t.name), piece) for t, piece in zip(scanner.terminals, pieces)])
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
    suffix = _BLANKS if all(_absorbs_blanks(lexer) for lexer in lexers) else ""
    shared: dict[str, Any] = {}
    lexers = [_finished(lexer, suffix, shared) for lexer in lexers]
    return {"key": key, "start": state_ids[table.start_states[start]],
            "end": state_ids[table.end_states[start]], "states": states, "rules": rules,
            "lexer_of": lexer_of, "lexers": lexers,
            "terminals": tuple(str(t.name) for t in lark.terminals)}


# What each token's expression also takes after the token where every lexer lexes a
# blank as the ignored WS (`_absorbs_blanks`).
_BLANKS = "[\\x20\\t]*"


def _absorbs_blanks(lexer: tuple[Any, ...]) -> bool:
    """Whether a space or tab, wherever it stands, is lexed by this lexer as the start
    of the ignored WS (no terminal tried before WS can start with one). When that holds
    of every lexer, each token's expression also takes the blanks that follow it: the
    tokens are the same (a WS run split in two is still ignored, and the blanks hold no
    line break to count), with one match a token instead of two where a blank follows."""
    forms, ignore, _newline, _unless, alternatives = lexer
    if "WS" not in ignore or not alternatives:
        return False
    compiled = re.compile(forms[0][0], forms[0][1])
    if any((m := compiled.match(blank)) is None or m.lastgroup != "WS"
           for blank in (" ", "\t")):
        return False
    for name, piece in alternatives:
        if name == "WS":
            return True
        first = first_chars(piece, forms[0][1])
        if first is None or 0x20 in first or 0x09 in first:
            return False
    return False


def _finished(lexer: tuple[Any, ...], suffix: str,
              shared: dict[str, Any]) -> tuple[Any, ...]:
    """The lexer as exported: its expression (with `suffix` after it), and for each
    ASCII character at which only some of its terminals may start, the expression of
    those terminals alone (in their order: the same match, fewer alternatives tried).
    Equal expressions are one object (`shared`, by text): marshal writes it once."""
    forms, ignore, newline, unless, alternatives = lexer
    flags = forms[0][1]

    def form(pattern: str) -> Any:
        if suffix:
            pattern = f"(?:{pattern}){suffix}"
        found = shared.get(pattern)
        if found is None:
            from .parsercache import _compiled_form

            found = shared[pattern] = _code_bytes(_compiled_form(pattern, flags), pattern)
        return found

    if suffix:
        forms = (form(forms[0][0]),)
    firsts: dict[str, Any] = {}
    starts = [first_chars(piece, flags) for _name, piece in alternatives]
    for code in range(0x80):
        kept = [piece for (_name, piece), first in zip(alternatives, starts)
                if first is None or code in first]
        if kept and len(kept) < len(alternatives):
            firsts[chr(code)] = form("|".join(kept))
    return forms, ignore, newline, unless, firsts


def write_tables(path: str, lark: Any, key: str) -> bool:
    """Export and write the tables atomically, readable by their owner only; False when
    the parser has another shape or no file can be made (the runtime keeps Lark's)."""
    try:
        data = marshal.dumps(export(lark, key))
    except (ValueError, AttributeError, TypeError, KeyError):
        return False
    return write_private(path, data)
