"""Editor features over an analyzed Document: completion, hover, signature help,
definitions, references and document symbols, independent of any protocol.

While the author types, the text usually does not parse: completion and signature help
read the current line (and the text before the cursor) and take types and names from
the last Document that did parse (`Document.tree` set), so they answer on every keystroke
in constant time per request.
"""

from __future__ import annotations

__all__ = [
    "Completion",
    "Hover",
    "SignatureInfo",
    "complete",
    "definition",
    "hover",
    "references",
    "signature_help",
    "symbols",
]

import re
from dataclasses import dataclass, field

from sluicegate.translator import TASK_PARAMETERS, USER_NAMESPACES
from sluicegate.values import DATETIME, TEXT

from .catalog import (
    KEYWORDS,
    SYSTEM_VALUES,
    Signature,
    builtin_functions,
    methods_for,
    tasks,
)
from .model import Document, Scope, Span, Symbol
from .types import ZOHO_TYPES


@dataclass
class Completion:
    label: str
    kind: str               # keyword, function, method, task, variable, module, value, property
    detail: str = ""
    documentation: str = ""
    insert_text: str | None = None


@dataclass
class Hover:
    text: str               # Markdown
    span: Span


@dataclass
class SignatureInfo:
    label: str
    parameters: list[str]
    active_parameter: int
    documentation: str = ""


@dataclass
class SymbolInfo:
    name: str
    kind: str               # function, variable
    span: Span
    selection: Span
    detail: str = ""
    children: list[SymbolInfo] = field(default_factory=list)


_CONNECTION = re.compile(r"connection\s*:\s*[\"']([\w\-.]*)$", re.IGNORECASE)
_TASK_KEY_START = re.compile(r"^\s*([\w\-]*)$")
_QUALIFIED = re.compile(r"((?:[A-Za-z_]\w*\.)+)(\w*)$")
_AFTER_DOT = re.compile(r"(\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|\)|\]|\})\s*\.(\w*)$")
_WORD = re.compile(r"(\w*)$")


def _line_prefix(text: str, line: int, column: int) -> str:
    lines = text.split("\n")
    if not 1 <= line <= len(lines):
        return ""
    return lines[line - 1][: column - 1]


def complete(doc: Document | None, text: str, line: int, column: int,
             connections: set[str] | None = None) -> list[Completion]:
    """What may be typed at (line, column) of `text` (1-based; column is where the cursor is).

    `doc` is the last Document of this text that parsed (or None)."""
    prefix = _line_prefix(text, line, column)
    m = _CONNECTION.search(prefix)
    if m:
        return [Completion(name, "value", "connection") for name in sorted(connections or ())]
    if _in_text_or_comment(prefix):
        return []
    m = _QUALIFIED.search(prefix)
    if m and not _AFTER_DOT.search(prefix):
        qual = m.group(1)[:-1]
        root = qual.split(".", 1)[0].lower()
        if root == "zoho" and qual.lower() not in ZOHO_TYPES:
            return _zoho_completions(qual)
        if root in USER_NAMESPACES:
            return _user_function_completions(doc, qual)
        return _method_completions(_receiver_type(doc, qual, line))
    m = _AFTER_DOT.search(prefix)
    if m:
        quote = m.group(1)[0]
        return _method_completions(TEXT if quote in "\"'" else None)
    block = _task_block_at(text, line, column)
    if block is not None and _TASK_KEY_START.match(prefix):
        return [Completion(f"{key}:", "property", f"{block} parameter", insert_text=f"{key}: ")
                for key in sorted(TASK_PARAMETERS[block])]
    return _word_completions(doc, line)


_TEXT_OR_COMMENT = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|(//.*)|(["\'])')


def _in_text_or_comment(prefix: str) -> bool:
    """Whether the cursor at the end of this line prefix is inside a text or a comment
    (a text or block comment opened on an earlier line is not seen: rare while typing)."""
    for m in _TEXT_OR_COMMENT.finditer(prefix):
        if m.group(1) is not None or m.group(2) is not None:
            return True  # a `//` comment, or a quote that is not closed before the cursor
    return False


def _zoho_completions(qual: str) -> list[Completion]:
    """`zoho.` → `crm`, `books`, `currentdate`, ...; `zoho.crm.` → its tasks."""
    head = qual.lower() + "."
    found: dict[str, Completion] = {}
    for key, sig in tasks().items():
        if not key.startswith(head):
            continue
        rest = sig.name[len(head):]
        if "." in rest:
            part = rest.split(".", 1)[0]
            found.setdefault(part, Completion(part, "module", f"{qual}.{part}"))
        else:
            found.setdefault(rest, _signature_completion(sig, rest, "task"))
    for value in SYSTEM_VALUES:
        if value.startswith(head) and "." not in value[len(head):]:
            part = value[len(head):]
            found.setdefault(part, Completion(part, "value", "system value"))
    return sorted(found.values(), key=lambda c: c.label.lower())


def _signature_completion(sig: Signature, label: str, kind: str) -> Completion:
    args = ", ".join(f"${{{i + 1}:{p}}}" for i, p in enumerate(sig.params[: sig.min_args]))
    return Completion(label, kind, sig.label(), sig.doc, f"{label}({args})")


def _user_function_completions(doc: Document | None, qual: str) -> list[Completion]:
    out = []
    for scope in doc.scopes if doc else ():
        if scope.name.lower().startswith(qual.lower() + "."):
            rest = scope.name[len(qual) + 1:]
            params = ", ".join(f"{t} {n}" for t, n in scope.params)
            out.append(Completion(rest, "function", f"{scope.return_type} {scope.name}({params})"))
    return out


def _receiver_type(doc: Document | None, qual: str, line: int) -> str | None:
    if qual.lower() in ZOHO_TYPES:
        return ZOHO_TYPES[qual.lower()]
    if doc is None or "." in qual:
        return None
    scope = doc.scope_at(line)
    sym = scope.symbols.get(qual) if scope else None
    if qual in ("now", "today") and (sym is None or sym.kind == "input"):
        return DATETIME  # the system value, unless the function assigns the name
    return sym.type if sym else None


def _method_completions(type_tag: str | None) -> list[Completion]:
    return [_signature_completion(sig, sig.name, "method")
            for sig in sorted({id(s): s for s in methods_for(type_tag).values()}.values(),
                              key=lambda s: s.name.lower())]


def _word_completions(doc: Document | None, line: int) -> list[Completion]:
    out = [Completion(k, "keyword") for k in KEYWORDS]
    out.append(Completion("for each", "keyword", insert_text="for each  ${1:item} in ${2:list}"))
    seen: set[str] = set()
    for sig in builtin_functions().values():
        if sig.name.lower() not in seen:
            seen.add(sig.name.lower())
            out.append(_signature_completion(sig, sig.name, "function"))
    out.append(Completion("zoho", "module", "integration tasks and system values"))
    scope = doc.scope_at(line) if doc else None
    for sym in scope.symbols.values() if scope else ():
        out.append(Completion(sym.name, "variable", _symbol_detail(sym)))
    for fn in doc.scopes if doc else ():
        if fn.name:
            params = ", ".join(f"{t} {n}" for t, n in fn.params)
            out.append(Completion(fn.name, "function", f"{fn.return_type} {fn.name}({params})"))
    return out


def _symbol_detail(sym: Symbol) -> str:
    if sym.kind == "input" and sym.name in ("now", "today"):
        return f"system value: DATETIME ({'the current time' if sym.name == 'now' else 'today'})"
    kind = {"input": "input", "parameter": "parameter", "loop": "loop variable",
            "catch": "caught error"}.get(sym.kind, "variable")
    return f"{kind}: {sym.type}" if sym.type else kind


def _task_block_at(text: str, line: int, column: int) -> str | None:
    """The task (`invokeurl`, ...) whose `[ ... ]` holds the cursor, if any."""
    offset = _offset(text, line, column)
    start = max(text.rfind("[", 0, offset), -1)
    if start < 0 or "]" in text[start:offset]:
        return None
    m = re.search(r"(invokeurl|invokeapi|sendmail)\s*$", text[max(0, start - 40):start], re.IGNORECASE)
    return m.group(1).lower() if m else None


def _offset(text: str, line: int, column: int) -> int:
    start = 0
    for _ in range(line - 1):
        nl = text.find("\n", start)
        if nl < 0:
            return len(text)
        start = nl + 1
    return start + column - 1


# ---- hover -------------------------------------------------------------------------------
def hover(doc: Document, line: int, column: int) -> Hover | None:
    call = doc.call_at(line, column)
    if call is not None:
        if call.user_function is not None:
            scope = doc.functions().get(call.user_function)
            if scope is not None:
                return Hover(f"```deluge\n{_header(scope)}\n```", call.name_span)
        if call.signature is not None:
            sig = call.signature
            text = f"```deluge\n{sig.label()}\n```"
            if sig.doc:
                text += f"\n\n{sig.doc}"
            return Hover(text, call.name_span)
    found = doc.symbol_at(line, column)
    if found is not None:
        scope, sym = found
        return Hover(f"```deluge\n{sym.name}\n```\n{_symbol_detail(sym)}", _at(sym, line, column))
    for scope in doc.scopes:
        if scope.name_span and scope.name_span.contains(line, column):
            return Hover(f"```deluge\n{_header(scope)}\n```", scope.name_span)
    return None


def _header(scope: Scope) -> str:
    params = ", ".join(f"{t} {n}" for t, n in scope.params)
    return f"{scope.return_type} {scope.name}({params})"


def _at(sym: Symbol, line: int, column: int) -> Span:
    for ref in sym.references:
        if ref.span.contains(line, column):
            return ref.span
    return sym.definition


# ---- signature help ----------------------------------------------------------------------
def signature_help(doc: Document | None, text: str, line: int,
                   column: int) -> SignatureInfo | None:
    """The call whose `(` the cursor is inside, read from the text (it may not parse)."""
    offset = _offset(text, line, column)
    found = _open_call(text, offset)
    if found is None:
        return None
    name, index = found
    sig = _signature_for(doc, name, line)
    if sig is None:
        return None
    label, params, documentation = sig
    return SignatureInfo(label, params, min(index, max(len(params) - 1, 0)), documentation)


def _open_call(text: str, offset: int) -> tuple[str, int] | None:
    """(the name before the innermost open `(` before offset, the argument index)."""
    depth = 0
    commas = 0
    i = offset - 1
    start = max(0, offset - 4000)  # a call's arguments are never this long
    while i >= start:
        ch = text[i]
        if ch in "\"'":
            j = text.rfind(ch, start, i)
            while j > start and text[j - 1] == "\\":
                j = text.rfind(ch, start, j - 1)
            if j < 0:
                return None
            i = j - 1
            continue
        if ch in ")]}":
            depth += 1
        elif ch in "([{":
            if depth == 0:
                if ch != "(":
                    return None
                m = re.search(r"([A-Za-z_][\w.]*)\s*$", text[max(start, i - 200):i])
                return (m.group(1), commas) if m else None
            depth -= 1
        elif ch == "," and depth == 0:
            commas += 1
        elif ch == ";" and depth == 0:
            return None
        i -= 1
    return None


def _signature_for(doc: Document | None, name: str,
                   line: int) -> tuple[str, list[str], str] | None:
    low = name.lower()
    if doc is not None:
        scope = doc.functions().get(low) or next(
            (s for k, s in doc.functions().items() if k.rsplit(".", 1)[-1] == low), None)
        if scope is not None:
            params = [f"{t} {n}" for t, n in scope.params]
            return _header(scope), params, ""
    sig = tasks().get(low)
    if sig is None and "." not in low:
        sig = builtin_functions().get(low)
        if sig is not None and sig.kind == "method":  # function form: receiver first
            params = ["value", *sig.params]
            label = f"{sig.name}({', '.join(params)})"
            return (f"{label} -> {sig.returns}" if sig.returns else label), params, sig.doc
    if sig is None and "." in low:
        qual, method = name.rsplit(".", 1)
        sig = methods_for(_receiver_type(doc, qual, line)).get(method.lower())
    if sig is None:
        return None
    return sig.label(), list(sig.params), sig.doc


# ---- definitions, references, symbols ----------------------------------------------------
def definition(doc: Document, line: int, column: int) -> Span | None:
    call = doc.call_at(line, column)
    if call is not None and call.user_function is not None:
        scope = doc.functions().get(call.user_function)
        return scope.name_span if scope else None
    found = doc.symbol_at(line, column)
    return found[1].definition if found else None


def references(doc: Document, line: int, column: int,
               include_declaration: bool = True) -> list[Span]:
    call = doc.call_at(line, column)
    key = call.user_function if call is not None else None
    if key is None:
        for scope in doc.scopes:
            if scope.name_span and scope.name_span.contains(line, column):
                key = scope.name.lower()
    if key is not None:
        spans = [c.name_span for c in doc.calls if c.user_function == key]
        scope = doc.functions().get(key)
        if include_declaration and scope is not None and scope.name_span is not None:
            spans.insert(0, scope.name_span)
        return spans
    found = doc.symbol_at(line, column)
    if found is None:
        return []
    sym = found[1]
    spans = [r.span for r in sym.references]
    if include_declaration and sym.definition not in spans:
        spans.insert(0, sym.definition)
    return sorted(set(spans))


def symbols(doc: Document) -> list[SymbolInfo]:
    out = []
    for scope in doc.scopes:
        variables = [SymbolInfo(s.name, "variable", s.definition, s.definition,
                                _symbol_detail(s))
                     for s in scope.symbols.values() if s.kind != "input"]
        if scope.name:
            out.append(SymbolInfo(scope.name, "function", scope.span,
                                  scope.name_span or scope.span, _header(scope), variables))
        else:
            out.extend(variables)
    return out
