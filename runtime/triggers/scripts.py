"""The script catalog: saving versions, publishing, rolling back, diffs, and the live
version each trigger runs.

Every save is a new numbered version (draft, or published at once); versions never
change. Publishing points the script at a version that compiles; a rollback publishes an
older one. A published function's qualified name (`standalone.fn`) is unique across
scripts, so other scripts can call it by that name.
"""

from __future__ import annotations

__all__ = ["NAME_PATTERN", "LiveScript", "ScriptCatalog", "ScriptInfo", "VersionInfo"]

import datetime as _dt
import difflib
import hashlib
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ..compilebudget import CompileTimeLimit, compile_deadline
from ..errors import ScriptSyntaxError, format_diagnostic
from ..sandbox import compile_script
from ..store.scripts import BUTTON_LOCATIONS, SCRIPT_KINDS, Script, ScriptVersion
from .clock import Clock, SystemClock
from .errors import Conflict, InvalidField, InvalidSource, NotFound
from .locking import begin_write

NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,99}$")
_INPUT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_MODULE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MAX_SOURCE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class VersionInfo:
    """One version as shown to users; `source` only when asked for."""

    number: int
    status: str               # published | draft | superseded (published once, not now)
    author: str
    message: str
    created_at: _dt.datetime
    published_at: _dt.datetime | None
    published_by: str | None
    sha256: str
    params: list[dict[str, str]]
    entry_name: str | None
    source: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = {"number": self.number, "status": self.status, "author": self.author,
               "message": self.message, "created_at": self.created_at.isoformat(),
               "published_at": self.published_at.isoformat() if self.published_at else None,
               "published_by": self.published_by, "sha256": self.sha256,
               "params": self.params, "entry_name": self.entry_name}
        if self.source is not None:
            out["source"] = self.source
        return out


@dataclass(frozen=True)
class ScriptInfo:
    """A script's settings and which version is live."""

    id: int
    name: str
    kind: str
    module: str | None
    location: str | None
    user_inputs: list[dict[str, Any]]
    description: str
    published_version: int | None
    latest_version: int
    entry_name: str | None
    created_by: str
    created_at: _dt.datetime
    updated_at: _dt.datetime

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "kind": self.kind, "module": self.module,
                "location": self.location, "user_inputs": self.user_inputs,
                "description": self.description,
                "published_version": self.published_version,
                "latest_version": self.latest_version, "entry_name": self.entry_name,
                "created_by": self.created_by, "created_at": self.created_at.isoformat(),
                "updated_at": self.updated_at.isoformat()}


@dataclass(frozen=True)
class LiveScript:
    """What a trigger needs to run a script: its settings and one version's source."""

    script_id: int
    name: str
    kind: str
    module: str | None
    location: str | None
    user_inputs: list[dict[str, Any]]
    version: int
    source: str
    params: list[dict[str, str]]

    @property
    def filename(self) -> str:
        return f"{self.name}.dg"


def _status(script: Script, version: ScriptVersion) -> str:
    if script.published_version == version.number:
        return "published"
    return "draft" if version.published_at is None else "superseded"


def _version_info(script: Script, v: ScriptVersion, with_source: bool = False) -> VersionInfo:
    return VersionInfo(v.number, _status(script, v), v.author, v.message, v.created_at,
                       v.published_at, v.published_by, v.sha256, list(v.params or []),
                       v.entry_name, v.source if with_source else None)


def _check_user_inputs(specs: Sequence[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, spec in enumerate(specs):
        if isinstance(spec, str):
            spec = {"name": spec}
        if not isinstance(spec, Mapping) or not isinstance(spec.get("name"), str):
            raise InvalidField(f"user_inputs[{i}]", "must be a name or an object with a name")
        name = spec["name"]
        if not _INPUT_NAME.match(name) or name in ("organization", "user"):
            raise InvalidField(f"user_inputs[{i}]", f"{name!r} cannot be an input name")
        if name in seen:
            raise InvalidField(f"user_inputs[{i}]", f"{name!r} is declared twice")
        seen.add(name)
        out.append({"name": name, "label": str(spec.get("label") or name),
                    "type": str(spec.get("type") or "text"),
                    "required": bool(spec.get("required", False))})
    return out


class ScriptCatalog:
    """Stores scripts and versions; all methods open their own short session."""

    # Saving, publishing and rolling back compile the script to check it, on the
    # caller's thread (an API request's): a script that takes longer is refused.
    compile_seconds = 10.0

    def __init__(self, sessions: sessionmaker[Session], clock: Clock | None = None, *,
                 compile_seconds: float | None = None) -> None:
        self.sessions = sessions
        self.clock = clock or SystemClock()
        if compile_seconds is not None:
            self.compile_seconds = compile_seconds

    # -- reading ---------------------------------------------------------------------
    def list(self, kind: str | None = None) -> list[ScriptInfo]:
        with self.sessions() as s:
            query = select(Script).order_by(Script.name)
            if kind:
                query = query.where(Script.kind == kind)
            scripts = s.scalars(query).all()
            latest = dict(s.execute(select(ScriptVersion.script_id,
                                           func.max(ScriptVersion.number))
                                    .group_by(ScriptVersion.script_id)).all())
            return [self._info(sc, latest.get(sc.id, 0)) for sc in scripts]

    def get(self, name: str) -> ScriptInfo:
        with self.sessions() as s:
            script = self._script(s, name)
            latest = s.scalar(select(func.max(ScriptVersion.number))
                              .where(ScriptVersion.script_id == script.id)) or 0
            return self._info(script, latest)

    def versions(self, name: str) -> list[VersionInfo]:
        with self.sessions() as s:
            script = self._script(s, name)
            return [_version_info(script, v) for v in script.versions]

    def version(self, name: str, number: int | None = None) -> VersionInfo:
        """One version with its source; the published one (else the latest) by default."""
        with self.sessions() as s:
            script = self._script(s, name)
            return _version_info(script, self._version(s, script, number), with_source=True)

    def live(self, name: str, kind: str | None = None, version: int | None = None) -> \
            LiveScript:
        """The published version of `name` (or the given version) ready to run."""
        with self.sessions() as s:
            script = self._script(s, name)
            if kind and script.kind != kind:
                raise NotFound(f"'{name}' is a {script.kind} script, not a {kind}")
            if version is None and script.published_version is None:
                raise Conflict(f"Script '{name}' has no published version; publish one "
                               "first")
            v = self._version(s, script, version)
            return self._live(script, v)

    def live_by_id(self, script_id: int, version: int | None = None) -> LiveScript:
        with self.sessions() as s:
            script = s.get(Script, script_id)
            if script is None:
                raise NotFound(f"No script with id {script_id}")
            if version is None and script.published_version is None:
                raise Conflict(f"Script '{script.name}' has no published version")
            return self._live(script, self._version(s, script, version))

    def source_of_function(self, qualified_name: str) -> str | None:
        """The published source defining `qualified_name` (lower case), if any script
        publishes it; `standalone.<script name>` also names a function script."""
        with self.sessions() as s:
            row = s.execute(
                select(ScriptVersion.source)
                .join(Script, Script.id == ScriptVersion.script_id)
                .where(Script.entry_name == qualified_name,
                       ScriptVersion.number == Script.published_version)).first()
            if row is None and qualified_name.startswith("standalone."):
                row = s.execute(
                    select(ScriptVersion.source)
                    .join(Script, Script.id == ScriptVersion.script_id)
                    .where(func.lower(Script.name) == qualified_name[len("standalone."):],
                           Script.kind == "function",
                           ScriptVersion.number == Script.published_version)).first()
            return None if row is None else str(row[0])

    def diff(self, name: str, old: int | None = None, new: int | None = None) -> str:
        """A unified diff between two versions: by default the published one (or the
        one before the latest) and the latest."""
        with self.sessions() as s:
            script = self._script(s, name)
            numbers = [v.number for v in script.versions]
            if new is None:
                new = numbers[-1]
            if old is None:
                old = script.published_version if script.published_version not in (
                    None, new) else max([n for n in numbers if n < new], default=new)
            a = self._version(s, script, old)
            b = self._version(s, script, new)
            return "".join(difflib.unified_diff(
                a.source.splitlines(keepends=True), b.source.splitlines(keepends=True),
                fromfile=f"{name} v{a.number}", tofile=f"{name} v{b.number}"))

    # -- writing ---------------------------------------------------------------------
    def save(self, name: str, source: str, *, kind: str | None = None,
             module: str | None = None, location: str | None = None,
             user_inputs: Sequence[Any] | None = None, description: str | None = None,
             author: str = "", message: str = "", publish: bool = True) -> VersionInfo:
        """Save `source` as the next version of `name` (creating the script), published
        unless `publish` is false. Saving the latest text again adds no version."""
        if not NAME_PATTERN.match(name or ""):
            raise InvalidField("name", "must start with a letter and hold only letters, "
                               "digits, '_', '.' or '-' (at most 100)")
        if len(source.encode("utf-8", "surrogatepass")) > MAX_SOURCE_BYTES:
            raise InvalidField("source", f"larger than {MAX_SOURCE_BYTES // 1024} KB")
        if kind is not None and kind not in SCRIPT_KINDS:
            raise InvalidField("kind", f"must be one of {', '.join(SCRIPT_KINDS)}")
        if module is not None and not _MODULE.match(module):
            raise InvalidField("module", "must be a lower-case module name such as invoices")
        if location is not None and location not in BUTTON_LOCATIONS:
            raise InvalidField("location", f"must be one of {', '.join(BUTTON_LOCATIONS)}")
        declared = _check_user_inputs(user_inputs) if user_inputs is not None else None
        compiled = self._compile(name, source, required=publish)
        now = self.clock.now()
        sha = hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()
        with self.sessions() as s:
            begin_write(s)
            script = s.scalar(select(Script).where(Script.name == name))
            if script is None:
                if kind is None:
                    raise InvalidField("kind", "a new script needs a kind "
                                       f"({', '.join(SCRIPT_KINDS)})")
                script = Script(name=name, kind=kind, module=module, created_by=author,
                                created_at=now, updated_at=now, user_inputs=[],
                                description=description or "")
                s.add(script)
            elif kind is not None and kind != script.kind:
                raise Conflict(f"Script '{name}' is a {script.kind} script; it cannot "
                               f"become a {kind}")
            if module is not None:
                script.module = module
            if script.kind == "button":
                if not script.module:
                    raise InvalidField("module", "a button belongs to a module (such as "
                                       "invoices)")
                script.location = location or script.location or "details"
                if declared is not None:
                    script.user_inputs = declared
            elif location is not None or declared:
                raise InvalidField("location" if location else "user_inputs",
                                   "only buttons have a location and user inputs")
            if description is not None:
                script.description = description
            script.updated_at = now
            s.flush()
            latest = s.scalars(select(ScriptVersion).where(ScriptVersion.script_id ==
                                                           script.id)
                               .order_by(ScriptVersion.number.desc()).limit(1)).first()
            if latest is not None and latest.sha256 == sha:
                version = latest
            else:
                params, entry = compiled if compiled else ([], None)
                version = ScriptVersion(script_id=script.id,
                                        number=(latest.number if latest else 0) + 1,
                                        source=source, sha256=sha, params=params,
                                        entry_name=entry, author=author, message=message,
                                        created_at=now)
                s.add(version)
            if publish:
                self._publish(s, script, version, author, now)
            try:
                s.commit()
            except IntegrityError:
                raise Conflict(f"Script '{name}' was saved by someone else at the same "
                               "time; try again") from None
            return _version_info(script, version)

    def publish(self, name: str, number: int | None = None, *, by: str = "") -> VersionInfo:
        """Publish version `number` (default: the latest)."""
        with self.sessions() as s:
            begin_write(s)
            script = self._script(s, name)
            version = self._version(s, script, number or max(v.number for v in
                                                              script.versions))
            self._compile(name, version.source, required=True)
            self._publish(s, script, version, by, self.clock.now())
            s.commit()
            return _version_info(script, version)

    def rollback(self, name: str, number: int, *, by: str = "") -> VersionInfo:
        """Publish an older version again; runs from now on use it."""
        with self.sessions() as s:
            begin_write(s)
            script = self._script(s, name)
            version = self._version(s, script, number)
            if script.published_version is not None and number >= script.published_version:
                raise Conflict(f"Version {number} is not older than the published version "
                               f"{script.published_version}; use publish instead")
            self._compile(name, version.source, required=True)
            self._publish(s, script, version, by, self.clock.now())
            s.commit()
            return _version_info(script, version)

    # -- helpers ---------------------------------------------------------------------
    def _publish(self, s: Session, script: Script, version: ScriptVersion, by: str,
                 now: _dt.datetime) -> None:
        if version.entry_name:
            clash = s.scalar(select(Script.name).where(Script.entry_name ==
                                                       version.entry_name,
                                                       Script.id != script.id))
            if clash:
                raise Conflict(f"Function '{version.entry_name}' is already published by "
                               f"script '{clash}'; qualified names must be unique")
        script.published_version = version.number
        script.entry_name = version.entry_name
        script.updated_at = now
        version.published_at = now
        version.published_by = by

    def _compile(self, name: str, source: str, *, required: bool) -> \
            tuple[list[dict[str, str]], str | None] | None:
        limit = self.compile_seconds
        try:
            with compile_deadline(time.monotonic() + limit, limit):
                compiled = compile_script(source, f"{name}.dg")
        except CompileTimeLimit:
            raise InvalidField("source", f"takes longer than {limit:g} s to compile; split "
                               "it into functions of their own") from None
        except ScriptSyntaxError as err:
            if not required:
                return None
            text = source.lstrip("\ufeff")
            raise InvalidSource(f"{name}.dg:{err.line}:{err.column}: {err.message}",
                                line=err.line, column=err.column,
                                diagnostic=format_diagnostic(f"{name}.dg", text, err.line,
                                                             err.column, "error",
                                                             err.message)) from None
        entry = compiled.entry
        params = [{"name": pname, "type": ptype} for ptype, pname in entry.params]
        return params, (entry.name.lower() if entry.name else None)

    def delete(self, name: str) -> int:
        """Delete a script, its versions and webhooks; returns how many versions went.
        Refused while schedules use it (delete them first). Recorded runs stay (their
        script becomes unknown); runs still queued for it end as failures."""
        from ..store.queue import QueuedRun
        from ..store.runs import Run
        from ..store.schedules import Schedule

        with self.sessions.begin() as s:
            script = self._script(s, name)
            users = s.scalars(select(Schedule.name).where(Schedule.script_id == script.id)
                              .order_by(Schedule.name)).all()
            if users:
                raise Conflict(f"Script '{name}' is used by the schedule"
                               f"{'s' if len(users) > 1 else ''} {', '.join(users)}; "
                               "delete those first")
            queued = s.scalars(select(QueuedRun.run_id).where(
                QueuedRun.script_id == script.id, QueuedRun.state != "finished")).all()
            if queued:
                s.execute(update(Run).where(Run.id.in_(queued)).values(
                    status="failure", error={"type": "RuntimeError", "message":
                                             "The script was deleted before the run ended",
                                             "line": None, "column": None}))
            versions = s.scalar(select(func.count()).select_from(ScriptVersion)
                                .where(ScriptVersion.script_id == script.id)) or 0
            s.delete(script)
        return int(versions)

    @staticmethod
    def _script(s: Session, name: str) -> Script:
        script = s.scalar(select(Script).where(Script.name == name))
        if script is None:
            raise NotFound(f"No script named '{name}'")
        return script

    @staticmethod
    def _version(s: Session, script: Script, number: int | None) -> ScriptVersion:
        if number is None:
            number = script.published_version or max(
                (v.number for v in script.versions), default=0)
        version = s.scalar(select(ScriptVersion).where(ScriptVersion.script_id == script.id,
                                                       ScriptVersion.number == number))
        if version is None:
            raise NotFound(f"Script '{script.name}' has no version {number}")
        return version

    @staticmethod
    def _info(script: Script, latest: int) -> ScriptInfo:
        return ScriptInfo(script.id, script.name, script.kind, script.module, script.location,
                          list(script.user_inputs or []), script.description,
                          script.published_version, latest, script.entry_name,
                          script.created_by, script.created_at, script.updated_at)

    @staticmethod
    def _live(script: Script, v: ScriptVersion) -> LiveScript:
        return LiveScript(script.id, script.name, script.kind, script.module, script.location,
                          list(script.user_inputs or []), v.number, v.source,
                          list(v.params or []))
