"""The catalogue of names editors know: keywords, built-ins and tasks with their signatures.

Everything here is read from the runtime's own tables, never listed a second time:

    built-ins  `sluicegate.stdlib.METHODS` / `FUNCTIONS` rows: names, arities, receivers;
               the parameter names and return type from the Python function's signature
               and annotations; the description from its docstring's first paragraph
    tasks      `task_rows()`: the stdlib's `TASKS` rows plus any per-service tables of
               `sluicegate.integrations` (see `task_rows` for the interface)
    keywords   the parser's reserved words and the contextual ones
"""

from __future__ import annotations

__all__ = [
    "DECLARED_TYPES",
    "KEYWORDS",
    "SYSTEM_VALUES",
    "TYPE_NAMES",
    "Signature",
    "builtin_functions",
    "declared_type",
    "method_rows",
    "methods_for",
    "signature",
    "task_namespaces",
    "task_rows",
    "tasks",
    "words",
]

import functools
import inspect
import re
from dataclasses import dataclass
from typing import Any

from sluicegate.parser import RESERVED
from sluicegate.stdlib import ANY, FUNCTIONS, METHODS, TASKS, Builtin
from sluicegate.stdlib.tasks import ZOHO_VALUES
from sluicegate.values import (
    BOOLEAN,
    COLLECTION,
    DATETIME,
    DECIMAL,
    FILE,
    LIST,
    MAP,
    NUMBER,
    TEXT,
)

# Words with a meaning of their own: the reserved words and the contextual keywords.
KEYWORDS: tuple[str, ...] = tuple(sorted(RESERVED | {"each", "index", "info"}))
SYSTEM_VALUES: tuple[str, ...] = tuple(sorted(ZOHO_VALUES))
TYPE_NAMES = (TEXT, NUMBER, DECIMAL, BOOLEAN, DATETIME, LIST, MAP, COLLECTION, FILE)

# Python annotation names of the stdlib functions, as Deluge value types.
_PY_TYPES = {
    "str": TEXT, "int": NUMBER, "Decimal": DECIMAL, "bool": BOOLEAN, "DateTime": DATETIME,
    "list": LIST, "TypedList": LIST, "dict": MAP, "BraceMap": MAP, "Collection": COLLECTION,
    "File": FILE,
}
# Declared parameter types of function headers (`string standalone.f(int a)`).
_DECLARED = {
    "string": TEXT, "text": TEXT, "int": NUMBER, "number": NUMBER, "bigint": NUMBER,
    "long": NUMBER, "decimal": DECIMAL, "float": DECIMAL, "double": DECIMAL,
    "bool": BOOLEAN, "boolean": BOOLEAN, "date": DATETIME, "datetime": DATETIME,
    "time": DATETIME, "map": MAP, "list": LIST, "collection": COLLECTION, "file": FILE,
}


DECLARED_TYPES: tuple[str, ...] = tuple(sorted(set(_DECLARED) | {"void"}))


def declared_type(word: str) -> str | None:
    """The value type a declared parameter or return type names (`Int`, `list:string`)."""
    low = word.strip().lower()
    if low.startswith("list"):
        return LIST
    if low.startswith("map"):
        return MAP
    return _DECLARED.get(low)


@dataclass(frozen=True)
class Signature:
    """How a built-in or task is called, for messages, completion, hover and signature help."""

    name: str                      # canonical spelling
    kind: str                      # "function", "method" or "task"
    params: tuple[str, ...]        # argument names, receiver excluded
    min_args: int
    max_args: int | None
    receivers: tuple[str, ...] = ()
    function_form: bool = False
    returns: str | None = None     # a value type, or None when it depends on the values
    doc: str = ""

    @property
    def summary(self) -> str:
        """The first sentence of the description."""
        first = re.split(r"(?<=[.;])\s", self.doc, maxsplit=1)[0]
        return first.rstrip(";")

    def label(self) -> str:
        """`text.getSuffix(search) -> TEXT` / `ifnull(value, fallback)`."""
        shown = list(self.params[: self.max_args if self.max_args is not None else None])
        optional = self.min_args
        parts = [p if i < optional else f"[{p}]" for i, p in enumerate(shown)]
        if self.max_args is None:
            parts.append("...")
        prefix = ""
        if self.kind == "method":
            prefix = f"{'|'.join(r.lower() for r in self.receivers) or 'value'}."
        text = f"{prefix}{self.name}({', '.join(parts)})"
        return f"{text} -> {self.returns}" if self.returns else text

    def arity_text(self, function_form: bool = False) -> str:
        lo, hi = self.min_args, self.max_args
        if function_form:
            lo, hi = lo + 1, (hi + 1 if hi is not None else None)
        if hi == lo:
            return f"{lo} argument{'s' if lo != 1 else ''}"
        if hi is None:
            return f"at least {lo} argument{'s' if lo != 1 else ''}"
        return f"{lo} to {hi} arguments"

    def accepts(self, count: int, function_form: bool = False) -> bool:
        if function_form:
            count -= 1
        return count >= self.min_args and (self.max_args is None or count <= self.max_args)


def _return_type(fn: Any) -> str | None:
    note = getattr(fn, "__annotations__", {}).get("return")
    if note is None:
        return None
    text = note if isinstance(note, str) else getattr(note, "__name__", str(note))
    tags = set()
    for part in text.split("|"):
        word = part.strip().split("[", 1)[0]
        if word == "None":
            continue
        tag = _PY_TYPES.get(word)
        if tag is None:
            return None
        tags.add(tag)
    return tags.pop() if len(tags) == 1 else None


def _param_names(fn: Any, skip: int) -> tuple[str, ...]:
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return ()
    names = [p.name.lstrip("_") for p in params
             if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return tuple(names[skip:])


def _doc(fn: Any) -> str:
    text = inspect.getdoc(fn) or ""
    first = text.split("\n\n", 1)[0]
    return " ".join(first.split())


def _signature(row: Builtin, kind: str) -> Signature:
    skip = 1 if kind == "method" else 0
    params = _param_names(row.fn, skip)
    want = row.max_args if row.max_args is not None else max(row.min_args, len(params))
    params = tuple(params[:want]) + tuple(f"arg{i + 1}" for i in range(len(params), want))
    return Signature(row.name, kind, params, row.min_args, row.max_args, row.receivers,
                     row.function_form if kind == "method" else False,
                     _return_type(row.fn), _doc(row.fn))


@functools.cache
def signature(row: Builtin, kind: str) -> Signature:
    """The signature of a table row (cached per row)."""
    return _signature(row, kind)


@functools.lru_cache(maxsize=1)
def builtin_functions() -> dict[str, Signature]:
    """Functions called by name, by lower-case name: FUNCTIONS rows, then the function
    forms of methods (`daysBetween(a, b)`, receiver first)."""
    found: dict[str, Signature] = {}
    for key, row in FUNCTIONS.items():
        found.setdefault(key, signature(row, "function"))
    for table in METHODS.values():
        for key, row in table.items():
            if row.function_form and key == key.lower():
                found.setdefault(key, signature(row, "method"))
    return found


@functools.cache
def methods_for(type_tag: str | None) -> dict[str, Signature]:
    """Methods a value of this type answers, by lower-case name (None: of any type)."""
    found: dict[str, Signature] = {}
    if type_tag is None:
        for table in METHODS.values():
            for key, row in table.items():
                if key == key.lower():
                    found.setdefault(key, signature(row, "method"))
        return found
    tables = [METHODS.get(type_tag, {}), METHODS[ANY]]
    if type_tag == DATETIME:  # a DATETIME answers TEXT methods on its display text
        tables.append(METHODS[TEXT])
    for table in tables:
        for key, row in table.items():
            if key == key.lower():
                found.setdefault(key, signature(row, "method"))
    return found


def method_rows(name: str) -> list[Signature]:
    """Every method row of any type with this name (their arities may differ)."""
    low = name.lower()
    rows: dict[int, Signature] = {}
    for table in METHODS.values():
        row = table.get(low)
        if row is not None:
            rows.setdefault(id(row), signature(row, "method"))
    return list(rows.values())


def task_rows() -> list[Builtin]:
    """Every integration task row the runtime knows.

    The one place editors read tasks from. Today that is `sluicegate.stdlib.TASKS`; the
    per-service tables plug in here: a module `sluicegate.integrations` exposing
    `TASKS`, an iterable of `Builtin` rows like stdlib/tasks.py's (qualified names spelled
    as the vendor does, `zoho.desk.getRecordById`; arity in `min_args`/`max_args`;
    parameter names from the Python function's positional parameters; the description
    from its docstring; the return type from its return annotation).
    """
    rows: dict[str, Builtin] = {}
    for row in TASKS.values():
        rows.setdefault(row.name.lower(), row)
    try:
        from sluicegate import integrations  # type: ignore[attr-defined]
    except ImportError:
        return list(rows.values())
    for row in getattr(integrations, "TASKS", ()):
        if isinstance(row, Builtin):
            rows.setdefault(row.name.lower(), row)
    return list(rows.values())


@functools.lru_cache(maxsize=1)
def tasks() -> dict[str, Signature]:
    """Task signatures by lower-case qualified name (every spelling of each row): the
    per-service tables of `sluicegate.integrations` first, then stdlib's task rows."""
    found: dict[str, Signature] = {}
    for name, sig in _integration_tasks().items():
        found.setdefault(name.lower(), sig)
    for row in task_rows():
        sig = signature(row, "task")
        for name in row.names:
            found.setdefault(name.lower(), sig)
    return found


_VALUE_KINDS = {"map": MAP, "list": LIST, "text": TEXT, "file": FILE, "number": NUMBER,
                "boolean": BOOLEAN}


def _integration_tasks() -> dict[str, Signature]:
    """The integration tables' tasks (`integrations.signatures()`) as editor signatures."""
    try:
        from sluicegate.integrations import signatures
    except ImportError:
        return {}
    out: dict[str, Signature] = {}
    for name, sig in signatures().items():
        out[name] = Signature(name=name, kind="task", params=tuple(p.name for p in sig.params),
                              min_args=sig.min_args, max_args=sig.max_args,
                              returns=_VALUE_KINDS.get(sig.returns.lower()),
                              doc=f"{sig.summary} ({sig.reference})" if sig.reference
                              else sig.summary)
    return out


@functools.lru_cache(maxsize=1)
def task_namespaces() -> frozenset[str]:
    """`zoho.crm`, `zoho.books`, ...: the services whose tasks the runtime has a table of."""
    return frozenset(name.rsplit(".", 1)[0] for name in tasks())


@functools.lru_cache(maxsize=1)
def words() -> dict[str, tuple[str, ...]]:
    """The word lists every highlighter is generated from (`tooling.grammars`,
    `tooling.highlight`): canonical spellings, sorted, each list without duplicates."""
    from sluicegate.translator import TASK_PARAMETERS

    functions = sorted({s.name for s in builtin_functions().values() if s.kind == "function"},
                       key=str.lower)
    methods = sorted({s.name for s in methods_for(None).values()}, key=str.lower)
    task_names = sorted({s.name for s in tasks().values()}, key=str.lower)
    params = sorted({p for keys in TASK_PARAMETERS.values() for p in keys})
    return {
        "keywords": tuple(k for k in KEYWORDS if k not in ("true", "false", "null")),
        "constants": ("false", "null", "true"),
        "types": DECLARED_TYPES,
        "functions": tuple(functions),
        "methods": tuple(methods),
        "tasks": tuple(task_names),
        "system_values": SYSTEM_VALUES,
        "task_parameters": tuple(params),
    }


@functools.lru_cache(maxsize=1)
def _builtin_spellings() -> dict[str, str]:
    """Every built-in's canonical spelling by its lower-case name (built once)."""
    spellings: dict[str, str] = {}
    for table in (FUNCTIONS, *METHODS.values()):
        for row in table.values():
            for spelled in row.names:
                spellings.setdefault(spelled.lower(), spelled)
    return spellings


def suggest_builtin(name: str) -> str | None:
    """The built-in a misspelt function name most probably meant (did-you-mean)."""
    import difflib

    spellings = _builtin_spellings()
    close = difflib.get_close_matches(name.lower(), list(spellings), n=1, cutoff=0.8)
    return spellings[close[0]] if close else None


def unknown_function_message(name: str) -> str:
    """The check's message for a call of a name that is no built-in: a near miss of a
    built-in is named (a typo); anything else may be a function of the vendor's platform
    or another script, which `check` cannot see."""
    close = suggest_builtin(name)
    if close:
        return f"Unknown function '{name}' (did you mean '{close}'?)"
    return (f"Unknown function '{name}': not a built-in; a function of another script is "
            f"called by its qualified name, such as standalone.{name}(...)")
