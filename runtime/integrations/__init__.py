"""Integration tasks of Zoho services: one table of `Task` rows per service.

    crm        zoho.crm.*                      CRM REST API v2
    books      zoho.books.*, zoho.inventory.*  Books API v3, Inventory API v1
    desk       zoho.desk.*                     Desk REST API v1 (orgId header)
    creator    zoho.creator.*                  Creator REST API v2 (and forms.py: the
                                               Creator form statements)
    billing    zoho.billing.*, zoho.subscriptions.*
    writer     zoho.writer.*                   document merges
    projects   zoho.projects.*
    people     zoho.people.*
    recruit    zoho.recruit.*

A task called without a connection argument uses the organization's own connection of its
service (`SERVICES[kind].catalogue`, the catalogue service `zoho_<kind>`). `signatures()` is
the public description of every task (parameters, return kind, a line of help) for `check`
and editor completion: these tables' rows, and the `zoho.encryption.*` tasks the runtime
computes itself (read from the rows it runs them with, `stdlib.encoding.ENCRYPTION_TASKS`).
"""

from __future__ import annotations

__all__ = ["Service", "SERVICES", "TASKS", "Task", "Param", "TaskSignature", "signatures",
           "lookup", "namespaces", "request_for", "ApiRequest", "ApiResponse", "Pick"]

from ..lazy import lazy_names

# The tables are imported on first use (`registry`): a run that calls no integration
# task (most of them) does not import every service's table; the Creator form
# statements' translation (`statements`) and record types (`records`) import none.
__getattr__ = lazy_names(globals(), dict.fromkeys(__all__, "registry"))
