"""The values a Creator form fetch gives a script: records and the list of them.

Kept apart from `forms` (which runs the statements against the API) so that the hooks
and the dispatcher can tell these values apart without importing the Creator client:
a run that fetches no record never loads it.
"""

from __future__ import annotations

__all__ = ["CreatorRecord", "RecordSet", "FORM_METHODS", "RECORD_METHOD_NAMES"]

from typing import Any

# The methods of a form fetch, `Form[criteria].count()` (run by `forms.form_method`).
FORM_METHODS = frozenset({"count", "sum", "avg", "average", "min", "minimum", "max",
                          "maximum", "distinct", "getall"})


# What a fetch kept in a variable answers beyond the LIST methods (`recs.count()`; the
# rows: forms.RECORD_METHODS).
RECORD_METHOD_NAMES = frozenset({"count"})


class CreatorRecord(dict):  # type: ignore[type-arg]
    """A record fetched from a form: a MAP whose field assignments update it in Creator."""

    __slots__ = ("form",)

    def __init__(self, form: str, fields: dict[str, Any]) -> None:
        super().__init__(fields)
        self.form = form


class RecordSet(list):  # type: ignore[type-arg]
    """The records of a `Form[criteria]` fetch: a LIST of CreatorRecord; reading a field
    reads the first record's, assigning one updates every record the criteria match."""

    __slots__ = ("form", "criteria")

    def __init__(self, form: str, criteria: str | None, records: list[CreatorRecord]) -> None:
        super().__init__(records)
        self.form = form
        self.criteria = criteria
