"""Zoho Writer tasks (`zoho.writer.*`): document merges of the Writer API, below
`/writer/api/v1`.

`mergeAndDownload` answers with the merged document itself, which the task gives as a FILE
(a refused merge answers JSON, given as its map);
`mergeAndSend` answers with the API's map (the merge report).
"""

from __future__ import annotations

__all__ = ["TASKS"]

from typing import Any

from sluicegate.values import to_json_text

from .shapes import as_is
from .spec import ApiRequest, seg, task, text

_DOCS = "https://www.zoho.com/deluge/help/writer/"


def _merge_data(values: Any) -> str:
    """The merge values as the API's `merge_data` part: `{"data": [ {...} ]}`."""
    rows = values if isinstance(values, list) else [values]
    return to_json_text({"data": rows})


def _download(a: dict[str, Any]) -> ApiRequest:
    form = [("output_format", text(a["format"]).lower()), ("merge_data", _merge_data(a["values"]))]
    return ApiRequest("POST", f"/documents/{seg(a['document_id'])}/merge", form=form,
                      as_file=True)


def _send(a: dict[str, Any]) -> ApiRequest:
    form = [("output_format", text(a["format"]).lower()), ("email_to", text(a["email"])),
            ("merge_data", _merge_data(a["values"]))]
    return ApiRequest("POST", f"/documents/{seg(a['document_id'])}/merge/email", form=form)


TASKS = [
    # https://www.zoho.com/deluge/help/writer/merge-and-download.html ; API "Merge and
    # Download" (POST /writer/api/v1/documents/{id}/merge, parts output_format, merge_data)
    task("zoho.writer.mergeAndDownload",
         "document_id:text, format:text, values:map|list", _download, as_is, "FILE",
         "Merge values into a document and give it as a FILE (pdf, docx ...)",
         _DOCS + "merge-and-download.html"),
    # https://www.zoho.com/deluge/help/writer/merge-and-send.html ; API "Merge and Email"
    task("zoho.writer.mergeAndSend",
         "document_id:text, format:text, email:text, values:map|list", _send, as_is, "MAP",
         "Merge values into a document and e-mail it", _DOCS + "merge-and-send.html"),
]
