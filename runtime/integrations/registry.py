"""The service tables joined: every integration task by name, the services they reach,
and the public signatures of the tasks (`sluicegate.integrations` re-exports these names;
importing this module imports every service's table, which a run that calls no
integration task never needs).
"""

from __future__ import annotations

__all__ = ["Service", "SERVICES", "TASKS", "Task", "Param", "TaskSignature", "signatures",
           "lookup", "namespaces", "request_for", "ApiRequest", "ApiResponse", "Pick"]

from dataclasses import dataclass
from typing import Any

from . import billing, books, creator, crm, desk, people, projects, recruit, writer
from .spec import ApiRequest, ApiResponse, Param, Pick, Task


@dataclass(frozen=True)
class Service:
    """Where a service's API lives below its connection's base URL (`api`, the path the
    broker puts on the connection's origin) and which catalogue service its organization
    connection has."""

    kind: str
    api: str
    display_name: str

    @property
    def catalogue(self) -> str:
        return f"zoho_{self.kind}"


SERVICES: dict[str, Service] = {s.kind: s for s in (
    Service("crm", "/crm/v2", "Zoho CRM"),
    Service("books", "/books/v3", "Zoho Books"),
    Service("inventory", "/inventory/v1", "Zoho Inventory"),
    Service("desk", "/api/v1", "Zoho Desk"),
    Service("creator", "/creator/v2/data", "Zoho Creator"),
    Service("billing", "/billing/v1", "Zoho Billing (Subscriptions)"),
    Service("writer", "/writer/api/v1", "Zoho Writer"),
    Service("projects", "/restapi", "Zoho Projects"),
    Service("people", "/people/api", "Zoho People"),
    Service("recruit", "/recruit/v2", "Zoho Recruit"),
)}

TASKS: tuple[Task, ...] = tuple(
    crm.TASKS + books.BOOKS + books.INVENTORY + desk.TASKS + creator.TASKS + billing.TASKS
    + writer.TASKS + projects.TASKS + people.TASKS + recruit.TASKS)

_BY_NAME: dict[str, Task] = {}
for _row in TASKS:
    for _spelled in (_row.name, *_row.aliases):
        _BY_NAME[_spelled.lower()] = _row


def lookup(name: str) -> Task | None:
    """The row of a task name in any case (`zoho.desk.searchrecords`)."""
    return _BY_NAME.get(name.lower())


def namespaces() -> frozenset[str]:
    """The `zoho.<ns>` prefixes these tables cover (`zoho.desk`, `zoho.subscriptions`...):
    within them an unknown task name is a mistake, not another product's task."""
    return frozenset(".".join(t.name.lower().split(".")[:2]) for t in TASKS)


@dataclass(frozen=True)
class TaskSignature:
    """What `check` and completion need to know of a task."""

    name: str
    params: tuple[Param, ...]      # the trailing connection included, optional
    returns: str
    summary: str
    service: str                   # a SERVICES kind, or "encryption" (no HTTP, no connection)
    reference: str

    @property
    def min_args(self) -> int:
        return sum(1 for p in self.params if not p.optional)

    @property
    def max_args(self) -> int:
        return len(self.params)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "params": [p.to_json() for p in self.params],
                "returns": self.returns, "summary": self.summary, "service": self.service,
                "reference": self.reference, "min_args": self.min_args,
                "max_args": self.max_args}


def signatures() -> dict[str, TaskSignature]:
    """Every integration task by its canonical name: parameters (names, kinds, optional),
    return kind, one line of help. Pure data; safe to call from any thread."""
    from .spec import CONNECTION

    found = {t.name: TaskSignature(t.name, (*t.params, CONNECTION), t.returns, t.summary,
                                   t.service, t.reference) for t in TASKS}
    found.update(_encryption_signatures())
    return found


# The vendor's page of each encryption task: .../functions/encryption/aesencode.html
_ENCRYPTION_DOCS = "https://www.zoho.com/deluge/help/functions/encryption/"


def _encryption_signatures() -> dict[str, TaskSignature]:
    """`zoho.encryption.<name>` as the runtime dispatches it: the arity of its
    `stdlib.encoding` row (the same row `stdlib.tasks` registers the task with), the
    parameter names of the row's function, the first sentence of its description. Every
    one gives TEXT (or null for null data) and takes no connection."""
    import inspect

    from sluicegate.stdlib.encoding import ENCRYPTION_TASKS

    out: dict[str, TaskSignature] = {}
    for row in ENCRYPTION_TASKS.values():
        names = [p.name for p in inspect.signature(row.fn).parameters.values()
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        most = row.max_args if row.max_args is not None else len(names)
        names = names[:most] + [f"arg{i + 1}" for i in range(len(names), most)]
        params = tuple(Param(n, ("any",), i >= row.min_args) for i, n in enumerate(names))
        doc = " ".join((inspect.getdoc(row.fn) or "").split("\n\n", 1)[0].split())
        summary = doc.split(". ", 1)[0].rstrip(".")
        name = "zoho.encryption." + row.name
        out[name] = TaskSignature(name, params, "TEXT", summary, "encryption",
                                  f"{_ENCRYPTION_DOCS}{row.name.lower()}.html")
    return out


def request_for(name: str, *args: Any) -> tuple[Task, ApiRequest, str | None]:
    """What a task call sends, without sending it: the row, the built request and the
    connection named (None: the organization's own). With `row.shape(ApiResponse(status,
    value, api.pick))` a fake store answers it the way the vendor's task would (the
    workbench)."""
    from .runner import bind

    row = lookup(name)
    if row is None:
        raise KeyError(name)
    bound, connection = bind(row, args)
    return row, row.build(bound), connection
