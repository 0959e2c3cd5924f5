"""Running stored scripts on demand: custom functions, button clicks and replays.

Each call finds the live version, builds the inputs the vendor's way, hands the script to
the executor under the limit profile of its kind (function 30 s, button 10 s, schedule
15 min) and records the run. Schedules go through the scheduler, which batches its
writes, but runs the same executor and records the same rows.
"""

from __future__ import annotations

__all__ = ["Actor", "ButtonOutcome", "Launcher", "Outcome"]

import logging
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..engine import ErrorInfo, RunResult
from ..limits import PROFILES, Limits
from ..values import to_json_text
from .buttons import ButtonReply, ButtonReturnError, button_reply
from .clock import Clock, SystemClock
from .errors import Conflict, InvalidField, Unavailable
from .executor import Executor
from .history import INPUT_BYTES_ENV, RunHistory
from .inputs import InputDefaults, actor_user, button_inputs, function_inputs
from .scripts import LiveScript, ScriptCatalog

log = logging.getLogger("sluicegate.triggers")


@dataclass(frozen=True)
class Actor:
    """Who triggered a run: a name for the record and the `user` map scripts see."""

    name: str
    user: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def named(cls, name: str, user_id: str = "") -> Actor:
        return cls(name, actor_user(name, user_id))


@dataclass(frozen=True)
class Outcome:
    """A recorded run and its result."""

    run_id: int
    result: RunResult
    version: int

    def to_json(self) -> dict[str, Any]:
        """The run result object of ARCHITECTURE plus `run_id` (and the version run)."""
        return {**self.result.to_json(), "run_id": self.run_id, "version": self.version}

    def to_json_text(self) -> str:
        return to_json_text(self.to_json())


@dataclass(frozen=True)
class ButtonOutcome:
    """A recorded button run: the checked reply, or why there is none."""

    run_id: int
    result: RunResult
    reply: ButtonReply | None

    def to_json(self) -> dict[str, Any]:
        if self.reply is not None:
            return {**self.reply.to_json(), "run_id": self.run_id}
        error = self.result.error or ErrorInfo("RuntimeError", "The button failed")
        return {"code": 1, "message": error.message, "run_id": self.run_id,
                "status": "failure", "error": error.to_json(), "logs": self.result.logs}

    def to_json_text(self) -> str:
        return to_json_text(self.to_json())


def node_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Launcher:
    """Executes stored functions and buttons, and replays recorded runs."""

    def __init__(self, catalog: ScriptCatalog, history: RunHistory, executor: Executor, *,
                 defaults: InputDefaults | None = None, clock: Clock | None = None,
                 profiles: Mapping[str, Limits] | None = None, node: str | None = None) -> None:
        self.catalog = catalog
        self.history = history
        self.executor = executor
        self.defaults = defaults or InputDefaults.from_environment()
        self.clock = clock or SystemClock()
        self.profiles = dict(profiles or PROFILES)
        self.node = node or node_name()

    def execute_function(self, name: str, inputs: Mapping[str, Any] | None, *,
                         actor: Actor, trigger: str = "function") -> Outcome:
        """Run the published function `name` with the caller's inputs."""
        live, full = self.prepare_function(name, inputs, actor=actor)
        result, run_id = self._run(live, full, trigger=trigger, actor=actor)
        return Outcome(run_id, result, live.version)

    def prepare_function(self, name: str, inputs: Mapping[str, Any] | None, *,
                         actor: Actor) -> tuple[LiveScript, dict[str, Any]]:
        """The published function `name` and its full inputs, checked (not run)."""
        if inputs is not None and not isinstance(inputs, Mapping):
            raise InvalidField("inputs", "must be a JSON object of input values")
        live = self.catalog.live(name, "function")
        return live, function_inputs(inputs or {}, self.defaults, actor.user)

    def click_button(self, name: str, *, record: Any = None, records: Any = None,
                     inputs: Mapping[str, Any] | None = None, organization: Any = None,
                     user: Any = None, actor: Actor) -> ButtonOutcome:
        """Run the published button `name` for a record (or records, for a bulk action)."""
        live, full = self.prepare_click(name, record=record, records=records, inputs=inputs,
                                        organization=organization, user=user, actor=actor)
        return self._click(live, full, trigger="button", actor=actor)

    def prepare_click(self, name: str, *, record: Any = None, records: Any = None,
                      inputs: Mapping[str, Any] | None = None, organization: Any = None,
                      user: Any = None, actor: Actor) -> tuple[LiveScript, dict[str, Any]]:
        """The published button `name` and the full inputs of a click, checked (not run)."""
        if inputs is not None and not isinstance(inputs, Mapping):
            raise InvalidField("inputs", "must be a JSON object of the button's user inputs")
        live = self.catalog.live(name, "button")
        full = button_inputs(module=live.module or "", location=live.location or "details",
                             declared=live.user_inputs, record=record, records=records,
                             user_inputs=inputs or {}, organization=organization,
                             user=user, defaults=self.defaults, actor=actor.user)
        return live, full

    def run_prepared(self, live: LiveScript, inputs: Mapping[str, Any], *, trigger: str,
                     actor: Actor, run_id: int) -> Outcome | ButtonOutcome:
        """Run prepared inputs and record the result in the reserved run `run_id` (a
        queued run: its row exists with status `queued`)."""
        if live.kind == "button":
            return self._click(live, inputs, trigger=trigger, actor=actor, id=run_id)
        result, recorded = self._run(live, inputs, trigger=trigger, actor=actor, id=run_id)
        return Outcome(recorded, result, live.version)

    def replay(self, run_id: int, *, version: str = "original", actor: Actor) -> \
            Outcome | ButtonOutcome:
        """Run a recorded run again with its stored inputs, against the version it ran
        (`original`) or the one published now (`current`)."""
        if version not in ("original", "current"):
            raise InvalidField("version", "must be 'original' or 'current'")
        past = self.history.get(run_id)
        cut = past.inputs_truncated
        if cut is not None:
            raise InvalidField("inputs", (
                f"run {run_id} cannot be replayed: its inputs were cut when stored "
                f"({cut.get('bytes', 0):,} bytes of JSON, over the cap of "
                f"{cut.get('cap', 0):,} bytes, {INPUT_BYTES_ENV}), so a replay would not "
                f"run with the inputs it ran with; run the script again with the full "
                f"inputs instead"))
        if past.script_id is None:
            raise Conflict(f"Run {run_id}'s script was deleted; it cannot be replayed")
        live = self.catalog.live_by_id(past.script_id,
                                       past.script_version if version == "original" else None)
        extra = {"replay_of": run_id, "schedule_id": past.schedule_id}
        if live.kind == "button":
            return self._click(live, past.inputs, trigger="replay", actor=actor, **extra)
        result, new_id = self._run(live, past.inputs, trigger="replay", actor=actor, **extra)
        return Outcome(new_id, result, live.version)

    def limits_for(self, kind: str) -> Limits:
        return self.profiles.get(kind) or self.profiles["function"]

    def _click(self, live: LiveScript, inputs: Mapping[str, Any], *, trigger: str,
               actor: Actor, **extra: Any) -> ButtonOutcome:
        reply: ButtonReply | None = None

        def check(result: RunResult) -> RunResult:
            nonlocal reply
            if not result.ok:
                return result
            try:
                reply = button_reply(result.value)
            except ButtonReturnError as exc:
                return RunResult("failure", result.value, result.logs,
                                 ErrorInfo("RuntimeError", str(exc), None, None,
                                           live.filename),
                                 result.stats, result.mail, result.http)
            return result

        result, run_id = self._run(live, inputs, trigger=trigger, actor=actor, check=check,
                                   **extra)
        return ButtonOutcome(run_id, result, reply)

    def _run(self, live: LiveScript, inputs: Mapping[str, Any], *, trigger: str,
             actor: Actor, check: Any = None, **extra: Any) -> tuple[RunResult, int]:
        started = self.clock.now()
        try:
            result = self.executor.execute(live.source, dict(inputs),
                                           self.limits_for(live.kind), filename=live.filename)
        except Exception as exc:  # executors report script failures; this one is ours
            log.exception("executing %s failed", live.name)
            result = RunResult("failure", None, [], ErrorInfo(
                "InternalError", f"The run could not be executed: {type(exc).__name__}",
                None, None, live.filename), {"statements": None, "http_calls": 0})
        if check is not None:
            result = check(result)
        try:
            run_id = self.history.record(trigger=trigger, script_id=live.script_id,
                                         script_name=live.name, script_version=live.version,
                                         inputs=inputs, result=result, started_at=started,
                                         finished_at=self.clock.now(), node=self.node,
                                         actor=actor.name, **extra)
        except Unavailable as exc:
            log.error("%s run of %s v%s (%s) not recorded: %s", trigger, live.name,
                      live.version, result.status, exc)
            raise Unavailable(str(exc), result=result) from exc
        return result, run_id
