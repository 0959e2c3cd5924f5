"""The request bodies of the HTTP API, as pydantic models (documented in OpenAPI).

Routes read their bodies themselves (`context.exact_body`) so that decimals stay exact;
these models check the shape and describe it in the OpenAPI document."""

from __future__ import annotations

__all__ = ["AuthorizeRequest", "ClickRequest", "ExecuteRequest", "ReplayRequest",
           "ScheduleRequest", "ScriptRequest", "VersionRequest"]

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Body(BaseModel):
    """A request body: a field the API does not know is refused by name (a misspelt
    `input` would otherwise run the script with no inputs)."""

    model_config = ConfigDict(extra="forbid")


class ExecuteRequest(_Body):
    """Inputs of a custom function: the record map (`invoice`, ...), declared
    parameters; `organization` and `user` are filled in when absent."""

    inputs: dict[str, Any] = Field(default_factory=dict)


class ClickRequest(_Body):
    """A button click: one record (details page) or the selected records (list page)."""

    record: dict[str, Any] | None = None
    records: list[dict[str, Any]] | None = None
    inputs: dict[str, Any] = Field(default_factory=dict,
                                   description="the button's declared user inputs")
    organization: dict[str, Any] | None = None
    user: dict[str, Any] | None = None


class ReplayRequest(_Body):
    version: str = Field("original", description="'original' or 'current'")


class ScriptRequest(_Body):
    name: str
    source: str
    kind: str | None = Field(None, description="function, button or schedule (new scripts)")
    module: str | None = None
    location: str | None = Field(None, description="buttons: details or list")
    user_inputs: list[Any] | None = None
    description: str | None = None
    message: str = ""
    publish: bool = True


class AuthorizeRequest(_Body):
    redirect_uri: str | None = Field(None, description="where the provider sends the user "
                                     "back (default: this service's /oauth/callback)")


class VersionRequest(_Body):
    version: int | None = None


class ScheduleRequest(_Body):
    """A schedule (see `sluicegate.triggers.schedules` for every field)."""

    name: str
    script: str
    recurrence: dict[str, Any]
    start: str | None = None
    timezone: str | None = None
    end: dict[str, Any] | None = None
    misfire: str = "run_once"
    misfire_grace: float = 60.0
    no_overlap: bool = True
    retries: int = 0
    retry_backoff: float = 30.0
    inputs: dict[str, Any] = Field(default_factory=dict)
