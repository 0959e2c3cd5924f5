"""The parser: Deluge source text to a tree, with syntax errors in words.

The grammar is `sluicegate.grammar/deluge.lark` (Lark, LALR, contextual lexer). Every
word is lexed as NAME; `KeywordPostLex` turns reserved words (in any case) into keyword
tokens and decides the contextual ones (`each`, `index`, `info`). The translator passes
its transformer in, so the tree is turned into Python AST while it is being parsed.

The translator's parse runs on Lark's tables exported as plain data (plainparse), without
importing Lark; where the script does not parse, Lark's own parser parses it again and its
error is the one reported. The positioned parse of the editor tooling is Lark's.
"""

from __future__ import annotations

__all__ = [
    "RESERVED", "KeywordPostLex", "normalize_source", "parse", "parse_all_errors", "parse_tree",
    "unclosed_brace",
    "syntax_error_from_lark",
]

import re
import threading
from collections import deque
from collections.abc import Iterator
from typing import Any

from sluicegate.grammar import grammar_text

from . import compilebudget
from .errors import ScriptSyntaxError
from .parsing.tokens import Token

# SPEC §10 "Reserved words": never variable names, in any case.
RESERVED = {
    "if", "else", "for", "in", "return", "break", "continue", "try", "catch", "throw",
    "true", "false", "null", "invokeurl", "invokeapi", "sendmail", "void",
}
# Where a statement may begin: `info` there is the keyword unless the grammar reads it
# as the variable (`info = Map(); info.put("k", 1); info info;`).
_STATEMENT_START = {"SEMICOLON", "LBRACE", "RBRACE", "RSQB", None}  # `]`: sendmail [...] may omit its `;`


# Every word the post-lexer may retype.
_KEYWORDS = frozenset(RESERVED | {"each", "index", "info", "alert"})


def keyword_type(low: str, prev_type: str | None) -> str:
    """The type of a NAME token whose lower-cased text is `low` (one of `_KEYWORDS`),
    after a token of type `prev_type`: a keyword's, or still NAME."""
    if prev_type == "DOT":  # `zoho.mail.sendMail`: a name
        return "NAME"
    if low in RESERVED:
        return low.upper()
    if low == "each":
        return "EACH" if prev_type == "FOR" else "NAME"
    if low == "index":
        return "INDEX" if prev_type == "EACH" else "NAME"
    if prev_type in _STATEMENT_START:
        # `info`, and Creator's `alert expr;` read like it; the grammar still reads
        # `info = ...` / `info.put(...)` as the variable.
        return low.upper()
    return "NAME"


class KeywordPostLex:
    """Retypes NAME tokens that are keywords; remembers recent tokens for error positions.

    It never looks ahead: the contextual lexer must see each token in the parser state
    that follows the previous one.
    """

    always_accept = ("NAME",)
    # What the plain-table parser's lexer reads to retype each token as it makes it (it
    # runs the rule itself instead of through `process`: one generator stage less).
    keywords = _KEYWORDS
    keyword_type = staticmethod(keyword_type)

    def __init__(self) -> None:
        # the last four tokens (a deque drops the oldest by itself)
        self.recent: deque[Token] = deque(maxlen=4)
        # Every token of the parse when a list is set here (the formatter's token stream).
        self.record: list[Token] | None = None
        # Where `invokeurl [ ... ]` / `invokeapi [ ... ]` blocks end (after their `]`).
        self.task_ends: set[int] = set()

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        recent = self.recent
        recent.clear()
        self.task_ends = task_ends = set()
        prev_type: str | None = None
        depth = 0  # bracket depth inside a task block
        until_check = _CHECK_EVERY
        record = self.record  # set before the parse starts
        for tok in stream:
            until_check -= 1
            if not until_check:  # parsing counts against the compile deadline
                until_check = _CHECK_EVERY
                compilebudget.check()
            kind = tok.type
            if kind == "LSQB" and (depth or prev_type in ("INVOKEURL", "INVOKEAPI")):
                depth += 1
            elif kind == "RSQB" and depth:
                depth -= 1
                if not depth and tok.end_pos is not None:
                    task_ends.add(tok.end_pos)
            if kind == "NAME":
                low = tok.value.lower()
                if low in _KEYWORDS:  # most names: none of the words below
                    tok.type = keyword_type(low, prev_type)
            recent.append(tok)
            if record is not None:
                record.append(tok)
            yield tok
            prev_type = tok.type


# Tokens read between two looks at the compile deadline.
_CHECK_EVERY = 256

_lock = threading.Lock()
# Build every parser with Lark itself (tests compare the pickled parser with it).
_NO_PICKLE = False
_parsers: dict[tuple[Any, bool], tuple[Any, KeywordPostLex]] = {}
# The plain-table parser of each transformer (None: that transformer parses with Lark).
_plain: dict[Any, Any] = {}


# Comments met by the lexer of the positioned parse (`parse_tree`); callers hold `_lock`.
_comments: list[Token] = []


def _parser_for(transformer: Any, positions: bool = False) -> tuple[Any, KeywordPostLex]:
    """One Lark instance per transformer instance (the LALR tables are cached on disk by
    Lark, in this user's private directory; the translator's parser is pickled whole,
    parsercache.py).

    Callers hold `_lock`: the post-lexer and the transformer keep per-parse state.
    """
    key = (id(transformer) if transformer is not None else None, positions)
    found = _parsers.get(key)
    if found is None:
        postlex = KeywordPostLex()
        callbacks = ({"LINE_COMMENT": _comments.append, "BLOCK_COMMENT": _comments.append}
                     if positions else {})
        if positions or _NO_PICKLE:
            from .parsing.larkload import Lark
            from .parsing.parsercache import lark_cache

            lark = Lark(grammar_text(), parser="lalr", lexer="contextual", postlex=postlex,
                        transformer=transformer, propagate_positions=positions,
                        lexer_callbacks=callbacks, maybe_placeholders=True,
                        cache=lark_cache(f"parser_{int(positions)}.lark"))
        else:  # the translator's parser: the same Lark parser, loaded faster
            from .parsing.parsercache import load_parser

            lark = load_parser(grammar_text(), postlex, transformer)
        found = (lark, postlex)
        _parsers[key] = found
    return found


_BAD_CONTROL = re.compile(r"[\x00]")
_WHILE = re.compile(r"^\s*(while)\s*\(", re.I)


def normalize_source(source: str | bytes, filename: str = "<script>") -> str:
    """Decode bytes as UTF-8, drop a leading BOM; reject text with NUL characters."""
    if isinstance(source, bytes):
        try:
            source = source.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = source[: exc.start].count(b"\n") + 1
            col = exc.start - (source.rfind(b"\n", 0, exc.start) + 1) + 1
            raise ScriptSyntaxError("Source is not valid UTF-8", line=line, column=col,
                                    filename=filename) from None
    if source.startswith("\ufeff"):
        source = source[1:]
    bad = _BAD_CONTROL.search(source)
    if bad:
        line = source.count("\n", 0, bad.start()) + 1
        col = bad.start() - (source.rfind("\n", 0, bad.start()) + 1) + 1
        raise ScriptSyntaxError("Source contains a NUL character", line=line, column=col,
                                filename=filename)
    return source


_WORDS = {
    "NAME": "a name", "NUMBER": "a number", "DECIMAL": "a number", "STRING": "a text",
    "SQ_STRING": "a text", "SEMICOLON": "';'", "LPAR": "'('", "RPAR": "')'",
    "LBRACE": "'{'", "RBRACE": "'}'", "LSQB": "'['", "RSQB": "']'", "COMMA": "','",
    "COLON": "':'", "DOT": "'.'", "EQUAL": "'='", "COMPOUND_OP": "'+='",
    "OR_OP": "'||'", "AND_OP": "'&&'", "EQ_OP": "'=='", "CMP_OP": "a comparison",
    "ADD_OP": "'+' or '-'", "MINUS": "'-'", "MUL_OP": "'*', '/' or '%'", "NOT_OP": "'!'",
    "TASK_KEY": "a task parameter such as 'url:'", "TYPED_CTOR": "a typed constructor",
    "TYPED_TYPE": "a type", "$END": "the end of the script",
}
_KEYWORD_WORDS = {k.upper(): f"'{k}'" for k in RESERVED | {"each", "index", "info"}}


def _word(terminal: str) -> str:
    return _WORDS.get(terminal) or _KEYWORD_WORDS.get(terminal) or terminal.lower()


def _describe_token(tok: Token) -> str:
    if tok.type == "$END":
        return "the end of the script"
    value = str(tok.value)
    if len(value) > 30:
        value = value[:27] + "..."
    if tok.type in ("STRING", "SQ_STRING"):
        return f"text {value}"
    return f"'{value}'"


def _expected_phrase(expected: set[str]) -> str:
    words = sorted({_word(t) for t in expected if not t.startswith("__")})
    if not words:
        return ""
    # Long lists say nothing; name the few tokens that fit the usual mistakes.
    for key in ("SEMICOLON", "RPAR", "RBRACE", "RSQB", "COMMA"):
        if key in expected and len(words) > 4:
            return f"; expected {_word(key)}"
    if len(words) > 6:
        return ""
    if len(words) == 1:
        return f"; expected {words[0]}"
    return "; expected " + ", ".join(words[:-1]) + " or " + words[-1]


def syntax_error_from_lark(exc: Any, source: str, recent: list[Token],
                           filename: str) -> ScriptSyntaxError:
    """A Lark error as a ScriptSyntaxError whose message says in words what went wrong."""
    from .parsing.larkload import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

    if isinstance(exc, UnexpectedCharacters):
        char = source[exc.pos_in_stream] if exc.pos_in_stream < len(source) else ""
        if char == "?":
            msg = "Unexpected character '?': Deluge has no ?: operator; use if(condition, a, b)"
        elif char in "\"'":
            msg = "Unterminated text: a quote is not closed"
        else:
            msg = f"Unexpected character {char!r}"
        return ScriptSyntaxError(msg, line=exc.line, column=exc.column, filename=filename)
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        expected = set(exc.expected or ())
        before = _token_before(tok, recent)
        orphan = _ORPHANS.get(tok.type)
        if orphan is not None:
            # `else`/`catch` where no `if`/`try` block just closed: any "missing ';'" is
            # only how the parser sees it, the author's mistake is the orphan itself.
            err = ScriptSyntaxError(orphan, line=tok.line, column=tok.column,
                                    filename=filename)
            err.recovery = ("block", None)  # type: ignore[attr-defined]
            return err
        if tok.type == "$END":
            unclosed = unclosed_brace(source)
            if unclosed is not None:
                line, col = unclosed
                err = ScriptSyntaxError(
                    f"Missing '}}' at the end of the script: the '{{' at line {line} is "
                    "never closed", line=line, column=col, filename=filename)
                err.recovery = ("stop", None)  # type: ignore[attr-defined]
                return err
        if tok.type != "$END":
            text = source.split("\n")[tok.line - 1]
            m = _WHILE.match(text)
            if m:
                err = ScriptSyntaxError(
                    "Deluge has no 'while' loop; use 'for each' over a list",
                    line=tok.line, column=m.start(1) + 1, filename=filename)
                err.recovery = ("block", None)  # type: ignore[attr-defined]
                return err
        missing = next((k for k in ("SEMICOLON", "RPAR") if k in expected), None)
        if missing and before is not None and tok.type != "$END":
            # Reported at the end of the token before, on the line the author wrote.
            return ScriptSyntaxError(
                f"Missing {_word(missing)} after {_describe_token(before)}"
                f" (found {_describe_token(tok)})",
                line=before.end_line or before.line,
                column=(before.end_column or before.column), filename=filename)
        line = tok.line if tok.type != "$END" else _last_line(source)
        col = tok.column if tok.type != "$END" else 1
        if tok.type == "$END":
            if before is not None:
                line, col = before.end_line or before.line, before.end_column or before.column
            return ScriptSyntaxError(
                f"Unexpected end of the script{_expected_phrase(expected)}",
                line=line, column=col, filename=filename)
        return ScriptSyntaxError(
            f"Unexpected {_describe_token(tok)}{_expected_phrase(expected)}",
            line=line, column=col, filename=filename)
    if isinstance(exc, UnexpectedEOF):
        line = _last_line(source)
        return ScriptSyntaxError("Unexpected end of the script", line=line, column=1,
                                 filename=filename)
    return ScriptSyntaxError(str(exc), line=getattr(exc, "line", 1),
                             column=getattr(exc, "column", 1), filename=filename)


_ORPHANS = {
    "ELSE": "'else' without 'if': an else must follow the '}' that closes an if block",
    "CATCH": "'catch' without 'try': a catch must follow the '}' that closes a try block",
}
_BRACKET_TOKENS = re.compile(
    r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|//[^\n]*|/\*.*?\*/|[{}]', re.S)


def _braces(source: str) -> Iterator[tuple[str, int]]:
    """Each `{` and `}` outside texts and comments, with its offset."""
    for m in _BRACKET_TOKENS.finditer(source):
        if m.group() in "{}":
            yield m.group(), m.start()


def _line_col(source: str, offset: int) -> tuple[int, int]:
    line_start = source.rfind("\n", 0, offset) + 1
    return source.count("\n", 0, offset) + 1, offset - line_start + 1


def _indent(source: str, offset: int) -> int:
    start = source.rfind("\n", 0, offset) + 1
    text = source[start:offset]
    return len(text) - len(text.lstrip(" \t"))


def unclosed_brace(source: str) -> tuple[int, int] | None:
    """(line, column) of the `{` that is never closed, or None when braces balance.

    A `}` indented less than the innermost open `{`'s line closes the `{` whose line
    it lines up with, so the `{` left between them is the unclosed one (the author's
    indentation says where the `}` went missing); otherwise the innermost open `{` at
    the end of the script is.
    """
    stack: list[tuple[int, int]] = []  # (offset, indentation of its line)
    for char, offset in _braces(source):
        if char == "{":
            stack.append((offset, _indent(source, offset)))
            continue
        if not stack:
            continue
        indent = _indent(source, offset)
        if indent < stack[-1][1]:
            for depth in range(len(stack) - 2, -1, -1):
                if stack[depth][1] == indent:
                    return _line_col(source, stack[depth + 1][0])
        stack.pop()
    return _line_col(source, stack[-1][0]) if stack else None


def block_end(source: str, offset: int) -> int:
    """The offset just after the `}` closing the first `{` at or after `offset` (the end
    of the source when there is none)."""
    depth = 0
    for char, at in _braces(source[offset:]):
        depth += 1 if char == "{" else -1
        if depth == 0:
            return offset + at + 1
    return len(source)


def _token_before(tok: Token, recent: list[Token]) -> Token | None:
    for i in range(len(recent) - 1, -1, -1):
        if recent[i] is tok:
            return recent[i - 1] if i > 0 else None
    if tok.type == "$END":
        return recent[-1] if recent else None
    start = getattr(tok, "start_pos", None)
    if start is not None:  # the same token, seen as another object: match by position
        earlier = [r for r in recent if r.start_pos is not None and r.start_pos < start]
        if earlier:
            return earlier[-1]
    return recent[-2] if len(recent) >= 2 else None


def _last_line(source: str) -> int:
    return source.count("\n") + 1


def parse(source: str, transformer: Any = None, filename: str = "<script>") -> Any:
    """Parse normalized source; with a transformer, returns what its `start` returns."""
    # One parse at a time (the post-lexer and transformer keep state): waiting for
    # another thread's parse counts against this compile's deadline too.
    left = compilebudget.remaining()
    if not _lock.acquire(timeout=-1 if left is None else max(left, 0.0)):
        compilebudget.check()
        raise compilebudget.CompileTimeLimit(compilebudget.limit_seconds())
    try:
        return _parse_locked(source, transformer, filename, False)
    finally:
        _lock.release()


def parse_tree(source: str,
               filename: str = "<script>") -> tuple[Any, list[Token], str, list[Token]]:
    """The plain Lark tree of normalized source, with positions (for editor tooling).

    Returns (tree, comments, text, tokens): `text` is what was parsed, `source` with the
    `;` inserted after task blocks that omit it (positions refer to it); `comments` are
    the comment tokens and `tokens` every other token, in source order.
    """
    with _lock:
        _comments.clear()
        tree, text, tokens = _parse_locked(source, None, filename, True)
        comments = list(_comments)
        _comments.clear()
        return tree, comments, text, tokens


def _plain_for(transformer: Any) -> Any:
    """The plain-table parser with `transformer`'s callbacks (plainparse), or None where
    there are no tables to be had (no private directory, a parser of another shape).
    The tables are exported from Lark's parser the first time (a file per user)."""
    key = id(transformer) if transformer is not None else None
    if key in _plain:
        return _plain[key]
    from .parsing.plainparse import PlainParser, load_tables, tables_key, tables_path
    from .parsing.privatedir import private_dir

    found = None
    folder = private_dir()
    if folder is not None:
        table_key = tables_key(grammar_text(), KeywordPostLex.always_accept)
        path = tables_path(folder, table_key)
        tables = load_tables(path, table_key)
        if tables is None:
            from .parsing.parsertables import write_tables

            write_tables(path, _parser_for(transformer)[0], table_key)
            tables = load_tables(path, table_key)
        if tables is not None:
            try:
                found = PlainParser(tables, transformer, KeywordPostLex())
            except (ValueError, KeyError, TypeError, IndexError):  # tables of another shape
                found = None
    _plain[key] = found
    return found


def _parse_locked(source: str, transformer: Any, filename: str, positions: bool) -> Any:
    if transformer is not None and hasattr(transformer, "reset"):
        transformer.reset(source, filename)
    if not positions and not _NO_PICKLE:
        plain = _plain_for(transformer)
        if plain is not None:
            from .parsing.plainparse import NoParse

            try:
                return plain.parse(source)
            except NoParse:  # Lark's parser reads it again and says what is wrong
                if transformer is not None and hasattr(transformer, "reset"):
                    transformer.reset(source, filename)
    from .parsing import fastparse
    from .parsing.larkload import UnexpectedInput

    lark, postlex = _parser_for(transformer, positions)
    text = source
    for _ in range(_MAX_INSERTED + 1):
        if positions:
            _comments.clear()
            postlex.record = []
        try:
            result = fastparse.parse(lark, text)  # lark.parse(text), faster
            return (result, text, postlex.record) if positions else result
        except UnexpectedInput as exc:
            at = _missing_task_semicolon(exc, postlex.task_ends, text)
            if at is None:
                raise syntax_error_from_lark(exc, text, list(postlex.recent),
                                             filename) from None
            # `invokeurl [ ... ]` closing a statement without its `;`, as `sendmail
            # [ ... ]` may: read as if the `;` were there, and parse again.
            text = text[:at] + ";" + text[at:]
            if transformer is not None and hasattr(transformer, "reset"):
                transformer.reset(text, filename)
    raise ScriptSyntaxError("Too many task blocks without their ';'", line=1, column=1,
                            filename=filename)


_MAX_INSERTED = 20


_BLANKS = re.compile(r"(?:\s|//[^\n]*|/\*.*?\*/)*", re.S)


def _missing_task_semicolon(exc: Any, task_ends: set[int],
                            text: str) -> int | None:
    """The position right after a task block's `]` when the parser wanted the statement's
    `;` next and only blanks and comments stand between the `]` and what came instead."""
    token = getattr(exc, "token", None)
    expected = getattr(exc, "expected", None) or set()
    start = getattr(token, "start_pos", None)
    if start is None or "SEMICOLON" not in expected:
        return None
    ends = [end for end in task_ends if end <= start]
    if not ends:
        return None
    end = max(ends)
    gap = _BLANKS.match(text, end)
    return end if gap is not None and gap.end() >= start else None


def parse_all_errors(source: str, parse_once: Any, limit: int = 50) -> list[ScriptSyntaxError]:
    """Every syntax error of a file, by blanking the failing line and parsing again.

    `parse_once(text)` raises ScriptSyntaxError. Blanking keeps line and column numbers
    and the line's braces, so later errors are reported where they are.
    """
    errors: list[ScriptSyntaxError] = []
    text = source
    seen: set[tuple[int | None, int | None]] = set()
    while len(errors) < limit:
        try:
            parse_once(text)
            break
        except ScriptSyntaxError as err:
            key = (err.line, err.column)
            if key in seen:
                break
            seen.add(key)
            errors.append(err)
            kind, _ = getattr(err, "recovery", (None, None))
            if kind == "stop":
                break  # nothing after an unclosed `{` can be placed reliably
            if kind == "block":
                at = _offset(text, err.line or 1, err.column or 1)
                text = _blank_span(text, at, block_end(text, at))
            else:
                text = _blank_line(text, err.line or 1)
    errors.sort(key=lambda e: (e.line or 0, e.column or 0))
    return errors


def _offset(text: str, line: int, column: int) -> int:
    start = 0
    for _ in range(line - 1):
        start = text.find("\n", start) + 1
    return start + column - 1


def _blank_span(text: str, start: int, end: int) -> str:
    """Blank `text[start:end]` (an orphan `else { ... }`), keeping its line breaks."""
    middle = "".join(c if c in "\n\r" else " " for c in text[start:end])
    return text[:start] + middle + text[end:]


def _blank_line(text: str, line: int) -> str:
    lines = text.split("\n")
    if not 1 <= line <= len(lines):
        return text
    original = lines[line - 1]
    lines[line - 1] = "".join(c if c in "{}\r" else " " for c in original)
    return "\n".join(lines)
