"""executeXPath: a small XPath over XML text (or JSON text / a MAP read as XML), bounded.

A document is parsed by expat with the run's limits counted as it goes: elements nested
deeper than the nesting limit or more of them than the collection limit raise
LimitExceeded, and a DOCTYPE, entity declaration or external reference is refused before
anything is expanded. Evaluation charges its work to the run (limits.spend), `//` is
linear in the document, and the result is measured as it is joined.
Zoho Deluge docs: XML functions > executeXPath.
"""

from __future__ import annotations

__all__ = ["METHODS", "execute_xpath"]

import json
import re
from decimal import Decimal
from typing import Any

from sluicegate.errors import LimitExceeded, ScriptRuntimeError
from sluicegate.limits import PYTHON_STEP, check_text, current, spend
from sluicegate.values import display

from .builtin import Builtin, OnFirstUse, method
from .text import _SMALL, _text


# imported when first used (cold start): most runs never read XML
ET: Any = OnFirstUse("xml.etree.ElementTree", globals(), "ET")
expat: Any = OnFirstUse("xml.parsers.expat", globals(), "expat")


_DOCTYPE = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_STEP = re.compile(r"\s*(@?[^\[\]\s/]+|\.\.|\.)\s*((?:\[[^\]]*\]\s*)*)$")
_PREDICATE = re.compile(r"\[([^\]]*)\]")
_COMPARE = re.compile(r"""^\s*(@?[\w.:\-]+(?:\(\))?)\s*(!?=)\s*(?:'([^']*)'|"([^"]*)"|(\S+))\s*$""")


class _Doc:
    """The document node above the root element."""

    __slots__ = ("root",)

    def __init__(self, root: ET.Element) -> None:
        self.root = root


class _Attr:
    __slots__ = ("name", "value")

    def __init__(self, name: str, value: str) -> None:
        self.name = name
        self.value = value


def _xpath_error(path: str, why: str) -> ScriptRuntimeError:
    return ScriptRuntimeError(f"executeXPath: invalid XPath '{path}': {why}")


def _local(tag: Any) -> str:
    tag = str(tag)
    return tag.rsplit("}", 1)[-1] if tag.startswith("{") else tag


def _name_matches(tag: Any, test: str) -> bool:
    return test == "*" or _local(tag) == test.rsplit(":", 1)[-1]


def _split_path(path: str) -> list[tuple[bool, str]]:
    """Split an XPath into (descendant axis?, step text), honouring brackets and quotes."""
    s = path.strip()
    steps: list[tuple[bool, str]] = []
    i = 0
    descendant = False
    if s.startswith("//"):
        descendant, i = True, 2
    elif s.startswith("/"):
        i = 1
    if i >= len(s):
        return steps
    while True:
        j = i
        depth = 0
        quote = ""
        while j < len(s):
            ch = s[j]
            if quote:
                if ch == quote:
                    quote = ""
            elif ch in "'\"":
                quote = ch
            elif ch == "[":
                depth += 1
            elif ch == "]":
                depth -= 1
            elif ch == "/" and depth == 0:
                break
            j += 1
        steps.append((descendant, s[i:j]))
        if j >= len(s):
            return steps
        descendant = s.startswith("//", j)
        i = j + (2 if descendant else 1)


def _children(node: Any) -> list[Any]:
    if isinstance(node, _Doc):
        return [node.root]
    if isinstance(node, ET.Element):
        return list(node)
    return []


def _text_nodes(node: Any) -> list[str]:
    """The text() children of an element: its text and the tails of its children."""
    if not isinstance(node, ET.Element):
        return []
    out = [node.text] if node.text else []
    out.extend(c.tail for c in node if c.tail)
    return out


def _self_and_descendants(nodes: list[Any]) -> list[Any]:
    """`//`: every node at or below the context nodes, in document order, once each.

    A context node already listed lies below an earlier one, and so does everything under
    it: skipping it keeps `//a//a//a` linear in the document's size."""
    out: list[Any] = []
    seen: set[int] = set()
    for node in nodes:
        if id(node) in seen:
            continue
        if isinstance(node, _Doc):
            below: list[Any] = [node, *node.root.iter()]
        elif isinstance(node, ET.Element):
            below = list(node.iter())
        else:
            continue
        spend(64 * len(below))
        for item in below:
            if id(item) not in seen:
                seen.add(id(item))
                out.append(item)
    return out


def _string_value(node: Any) -> str:
    if isinstance(node, ET.Element):
        text = "".join(node.itertext())
        spend(len(text) + 64)  # [.='v'] on every node of a deep document is quadratic
        return text
    if isinstance(node, _Attr):
        return node.value
    if isinstance(node, _Doc):
        return "".join(node.root.itertext())
    return str(node)


def _predicate(path: str, expr: str, items: list[Any]) -> list[Any]:
    e = expr.strip()
    if e.isdigit():
        k = int(e)
        return items[k - 1:k] if k >= 1 else []
    if e == "last()":
        return items[-1:]
    m = _COMPARE.match(e)
    if m is not None:
        lhs, op, value = m.group(1), m.group(2), next(
            g for g in (m.group(3), m.group(4), m.group(5)) if g is not None)
        if lhs == "position()":
            if not value.isdigit():
                raise _xpath_error(path, f"unsupported predicate [{expr}]")
            k = int(value)
            return [x for i, x in enumerate(items, 1) if (i == k) == (op == "=")]
        return [x for x in items if _compare(x, lhs, value) == (op == "=")]
    if re.fullmatch(r"@?[\w.:\-]+", e):
        return [x for x in items if _exists(x, e)]
    raise _xpath_error(path, f"unsupported predicate [{expr}]")


def _values(node: Any, lhs: str) -> list[str]:
    if not isinstance(node, ET.Element):
        return [_string_value(node)] if lhs == "." else []
    if lhs.startswith("@"):
        value = node.get(lhs[1:])
        return [] if value is None else [value]
    if lhs == "text()":
        return _text_nodes(node)
    if lhs == ".":
        return [_string_value(node)]
    return [_string_value(c) for c in node if _name_matches(c.tag, lhs)]


def _compare(node: Any, lhs: str, value: str) -> bool:
    return value in _values(node, lhs)


def _exists(node: Any, lhs: str) -> bool:
    if not isinstance(node, ET.Element):
        return False
    if lhs.startswith("@"):
        return node.get(lhs[1:]) is not None
    return any(_name_matches(c.tag, lhs) for c in node)


def _evaluate(path: str, doc: _Doc) -> list[Any]:
    steps = _split_path(path)
    nodes: list[Any] = [doc]
    if not steps:
        return [doc.root] if path.strip().startswith("/") else []
    parents: dict[int, Any] | None = None
    for descendant, text in steps:
        spend(PYTHON_STEP * len(nodes))
        m = _STEP.match(text)
        if m is None or not text.strip():
            raise _xpath_error(path, f"unsupported step '{text}'")
        test, preds = m.group(1), _PREDICATE.findall(m.group(2) or "")
        if descendant:
            nodes = _self_and_descendants(nodes)
        result: list[Any] = []
        seen: set[int] = set()
        for node in nodes:
            if test == ".":
                found = [node]
            elif test == "..":
                if parents is None:
                    parents = {id(c): p for p in doc.root.iter() for c in p}
                    parents[id(doc.root)] = doc
                found = [parents[id(node)]] if id(node) in parents else []
            elif test == "text()":
                found = _text_nodes(node)
            elif test == "node()":
                found = _children(node) + _text_nodes(node)
            elif test.startswith("@"):
                found = [_Attr(_local(k), v) for k, v in
                         (node.attrib.items() if isinstance(node, ET.Element) else ())
                         if test == "@*" or _local(k) == test[1:]]
            elif test.endswith(")"):
                raise _xpath_error(path, f"unsupported function {test}")
            else:
                found = [c for c in _children(node) if _name_matches(c.tag, test)]
            for pred in preds:
                found = _predicate(path, pred, found)
            for item in found:
                if isinstance(item, (str, _Attr)) or id(item) not in seen:
                    seen.add(id(item))
                    result.append(item)
        nodes = result
    return nodes


def _serialize(node: Any) -> str:
    if isinstance(node, str):
        return node
    if isinstance(node, _Attr):
        # The vendor chains `.executeXPath("/a/@href").executeXpath("/href/text()")`,
        # so an attribute comes back as an element named after it.
        element = ET.Element(node.name)
        element.text = node.value
        return ET.tostring(element, encoding="unicode")
    if isinstance(node, _Doc):
        node = node.root
    tail = node.tail
    node.tail = None
    try:
        return ET.tostring(node, encoding="unicode")
    finally:
        node.tail = tail


def _json_to_xml(value: Any, tag: str, depth: int = 0) -> ET.Element:
    limits = current().limits
    if depth > limits.max_nesting:
        raise _xml_too_deep(limits.max_nesting)
    spend(PYTHON_STEP)
    element = ET.Element(tag)
    if isinstance(value, dict):
        for key, item in value.items():
            name = display(key)
            if isinstance(item, list):
                for sub in item:
                    element.append(_json_to_xml(sub, name, depth + 1))
            else:
                element.append(_json_to_xml(item, name, depth + 1))
    elif isinstance(value, list):
        for sub in value:
            element.append(_json_to_xml(sub, "element", depth + 1))
    elif value is not None:
        element.text = display(value)
    return element


def _xml_too_deep(limit: int) -> LimitExceeded:
    return LimitExceeded(f"executeXPath: XML nesting limit of {limit} levels exceeded",
                         limit="nesting")


def _parse_xml(text: str) -> ET.Element:
    """Parse XML with expat, counting as it goes: elements nested deeper than the run's
    nesting limit or more of them than its collection limit raise LimitExceeded, and a
    DOCTYPE, entity declaration or external reference is refused before any expansion
    (the defusedxml rules, for a parser that never needs them)."""
    limits = current().limits
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate(namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    depth = 0
    count = 0

    def start(tag: str, attrs: dict[str, str]) -> None:
        nonlocal depth, count
        depth += 1
        count += 1
        if depth > limits.max_nesting:
            raise _xml_too_deep(limits.max_nesting)
        if count > limits.max_elements:
            raise LimitExceeded(f"executeXPath: XML element limit of {limits.max_elements} "
                                "exceeded", limit="elements")
        builder.start(_clark(tag), {_clark(k): v for k, v in attrs.items()})

    def end(tag: str) -> None:
        nonlocal depth
        depth -= 1
        builder.end(_clark(tag))

    def refuse(*_args: Any) -> None:
        raise ScriptRuntimeError(
            "executeXPath: documents with a DOCTYPE or ENTITY declaration are not accepted")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = builder.data
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse  # type: ignore[assignment]
    parser.buffer_text = True
    parser.ordered_attributes = False
    chunk = 1 << 16
    try:
        for i in range(0, len(text), chunk):
            parser.Parse(text[i:i + chunk], False)
            spend(chunk)
        parser.Parse("", True)
    except expat.ExpatError as exc:
        raise ScriptRuntimeError("executeXPath: the text is not well-formed XML: "
                                 f"{expat.ErrorString(exc.code)}: line {exc.lineno}, "
                                 f"column {exc.offset}") from None
    return builder.close()


def _clark(name: str) -> str:
    """expat's `uri}local` as ElementTree's `{uri}local`."""
    return "{" + name if "}" in name else name


def _document(source: Any) -> _Doc:
    if isinstance(source, dict):
        return _Doc(_json_to_xml(source, "root"))
    text = source.strip()
    if text[:1] in ("{", "["):
        try:
            data = json.loads(text, parse_float=Decimal)
        except ValueError:
            pass
        else:
            return _Doc(_json_to_xml(data, "root"))
    if _DOCTYPE.search(text):
        raise ScriptRuntimeError(
            "executeXPath: documents with a DOCTYPE or ENTITY declaration are not accepted")
    return _Doc(_parse_xml(text))


def execute_xpath(source: Any, path: Any) -> str:
    """Evaluate a simple XPath on XML text (or JSON text / a MAP, read as XML under a
    `root` element) and return the matches concatenated: an element as its XML, text()
    as text, an attribute as <name>value</name>; no match gives "" (chosen).
    Supported: /a/b, a/b, //b, *, ., .., text(), @name, @*, and predicates [n], [last()],
    [@a], [@a='v'], [b], [b='v'], [text()='v'], [position()=n].
    DOCTYPE/ENTITY declarations are refused (no entity expansion).
    Zoho Deluge docs: XML functions > executeXPath
    (https://www.zoho.com/creator/newhelp/script/built-in-functions/built-in-function-xml-execute.html)."""
    xpath = _text("executeXPath", 1, path)
    doc = _document(source)
    parts: list[str] = []
    size = 0
    for node in _evaluate(xpath, doc):
        piece = _serialize(node)
        size += len(piece)
        if size > _SMALL:
            check_text(size)  # every match of `//*` repeats the document below it
        parts.append(piece)
    return "".join(parts)


METHODS: list[Builtin] = [
    method("executeXPath", execute_xpath, ("TEXT", "MAP"), 1),
]
