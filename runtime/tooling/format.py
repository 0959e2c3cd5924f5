"""The Deluge formatter: a script in the vendor editor's house style, same tokens, same meaning.

House style: the vendor editor's own, as it saves scripts (README "Editing Deluge"):
- braces on their own lines (Allman), `{` under the statement it opens; `else`,
  `else if` and `catch` start their own lines after the `}`;
- one tab per level; continuation lines of a statement the author broke keep their
  breaks, one level deeper;
- `if(x)`, `else if(x)`, `for each  item in list` (two blanks, as the editor writes it),
  `catch (e)`; one blank around binary operators and `=`; none after `,` and `:` in
  calls and literals, one after the commas of a function header; none inside brackets,
  around `.`, or between a function name and `(`;
- at most one blank line between statements, none after `{` or before `}`, one between
  functions; the file ends with one newline;
- `invokeurl`/`invokeapi`/`sendmail` (and Creator task) blocks: one parameter a line
  between `[` and `]` on their own lines, `url :"..."`, `type :GET` and the sendmail
  parameters with a blank before the colon, the others without;
- every comment is kept where it was: before a statement, at the end of a line, or
  between the tokens of a statement.

The formatter works on the parser's own token stream, so it can only move whitespace and
comments (and drop empty `;` statements). `format_source` proves it on every call: the
formatted script must translate to the same Python as the original and carry the same
comments, or `FormatterError` is raised and nothing is written.
"""

from __future__ import annotations

__all__ = ["INDENT", "FormatterError", "format_source"]

import ast
import bisect
from typing import Any

from lark import Token, Tree
from sluicegate.errors import ScriptSyntaxError
from sluicegate.parser import normalize_source, parse_tree
from sluicegate.translator import translate, translate_tree

INDENT = "\t"
# Task parameters the vendor's editor writes with a blank before the colon (`url :"..."`,
# `type :GET`, every sendmail parameter); the others it writes `connection:"books"`.
_SPACED_KEYS = {"url", "type", "from", "to", "cc", "bcc", "reply to", "subject", "message"}

_BINARY = {"EQUAL", "EQ_OP", "CMP_OP", "ADD_OP", "MUL_OP", "AND_OP", "OR_OP", "COMPOUND_OP",
           "IN"}
_NO_SPACE_BEFORE = {"COMMA", "SEMICOLON", "RPAR", "DOT", "COLON", "RSQB", "RBRACE"}
_NO_SPACE_AFTER = {"LPAR", "DOT", "NOT_OP", "MINUS", "PLUS", "LSQB", "LBRACE"}
_CALLABLE = {"NAME", "TYPED_CTOR", "INVOKEURL", "ALERT", "INFO"}
_TASK_WORDS = {"INVOKEURL", "INVOKEAPI", "SENDMAIL"}
_OPENERS = {"LPAR": "RPAR", "LSQB": "RSQB", "LBRACE": "RBRACE"}


class FormatterError(Exception):
    """The formatted text would not mean what the original does (a formatter bug)."""


def format_source(source: str | bytes, filename: str = "<script>") -> str:
    """The script in house style; raises ScriptSyntaxError for a script that does not parse."""
    bom = (source.startswith(b"\xef\xbb\xbf") if isinstance(source, bytes)
           else source.startswith("\ufeff"))
    text = normalize_source(source, filename)
    try:
        newline = "\r\n" if "\r\n" in text else "\n"
        tree, comments, parsed, tokens = parse_tree(text.replace("\r\n", "\n"), filename)
        # Refuses what cannot run, with file:line:col, as `check` does.
        original = translate_tree(tree, parsed, filename)
        out = _Printer(parsed, tokens, comments).document(tree)
        _verify(original, comments, out, filename)
    except RecursionError:
        # Too deep for the tree walks: the runtime's own translation (which does not
        # recurse over the tree) says whether that is the script's error.
        try:
            translate(text, filename)
        except RecursionError:
            raise ScriptSyntaxError("The script is nested too deeply to compile", line=1,
                                    column=1, filename=filename) from None
        raise FormatterError("the script is nested too deeply to format") from None
    if newline != "\n":
        out = out.replace("\n", newline)
    return ("\ufeff" if bom else "") + out


def _verify(original: Any, comments: list[Token], out: str, filename: str) -> None:
    try:
        tree, kept, parsed, _tokens = parse_tree(out, filename)
        again = translate_tree(tree, parsed, filename)
    except Exception as exc:
        raise FormatterError(f"the formatted script does not parse ({exc})") from None
    if _dump(again.module) != _dump(original.module):
        raise FormatterError("the formatted script would translate differently")
    if [_comment_text(c) for c in kept] != [_comment_text(c) for c in comments]:
        raise FormatterError("a comment would be lost")


def _dump(module: ast.Module) -> str:
    return ast.dump(module, include_attributes=False)


def _comment_text(tok: Token) -> str:
    return " ".join(str(tok).split())


def _space(before: Token | None, a: Token, b: Token, header: bool = False) -> str:
    """The blank between tokens a and b on one line; `before` precedes a; `header`: the
    parameter list of a function header (the vendor puts a blank after its commas)."""
    ta, tb = a.type, b.type
    if tb in _NO_SPACE_BEFORE:
        return ""
    if ta == "COMMA":
        return " " if header else ""
    if ta in ("TASK_KEY", "COLON") or ta in _NO_SPACE_AFTER:
        return ""
    if tb == "LPAR":
        if ta == "CATCH":
            return " "
        return "" if ta in _CALLABLE or ta == "IF" else " "
    if tb == "LSQB":
        return "" if ta == "NAME" else " "
    if ta == "EACH" and tb == "NAME":
        return "  "  # `for each  item in list`: the two blanks the vendor's editor writes
    return " "


class _Printer:
    def __init__(self, text: str, tokens: list[Token], comments: list[Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.starts = [t.start_pos for t in tokens]
        self.comments = sorted(comments, key=lambda c: c.start_pos)
        self.comment_starts = [c.start_pos for c in self.comments]
        self.done: set[int] = set()
        self.lines: list[str] = []
        self.last_line = 0  # the source line of what was printed last
        self.trailing: dict[int, int] = {}  # line index -> length of its code
        self.last_token_end = 0  # where the last printed token ends in the source
        self._block_end = 0  # where the last printed block's `}` ends, and its line
        self._block_end_line = 0

    # ---- lookups -------------------------------------------------------------------------
    def _tokens(self, start: int, end: int) -> list[Token]:
        lo = bisect.bisect_left(self.starts, start)
        hi = bisect.bisect_left(self.starts, end)
        return self.tokens[lo:hi]

    def _comments(self, start: int, end: int) -> list[Token]:
        lo = bisect.bisect_left(self.comment_starts, start)
        hi = bisect.bisect_left(self.comment_starts, end)
        return [c for c in self.comments[lo:hi] if c.start_pos not in self.done]

    def _emit(self, line: str) -> None:
        self.lines.append(line.rstrip())

    def _comment_lines(self, comment: Token, indent: str) -> None:
        self.done.add(comment.start_pos)
        parts = str(comment).split("\n")
        self._emit(indent + parts[0])
        for part in parts[1:]:
            self._emit(part)  # a block comment's inner lines stay as written
        self.last_line = comment.end_line or comment.line

    def _trail(self, comment: Token) -> None:
        self.done.add(comment.start_pos)
        first, *rest = str(comment).split("\n")
        if not rest and len(self.lines) - 1 not in self.trailing:
            self.trailing[len(self.lines) - 1] = len(self.lines[-1])
        self.lines[-1] = self.lines[-1] + " " + first
        self.lines.extend(rest)
        self.last_line = comment.end_line or comment.line

    def _align_trailing(self) -> None:
        """Trailing comments of consecutive lines start in one column (as authors align
        them), one space after the longest code of the run."""
        run: list[int] = []
        for index in sorted(self.trailing) + [-2]:
            if run and index != run[-1] + 1:
                column = max(self.trailing[i] for i in run) + 1
                for i in run:
                    code = self.trailing[i]
                    self.lines[i] = self.lines[i][:code].ljust(column) + self.lines[i][code + 1:]
                run = []
            run.append(index)

    # ---- structure -----------------------------------------------------------------------
    def document(self, tree: Tree) -> str:  # type: ignore[type-arg]
        items = [c for c in tree.children if isinstance(c, Tree)]
        functions = any(i.data == "function_def" for i in items)
        self._items(items, "", 0, len(self.text), blank_between=functions)
        while self.lines and not self.lines[-1]:
            self.lines.pop()
        self._align_trailing()
        return "\n".join(self.lines) + "\n" if self.lines else ""

    def _items(self, items: list[Tree], indent: str, start: int, end: int,  # type: ignore[type-arg]
               blank_between: bool = False) -> None:
        first = True
        prev_end_line: int | None = None
        for item in items:
            if item.data == "empty_stmt":
                continue
            if blank_between and not first and self.lines and self.lines[-1]:
                self._emit("")
            self._gap(start, item.meta.start_pos, indent, prev_end_line, first)
            if not first and item.meta.line - self.last_line > 1 and self.lines[-1]:
                self._emit("")
            self._statement(item, indent)
            first = False
            prev_end_line = item.meta.end_line
            start = item.meta.end_pos
            self.last_line = max(self.last_line, item.meta.end_line)
        self._gap(start, end, indent, prev_end_line, first)

    def _gap(self, start: int, end: int, indent: str, prev_end_line: int | None,
             first: bool) -> None:
        """Comments between statements: at the end of the line before, or on their own."""
        for comment in self._comments(start, end):
            if prev_end_line is not None and comment.line == prev_end_line and self.lines:
                self._trail(comment)
                continue
            if self.lines and self.lines[-1] and comment.line - self.last_line > 1 and (
                    not first or prev_end_line is not None):
                self._emit("")
            self._comment_lines(comment, indent)
            prev_end_line = None

    def _statement(self, st: Tree, indent: str) -> None:  # type: ignore[type-arg]
        kind = st.data
        if kind in ("if_stmt", "for_each", "for_index", "function_def"):
            blocks = [c for c in st.children if isinstance(c, Tree) and c.data == "block"]
            self._header(st.meta.start_pos, blocks[0], indent, kind == "function_def")
            self._block(blocks[0], indent)
            if kind == "if_stmt":
                for clause in st.children[3:]:
                    if clause is None:
                        continue
                    block = clause.children[-1]
                    self._gap(self._block_end, clause.meta.start_pos, indent,
                              self._block_end_line, False)
                    self._header(clause.meta.start_pos, block, indent)
                    self._block(block, indent)
        elif kind == "try_stmt":
            _try, body, catch, _name, handler = st.children
            self._header(st.meta.start_pos, body, indent)
            self._block(body, indent)
            self._gap(self._block_end, catch.start_pos, indent, self._block_end_line, False)
            self._header(catch.start_pos, handler, indent)
            self._block(handler, indent)
        elif kind == "bare_block":
            self._brace_block(st, [c for c in st.children if isinstance(c, Tree)], indent)
        else:
            self._inline(self._tokens(st.meta.start_pos, st.meta.end_pos), indent)

    def _header(self, start: int, block: Tree, indent: str,  # type: ignore[type-arg]
                function: bool = False) -> None:
        self._inline(self._tokens(start, block.meta.start_pos), indent, function)
        header_end = self.last_token_end
        for comment in self._comments(header_end, block.meta.start_pos):
            self._trail(comment)

    def _block(self, block: Tree, indent: str) -> None:  # type: ignore[type-arg]
        self._brace_block(block, [c for c in block.children if isinstance(c, Tree)], indent)

    def _brace_block(self, node: Tree, items: list[Tree], indent: str) -> None:  # type: ignore[type-arg]
        self._emit(indent + "{")
        self.last_line = node.meta.line
        start = node.meta.start_pos + 1
        end = node.meta.end_pos - 1
        prev = node.meta.line
        for comment in self._comments(start, items[0].meta.start_pos if items else end):
            if comment.line == prev:
                self._trail(comment)
        self.last_line = node.meta.line
        self._items(items, indent + INDENT, start, end)
        self._emit(indent + "}")
        self.last_line = node.meta.end_line
        self._block_end = node.meta.end_pos
        self._block_end_line = node.meta.end_line

    # ---- a statement's tokens ------------------------------------------------------------
    def _inline(self, tokens: list[Token], indent: str, header: bool = False) -> None:
        """Print a run of tokens from `indent`, keeping the author's line breaks (one
        level deeper) and the comments between them."""
        line = indent
        before: Token | None = None
        prev: Token | None = None
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            if prev is not None:
                line, broke = self._between(prev, tok, line)
                line = indent + INDENT if broke else line + _space(before, prev, tok, header)
            block = i + 1 < len(tokens) and tokens[i + 1].type == "LSQB"  # not invokeUrl(...)
            if block and (tok.type in _TASK_WORDS or
                          (tok.type == "NAME" and _is_creator_task(tokens, i))):
                end = _matching(tokens, i + 1)
                if end is not None:
                    line = self._task_block(tokens[i + 1: end + 1], line + str(tok), indent)
                    before, prev = tok, tokens[end]
                    i = end + 1
                    continue
            line += _token_text(tok)
            before, prev = prev, tok
            i += 1
        self._emit(line)
        if prev is not None:
            self.last_token_end = prev.end_pos
            self.last_line = prev.end_line or prev.line

    def _between(self, prev: Token, tok: Token, line: str) -> tuple[str, bool]:
        """Comments between two tokens of a statement, and the author's line breaks:
        (the line so far, whether it was printed and `tok` starts a new one)."""
        for comment in self._comments(prev.end_pos, tok.start_pos):
            line = line + " " + str(comment)
            self.done.add(comment.start_pos)
            if comment.type == "LINE_COMMENT" or "\n" in str(comment):
                self._emit(line)
                return "", True
        if tok.line > (prev.end_line or prev.line):
            self._emit(line)
            return "", True
        return line, False

    def _task_block(self, tokens: list[Token], line: str, indent: str) -> str:
        """`[ key: value ... ]` (tokens from `[` to `]`), as the vendor's editor lays it
        out: `[` and `]` on their own lines, one parameter a line between them. Returns
        the line the `]` is on."""
        params = _split_params(tokens[1:-1])
        self._emit(line)
        self._emit(indent + "[")
        inner = indent + INDENT
        prev_end = tokens[0]
        for param in params:
            for comment in self._comments(prev_end.end_pos, param[0].start_pos):
                if comment.line == (prev_end.end_line or prev_end.line) and self.lines:
                    self._trail(comment)
                else:
                    self._comment_lines(comment, inner)
            self._inline(param, inner)
            prev_end = param[-1]
        for comment in self._comments(prev_end.end_pos, tokens[-1].start_pos):
            if comment.line == (prev_end.end_line or prev_end.line):
                self._trail(comment)
            else:
                self._comment_lines(comment, inner)
        return indent + "]"


def _token_text(tok: Token) -> str:
    if tok.type == "TASK_KEY":
        key = " ".join(str(tok).rstrip(":").split())
        return key + (" :" if key.lower() in _SPACED_KEYS else ":")
    return str(tok)


def _matching(tokens: list[Token], i: int) -> int | None:
    """The index of the bracket closing the one at i."""
    if i >= len(tokens) or tokens[i].type not in _OPENERS:
        return None
    depth = 0
    for j in range(i, len(tokens)):
        if tokens[j].type in _OPENERS:
            depth += 1
        elif tokens[j].type in _OPENERS.values():
            depth -= 1
            if depth == 0:
                return j
    return None


def _is_creator_task(tokens: list[Token], i: int) -> bool:
    """`sendsms [ to: ... ]`: a name, `[`, then a task parameter."""
    return (i == 0 and i + 2 < len(tokens) and tokens[i + 1].type == "LSQB"
            and tokens[i + 2].type == "TASK_KEY")


def _split_params(tokens: list[Token]) -> list[list[Token]]:
    """The parameters of a task block, each from its `key:` to the end of its value."""
    params: list[list[Token]] = []
    depth = 0
    for tok in tokens:
        if tok.type == "TASK_KEY" and depth == 0:
            params.append([tok])
            continue
        if tok.type in _OPENERS:
            depth += 1
        elif tok.type in _OPENERS.values():
            depth -= 1
        if params:
            params[-1].append(tok)
        else:
            params.append([tok])
    return params
