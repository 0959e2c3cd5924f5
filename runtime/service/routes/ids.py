"""Path and query parameters shared by routers: ids are 64-bit database keys, so a larger
number is a 422 naming the parameter, never a 500 from the database driver."""

from __future__ import annotations

__all__ = ["MAX_ID", "RunId", "VersionNumber"]

from typing import Annotated

from fastapi import Path

MAX_ID = 2**63 - 1
RunId = Annotated[int, Path(ge=1, le=MAX_ID, description="a run id")]
VersionNumber = Annotated[int, Path(ge=1, le=MAX_ID, description="a version number")]
