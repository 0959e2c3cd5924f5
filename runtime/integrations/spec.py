"""The shape of an integration task: its parameters, a request builder, a response shaper.

A service module lists its tasks as `Task` rows. Both functions of a row are pure (no I/O,
no run context): `build` turns the bound arguments into an `ApiRequest` (method, path below
the service's API root, query, headers, JSON body, form or file parts), `shape` turns the
vendor's answer (`ApiResponse`: status and parsed body) into the value the vendor's Deluge
task returns. The runner (`runner.py`) sends requests through the run's broker; a test fake
or the workbench can answer the same requests from a store instead.

Parameters are written compactly, `"module:text, id:text, query:map|text?"`: a name, the
kinds it accepts (`text number map list file any`, joined by `|`), the words a TEXT parameter
takes in brackets (`sort_order:text[asc/desc]?`: such a word is never read as the trailing
connection), `?` when optional. Every
task also takes a trailing connection link name, which the vendor puts last, after any
optional argument; it is not written in the row.
"""

from __future__ import annotations

__all__ = ["Param", "Pick", "ApiRequest", "ApiResponse", "Task", "task", "params", "seg",
           "text", "query_pairs", "CONNECTION"]

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from sluicegate.values import display

KINDS = frozenset({"text", "number", "map", "list", "file", "any"})


@dataclass(frozen=True)
class Param:
    """One parameter: its name, the kinds of value it accepts, whether it may be left out."""

    name: str
    kinds: tuple[str, ...]
    optional: bool = False
    words: tuple[str, ...] = ()            # lower-case words it takes (`asc`, `desc`)

    @property
    def kind(self) -> str:
        return "|".join(self.kinds)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "kind": self.kind,
                               "optional": self.optional}
        if self.words:
            out["words"] = list(self.words)
        return out


CONNECTION = Param("connection", ("text",), True)


@dataclass(frozen=True)
class Pick:
    """The part of the answer's record LIST a task gives when the API cannot be asked for
    exactly that part: `count` records after the first `skip` (an index range inside the
    API page asked for), each with only `fields` (and its `id`) when the API cannot select
    fields itself. None: all of them."""

    skip: int = 0
    count: int | None = None
    fields: tuple[str, ...] | None = None


@dataclass
class ApiRequest:
    """A request as the vendor's REST reference documents it, below the service's API root
    (`/tickets/search`, not `https://desk.zoho.com/api/v1/tickets/search`)."""

    method: str
    path: str
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    json: Any = None                      # a Deluge value, sent as the JSON body
    form: list[tuple[str, str]] = field(default_factory=list)
    files: list[tuple[str, str, str, bytes]] = field(default_factory=list)
    as_file: bool = False                 # the answer is a document (FILE), not JSON
    api: str | None = None                # another API root of the service (see runner)
    pick: Pick | None = None              # what the shaper keeps of the records answered
    pages: int = 1                        # pages read from the `page` query parameter on,
                                          # their records joined before `pick` (a range
                                          # that no single page of the API holds)

    def __post_init__(self) -> None:
        if self.pages > 1 and not any(name == "page" for name, _ in self.query):
            # a task table's mistake, not a script's: the later pages could not be asked
            raise ValueError(f"{self.path}: pages={self.pages} needs a 'page' parameter")


@dataclass(frozen=True)
class ApiResponse:
    """The vendor's answer: its status and its body as a Deluge value (MAP, LIST, TEXT, or
    FILE for requests with `as_file`), with the `pick` of the request it answers."""

    status: int
    value: Any
    pick: Pick | None = None


@dataclass(frozen=True)
class Task:
    """One row of a service table."""

    name: str                              # canonical spelling, `zoho.desk.searchRecords`
    service: str                           # the service kind: crm, books, desk, creator...
    params: tuple[Param, ...]              # without the trailing connection
    build: Callable[[dict[str, Any]], ApiRequest]
    shape: Callable[[ApiResponse], Any]
    returns: str                           # MAP, LIST, TEXT, FILE or ANY
    summary: str                           # one line, for completion and `check`
    reference: str                         # the vendor page the row follows
    aliases: tuple[str, ...] = ()          # other spellings the vendor documents

    @property
    def min_args(self) -> int:
        return sum(1 for p in self.params if not p.optional)

    @property
    def max_args(self) -> int:
        return len(self.params) + 1       # and the connection


def params(spec: str) -> tuple[Param, ...]:
    """`"module:text, id:text, sort_order:text[asc/desc]?"` as Param rows."""
    out = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        name, _, kinds = part.partition(":")
        optional = kinds.endswith("?")
        kinds, _, words = kinds.rstrip("?").partition("[")
        kind_list = tuple(kinds.split("|"))
        if not name or not set(kind_list) <= KINDS or (words and not words.endswith("]")):
            raise ValueError(f"bad parameter spec '{part}'")
        word_list = tuple(w.lower() for w in words.rstrip("]").split("/") if w)
        out.append(Param(name.strip(), kind_list, optional, word_list))
    return tuple(out)


def task(name: str, spec: str, build: Callable[[dict[str, Any]], ApiRequest],
         shape: Callable[[ApiResponse], Any], returns: str, summary: str, reference: str,
         aliases: tuple[str, ...] = (), service: str | None = None) -> Task:
    """A row: the service kind is the second part of the name (`zoho.<kind>.<task>`)
    unless another is given (`zoho.subscriptions.*` uses the `billing` service)."""
    return Task(name, service or name.split(".")[1].lower(), params(spec), build, shape,
                returns, summary, reference, aliases)


def text(value: Any) -> str:
    """An argument as the text a URL or header carries (ids arrive as NUMBER or TEXT)."""
    return value if isinstance(value, str) else display(value)


def seg(value: Any) -> str:
    """One path segment, percent-encoded so an id or name cannot change the path."""
    return quote(text(value), safe="")


def query_pairs(value: Any) -> list[tuple[str, str]]:
    """Extra query parameters: a MAP, or TEXT written `a=1&b=2`; null gives none."""
    if isinstance(value, dict):
        return [(display(k), v if isinstance(v, str) else display(v))
                for k, v in value.items()]
    if isinstance(value, str) and value:
        return [(k, v) for k, _, v in (part.partition("=") for part in value.split("&"))
                if k]
    return []


def number_text(value: Any, default: int) -> str:
    """A page or index argument: the script's NUMBER, or the vendor's default when null."""
    if value is None:
        return str(default)
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return display(value)
    return text(value)
