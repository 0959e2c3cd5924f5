"""The service's sub-commands of `sluice`: scripts, schedules, runs, tokens, serve, worker.

    sluice scripts add NAME FILE --kind function|button|schedule [--module M] ...
    sluice scripts list|show|versions|diff|publish|rollback|run|delete|expose|unexpose ...
    sluice schedules add|list|show|pause|resume|run-now|delete ...
    sluice runs list|show|replay|prune ...
    sluice tokens create --role admin|runner | list | revoke ID
    sluice serve [--host H] [--port P]      sluice worker

Only argparse is imported here: `sluice run` builds this parser too and must start fast.
The database is the one of SLUICE_DATABASE_URL (or SQLite in SLUICE_HOME), migrated on
first use. Exit codes: 0 ok; 1 a script failed, does not compile, or the request
conflicts with the current state; 2 misuse (a bad option or field, an unknown name).
"""

from __future__ import annotations

__all__ = ["register"]

import argparse
import json
import sys
from typing import Any

from ..cliargs import non_negative_int as _non_negative_int
from ..cliargs import positive_int as _positive_int
from ..cliargs import seconds as _seconds


def _who() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # no user name in this environment (containers)
        return "cli"


def _print_json(value: Any) -> None:
    from ..values import to_json_text

    sys.stdout.write(to_json_text(value) + "\n")


def _table(rows: list[list[Any]], header: list[str]) -> None:
    cells = [header] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    for row in cells:
        sys.stdout.write("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() + "\n")


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else "-"


_opened: list[Any] = []   # engines and brokers of this command, closed when it ends


def _open(need_broker: bool = False) -> Any:
    from ..store.db import make_engine
    from ..triggers.setup import open_triggers

    engine = make_engine()
    _opened.append(engine)
    broker = None
    if need_broker:
        from ..connections.keycheck import require_node_key
        from ..triggers.setup import ensure_schema
        from .registry import ServiceRegistry, service_broker

        ensure_schema(engine)
        broker = service_broker(ServiceRegistry(engine, keyring=require_node_key(engine)))
        _opened.append(broker)
    return open_triggers(engine, broker=broker, node=f"cli:{_who()}")


def _guarded(command: Any) -> Any:
    """Turn trigger-layer errors into the command line's messages and exit codes."""
    def run(args: argparse.Namespace) -> int:
        from sqlalchemy.exc import SQLAlchemyError

        from ..cli import UsageError
        from ..triggers.errors import (
            Conflict, InvalidField, InvalidSource, NotFound, Unavailable, store_failure,
        )
        from .server import ServiceError

        try:
            code: int = command(args)
            return code
        except (InvalidField, NotFound) as exc:
            raise UsageError(str(exc)) from None
        except InvalidSource as exc:
            sys.stderr.write(exc.diagnostic + "\n")
            return 1
        except (Conflict, Unavailable, ServiceError) as exc:
            sys.stderr.write(f"sluice {args.command}: error: {exc}\n")
            return 1
        except SQLAlchemyError as exc:
            sys.stderr.write(f"sluice {args.command}: error: the database is unavailable: "
                             f"{store_failure(exc)}\n")
            return 1
        finally:
            while _opened:
                opened = _opened.pop()   # brokers before their engine
                if hasattr(opened, "dispose"):
                    opened.dispose()
                else:
                    opened.close()
    return run


# -- scripts --------------------------------------------------------------------------------
def _user_input(text: str) -> dict[str, Any]:
    """NAME[:TYPE][!]: a declared button input; `!` makes it required."""
    required = text.endswith("!")
    name, _, kind = text.rstrip("!").partition(":")
    return {"name": name, "type": kind or "text", "required": required}


def cmd_scripts_add(args: argparse.Namespace) -> int:
    from ..cli import _read_script

    raw = _read_script(args.file)
    try:
        source = raw.decode("utf-8")
    except UnicodeDecodeError:
        from ..cli import UsageError
        raise UsageError(f"{args.file}: not UTF-8 text") from None
    triggers = _open()
    version = triggers.catalog.save(
        args.name, source, kind=args.kind, module=args.module, location=args.location,
        user_inputs=[_user_input(u) for u in args.user_input] if args.user_input else None,
        description=args.description, author=args.author or _who(),
        message=args.message or "", publish=not args.draft)
    if args.json:
        _print_json(version.to_json())
    else:
        sys.stdout.write(f"{args.name}: version {version.number} ({version.status})\n")
    return 0


def cmd_scripts_list(args: argparse.Namespace) -> int:
    scripts = _open().catalog.list(args.kind)
    if args.json:
        _print_json([s.to_json() for s in scripts])
        return 0
    _table([[s.name, s.kind, s.module or "-", s.location or "-",
             s.published_version or "-", s.latest_version, _when(s.updated_at)]
            for s in scripts], ["NAME", "KIND", "MODULE", "LOCATION", "PUBLISHED", "LATEST",
                                "UPDATED"])
    return 0


def cmd_scripts_show(args: argparse.Namespace) -> int:
    triggers = _open()
    info = triggers.catalog.get(args.name)
    version = triggers.catalog.version(args.name, args.version)
    if args.json:
        _print_json({**info.to_json(), "version": version.to_json()})
        return 0
    sys.stdout.write(f"name:      {info.name}\nkind:      {info.kind}\n")
    if info.module:
        sys.stdout.write(f"module:    {info.module}\n")
    if info.location:
        sys.stdout.write(f"location:  {info.location}\n")
    if info.user_inputs:
        names = ", ".join(u["name"] + ("!" if u.get("required") else "")
                          for u in info.user_inputs)
        sys.stdout.write(f"inputs:    {names}\n")
    if version.params:
        sys.stdout.write("params:    " + ", ".join(f"{p['type']} {p['name']}"
                                                  for p in version.params) + "\n")
    sys.stdout.write(f"version:   {version.number} ({version.status}) by "
                     f"{version.author or '-'} at {_when(version.created_at)}"
                     f"{': ' + version.message if version.message else ''}\n\n")
    sys.stdout.write(version.source or "")
    if version.source and not version.source.endswith("\n"):
        sys.stdout.write("\n")
    return 0


def cmd_scripts_versions(args: argparse.Namespace) -> int:
    versions = _open().catalog.versions(args.name)
    if args.json:
        _print_json([v.to_json() for v in versions])
        return 0
    _table([[v.number, v.status, v.author or "-", _when(v.created_at), v.message]
            for v in versions], ["VERSION", "STATUS", "AUTHOR", "SAVED", "MESSAGE"])
    return 0


def cmd_scripts_diff(args: argparse.Namespace) -> int:
    sys.stdout.write(_open().catalog.diff(args.name, args.old, args.new))
    return 0


def cmd_scripts_publish(args: argparse.Namespace) -> int:
    version = _open().catalog.publish(args.name, args.version, by=_who())
    sys.stdout.write(f"{args.name}: version {version.number} published\n")
    return 0


def cmd_scripts_rollback(args: argparse.Namespace) -> int:
    version = _open().catalog.rollback(args.name, args.version, by=_who())
    sys.stdout.write(f"{args.name}: rolled back; version {version.number} published\n")
    return 0


def cmd_scripts_run(args: argparse.Namespace) -> int:
    from ..cli import UsageError, _parse_inputs
    from ..triggers.launcher import Actor

    inputs = _parse_inputs(args.input or [], args.inputs)
    triggers = _open(need_broker=True)
    actor = Actor.named(_who())
    kind = triggers.catalog.get(args.name).kind
    if kind == "button":
        try:
            # exact decimals: a record's 12.50 stays 12.50, as the API reads bodies
            from decimal import Decimal

            record = json.loads(args.record, parse_float=Decimal) if args.record else None
            records = json.loads(args.records, parse_float=Decimal) if args.records else None
        except ValueError as exc:
            raise UsageError(f"--record/--records: not valid JSON ({exc})") from None
        except RecursionError:
            raise UsageError("--record/--records: nested deeper than the nesting limit of "
                             "512 levels") from None
        outcome: Any = triggers.launcher.click_button(args.name, record=record,
                                                      records=records, inputs=inputs,
                                                      actor=actor)
        ok = outcome.reply is not None
    elif kind == "function":
        outcome = triggers.launcher.execute_function(args.name, inputs, actor=actor,
                                                     trigger="cli")
        ok = outcome.result.ok
    else:
        raise UsageError(f"{args.name}: schedule scripts run from their schedule "
                         "(sluice schedules run-now NAME)")
    if args.json:
        _print_json(outcome.to_json())
    else:
        _show_result(outcome.result, outcome.to_json(), outcome.run_id)
    return 0 if ok else 1


def cmd_scripts_delete(args: argparse.Namespace) -> int:
    versions = _open().catalog.delete(args.name)
    sys.stdout.write(f"{args.name}: deleted with {versions} version"
                     f"{'s' if versions != 1 else ''}\n")
    return 0


def cmd_scripts_expose(args: argparse.Namespace) -> int:
    from ..triggers.webhooks import WebhookBook

    triggers = _open()
    token = WebhookBook(triggers.sessions, triggers.catalog).expose(args.name, by=_who())
    base = (args.base_url or "http://127.0.0.1:8080").rstrip("/")
    sys.stdout.write(f"{args.name} is exposed; POST JSON (or GET with a query) to the URL "
                     "below. It is shown once: the URL is the credential\n")
    sys.stdout.write(f"{base}/hooks/{token}\n")
    return 0


def cmd_scripts_unexpose(args: argparse.Namespace) -> int:
    from ..triggers.webhooks import WebhookBook

    triggers = _open()
    count = WebhookBook(triggers.sessions, triggers.catalog).revoke(args.name)
    sys.stdout.write(f"{args.name}: {count} webhook{'s' if count != 1 else ''} revoked\n")
    return 0


def _show_result(result: Any, data: dict[str, Any], run_id: int) -> None:
    from ..values import display

    for line in result.logs:
        sys.stdout.write(line + "\n")
    if "code" in data:
        sys.stdout.write(f"code: {data['code']}\nmessage: {data['message']}\n")
    elif "header_context" in data:
        _print_json({"header_context": data["header_context"], "data": data["data"]})
    elif result.error is None and result.value is not None:
        sys.stdout.write(f"return: {display(result.value)}\n")
    if result.error is not None and "code" not in data:
        e = result.error
        where = f":{e.line}:{e.column}" if e.line else ""
        sys.stderr.write(f"{e.filename}{where}: {e.type}: {e.message}\n")
    sys.stderr.write(f"run {run_id}\n")


# -- schedules ------------------------------------------------------------------------------
def _schedule_request(args: argparse.Namespace) -> dict[str, Any]:
    from ..cli import _parse_inputs

    recurrence: dict[str, Any] = {"kind": "cron" if args.cron else args.repeat,
                                  "interval": args.every}
    for key in ("days", "day", "nth", "weekday", "month", "cron"):
        if getattr(args, key) is not None:
            recurrence[key] = getattr(args, key)
    end = {"after": args.end_after} if args.end_after else \
        {"on": args.end_on} if args.end_on else None
    return {"name": args.name, "script": args.script, "recurrence": recurrence,
            "start": args.start, "timezone": args.timezone, "end": end,
            "misfire": args.misfire, "misfire_grace": args.misfire_grace,
            "no_overlap": not args.allow_overlap, "retries": args.retries,
            "retry_backoff": args.retry_backoff,
            "inputs": _parse_inputs(args.input or [], args.inputs)}


def _show_schedule(info: Any) -> None:
    end = f"after {info.end_after} runs" if info.end_after else \
        f"on {_when(info.end_on)} UTC" if info.end_on else "never"
    sys.stdout.write(
        f"name:      {info.name}\nscript:    {info.script}\nwhen:      {info.description} "
        f"({info.timezone})\nstart:     {info.start}\nends:      {end}\n"
        f"misfire:   {info.misfire} (grace {info.misfire_grace:g} s)\n"
        f"overlap:   {'no' if info.no_overlap else 'allowed'}\n"
        f"retries:   {info.retries} (backoff {info.retry_backoff:g} s)\n"
        f"state:     {'paused' if info.paused else 'active'}; fired {info.fired_count}\n")
    sys.stdout.write("next runs:" + ("" if info.upcoming else " none") + "\n")
    for t in info.upcoming:
        local = t.astimezone(_zone(info.timezone))
        sys.stdout.write(f"  {local:%Y-%m-%d %H:%M:%S %Z}  ({t:%Y-%m-%d %H:%M:%S} UTC)\n")


def _zone(name: str) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def cmd_schedules_add(args: argparse.Namespace) -> int:
    triggers = _open()
    info = triggers.schedules.add(_schedule_request(args), by=_who())
    if args.json:
        _print_json(info.to_json())
    else:
        _show_schedule(info)
    return 0


def cmd_schedules_list(args: argparse.Namespace) -> int:
    schedules = _open().schedules.list()
    if args.json:
        _print_json([s.to_json() for s in schedules])
        return 0
    _table([[s.name, s.script, s.description, s.timezone,
             "paused" if s.paused else "active", _when(s.next_fire_at), s.fired_count]
            for s in schedules], ["NAME", "SCRIPT", "WHEN", "TIME ZONE", "STATE",
                                  "NEXT (UTC)", "FIRED"])
    return 0


def cmd_schedules_show(args: argparse.Namespace) -> int:
    triggers = _open()
    info = triggers.schedules.get(args.name, preview=args.next)
    occurrences = triggers.schedules.occurrences(args.name, args.occurrences)
    if args.json:
        _print_json({**info.to_json(), "occurrences": [o.to_json() for o in occurrences]})
        return 0
    _show_schedule(info)
    if occurrences:
        sys.stdout.write("occurrences:\n")
        _table([[o.id, _when(o.fire_at), o.state, o.attempt, o.run_id or "-",
                 o.reason or ""] for o in occurrences],
               ["ID", "FIRE (UTC)", "STATE", "ATTEMPT", "RUN", "REASON"])
    return 0


def cmd_schedules_pause(args: argparse.Namespace) -> int:
    _open().schedules.pause(args.name)
    sys.stdout.write(f"{args.name}: paused\n")
    return 0


def cmd_schedules_resume(args: argparse.Namespace) -> int:
    info = _open().schedules.resume(args.name)
    sys.stdout.write(f"{args.name}: active; next run {_when(info.next_fire_at)} UTC\n")
    return 0


def cmd_schedules_run_now(args: argparse.Namespace) -> int:
    occurrence = _open().schedules.run_now(args.name)
    sys.stdout.write(f"{args.name}: occurrence {occurrence.id} queued; a running "
                     "`sluice serve` or `sluice worker` runs it\n")
    return 0


def cmd_schedules_delete(args: argparse.Namespace) -> int:
    _open().schedules.delete(args.name)
    sys.stdout.write(f"{args.name}: deleted\n")
    return 0


# -- runs -----------------------------------------------------------------------------------
def cmd_runs_list(args: argparse.Namespace) -> int:
    triggers = _open()
    schedule_id = triggers.schedules.get(args.schedule, preview=0).id if args.schedule \
        else None
    runs = triggers.history.list(script=args.script, trigger=args.trigger,
                                 status=args.status, schedule_id=schedule_id,
                                 limit=args.limit)
    if args.json:
        _print_json([r.summary() for r in runs])
        return 0
    _table([[r.id, _when(r.started_at), r.trigger, r.script_name, r.script_version or "-",
             r.status, r.stats.get("duration_ms", "-"),
             (r.error or {}).get("message", "")[:60]] for r in runs],
           ["ID", "STARTED (UTC)", "TRIGGER", "SCRIPT", "VERSION", "STATUS", "MS", "ERROR"])
    return 0


def cmd_runs_show(args: argparse.Namespace) -> int:
    record = _open().history.get(args.id)
    if args.json:
        _print_json(record.to_json())
        return 0
    data = record.to_json()
    for key in ("run_id", "trigger", "script", "version", "status", "started_at",
                "finished_at", "actor", "node", "attempt", "replay_of", "schedule_id"):
        if data.get(key) is not None:
            sys.stdout.write(f"{key + ':':<13}{data[key]}\n")
    from ..values import to_json_text

    for key in ("inputs", "return", "error", "stats", "http", "mail"):
        if data.get(key) not in (None, [], {}):
            sys.stdout.write(f"{key + ':':<13}{to_json_text(data[key])}\n")
        if key == "inputs" and record.inputs_truncated is not None:
            sys.stdout.write(f"{'':<13}{_inputs_cut(record.inputs_truncated)}\n")
    if record.logs:
        sys.stdout.write("logs:\n" + "".join(f"  {line}\n" for line in record.logs))
    return 0


def _inputs_cut(marker: dict[str, Any]) -> str:
    left_out = marker.get("keys_left_out")
    return (f"(inputs cut when stored: {marker.get('bytes', 0):,} bytes of JSON, over the "
            f"cap of {marker.get('cap', 0):,} (SLUICE_RUN_INPUT_BYTES)"
            + (f", {left_out} keys left out" if left_out else "")
            + "; this run cannot be replayed)")


def cmd_runs_replay(args: argparse.Namespace) -> int:
    from ..triggers.launcher import Actor

    triggers = _open(need_broker=True)
    outcome = triggers.launcher.replay(args.id, version=args.version,
                                       actor=Actor.named(_who()))
    if args.json:
        _print_json(outcome.to_json())
    else:
        _show_result(outcome.result, outcome.to_json(), outcome.run_id)
    return 0 if outcome.result.ok else 1


def cmd_runs_prune(args: argparse.Namespace) -> int:
    import datetime as dt

    from ..triggers.history import RetentionPolicy

    triggers = _open()
    policy = RetentionPolicy(max_age=dt.timedelta(days=args.older_than) if args.older_than
                             else None, max_count=args.keep)
    deleted = triggers.history.prune(policy, triggers.clock.now())
    sys.stdout.write(f"{deleted} run{'s' if deleted != 1 else ''} deleted\n")
    return 0


# -- tokens ---------------------------------------------------------------------------------
def _tokens() -> Any:
    from .tokens import TokenBook

    triggers = _open()
    return TokenBook(triggers.sessions, triggers.clock)


def cmd_tokens_create(args: argparse.Namespace) -> int:
    info, token = _tokens().create(args.role, args.name or "", by=_who())
    sys.stdout.write(f"token {info.id} ({info.role}) created; it is shown once, below\n")
    sys.stdout.write(token + "\n")
    return 0


def cmd_tokens_list(args: argparse.Namespace) -> int:
    tokens = _tokens().list()
    if args.json:
        _print_json([t.to_json() for t in tokens])
        return 0
    _table([[t.id, t.name or "-", t.role, t.prefix + "…", _when(t.created_at),
             _when(t.last_used_at), "revoked" if t.revoked_at else "active"]
            for t in tokens], ["ID", "NAME", "ROLE", "PREFIX", "CREATED", "LAST USED",
                               "STATE"])
    return 0


def cmd_tokens_revoke(args: argparse.Namespace) -> int:
    info = _tokens().revoke(args.token)
    sys.stdout.write(f"token {info.id} revoked\n")
    return 0


# -- processes ------------------------------------------------------------------------------
def _node_options(args: argparse.Namespace) -> Any:
    from .server import NodeOptions

    import datetime as dt

    from ..triggers.history import RetentionPolicy

    retention = RetentionPolicy(
        max_age=dt.timedelta(days=args.keep_days) if args.keep_days else None,
        max_count=args.keep_runs or None)
    return NodeOptions(concurrency=args.concurrency, poll=args.poll, lease=args.lease,
                       batch=args.batch, grace=args.grace, node=args.node,
                       retention=retention, isolated=not args.in_process,
                       metrics_port=getattr(args, "metrics_port", None))


def cmd_serve(args: argparse.Namespace) -> int:
    from .server import serve

    return serve(args.host, args.port, _node_options(args), scheduler=not args.no_scheduler)


def cmd_worker(args: argparse.Namespace) -> int:
    from .server import work

    return work(_node_options(args))


_NODE_ENVIRONMENT = """environment:
  SLUICE_DATABASE_URL    the shared database (PostgreSQL for several nodes)
  SLUICE_MASTER_KEY      the key the connections' secrets are sealed with
  SLUICE_SMTP_URL        deliver sendmail through smtp://USER@HOST:PORT (STARTTLS when
                         offered; ?starttls=require|off) or smtps://USER@HOST:PORT
  SLUICE_SMTP_PASSWORD   the SMTP password (never in the URL or on the command line)
  SLUICE_LOG_FORMAT      json or text (default: json when stderr is not a terminal)
"""


def _node_arguments(p: argparse.ArgumentParser) -> None:
    p.epilog = _NODE_ENVIRONMENT
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("--concurrency", type=_positive_int, default=4, metavar="N",
                   help="scheduled runs executed at once (default 4)")
    p.add_argument("--batch", type=_positive_int, default=128, metavar="N",
                   help="most occurrences claimed at once (default 128): a claim takes 16 "
                        "at first, twice as many after each claim that came back full, up "
                        "to N, so a deep queue is claimed in large batches and a few due "
                        "occurrences are shared between nodes")
    p.add_argument("--lease", type=_seconds, default=30.0, metavar="SECONDS",
                   help="lease of a claimed occurrence, renewed while it runs (default 30); "
                        "on PostgreSQL the node's statement, lock and idle-transaction "
                        "timeouts are fractions of it")
    p.add_argument("--poll", type=_seconds, default=1.0, metavar="SECONDS",
                   help="longest wait before looking for new work (default 1)")
    p.add_argument("--grace", type=_seconds, default=10.0, metavar="SECONDS",
                   help="on SIGTERM, time for in-flight runs before they are re-queued "
                        "(default 10)")
    p.add_argument("--node", metavar="ID", help="this node's name in leases and runs "
                   "(default host:pid)")
    p.add_argument("--in-process", action="store_true",
                   help="run scripts in this process instead of isolated children (trusted "
                        "local use only: no memory limit, the process holds the secrets); "
                        "isolated children of a root host run as SLUICE_ISOLATION_USER "
                        "(default uid 65532, 'none' keeps root); an isolated child serves up "
                        "to SLUICE_WARM_RUNS runs of one script (default 50; 1: a fresh child "
                        "per run)")
    p.add_argument("--keep-days", type=_non_negative_int, default=30, metavar="DAYS",
                   help="retention: delete runs older than this (default 30; 0 keeps all); "
                        "each field of a run record is cut at SLUICE_RUN_FIELD_BYTES "
                        "(default 65536), its inputs at SLUICE_RUN_INPUT_BYTES of JSON "
                        "(default 1048576; a run whose inputs were cut cannot be replayed)")
    p.add_argument("--keep-runs", type=_non_negative_int, default=100_000, metavar="N",
                   help="retention: keep at most the newest N runs (default 100000; 0 keeps "
                        "all)")


def register(sub: Any) -> None:
    """Add the service's commands to `sluice`'s sub-parsers."""
    _register_scripts(sub)
    _register_schedules(sub)
    _register_runs(sub)
    _register_tokens(sub)
    _register_processes(sub)


def _register_scripts(sub: Any) -> None:
    """`scripts`: stored functions, buttons and schedule scripts and their versions."""
    scripts = sub.add_parser("scripts", help="stored functions, buttons and schedule scripts")
    ssub = scripts.add_subparsers(dest="action", metavar="ACTION")
    ssub.required = True
    p = ssub.add_parser("add", help="save a script from a file as a new version and "
                        "publish it")
    p.add_argument("name")
    p.add_argument("file", help="the .dg file")
    p.add_argument("--kind", choices=("function", "button", "schedule"),
                   help="required for a new script")
    p.add_argument("--module", help="the module it belongs to, e.g. invoices")
    p.add_argument("--location", choices=("details", "list"),
                   help="buttons: details page (one record) or list bulk action")
    p.add_argument("--user-input", action="append", metavar="NAME[:TYPE][!]",
                   help="buttons: a declared user input; '!' makes it required")
    p.add_argument("--description")
    p.add_argument("--message", "-m", help="what changed in this version")
    p.add_argument("--author", help="default: the current user")
    p.add_argument("--draft", action="store_true", help="save without publishing")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_guarded(cmd_scripts_add))
    p = ssub.add_parser("list", help="list scripts")
    p.add_argument("--kind", choices=("function", "button", "schedule"))
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_guarded(cmd_scripts_list))
    p = ssub.add_parser("show", help="a script's settings and source")
    p.add_argument("name")
    p.add_argument("--version", type=_positive_int, help="default: the published one")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_guarded(cmd_scripts_show))
    p = ssub.add_parser("versions", help="a script's saved versions")
    p.add_argument("name")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_guarded(cmd_scripts_versions))
    p = ssub.add_parser("diff", help="a unified diff between two versions")
    p.add_argument("name")
    p.add_argument("old", nargs="?", type=_positive_int,
                   help="default: the published version")
    p.add_argument("new", nargs="?", type=_positive_int, help="default: the latest version")
    p.set_defaults(func=_guarded(cmd_scripts_diff))
    p = ssub.add_parser("publish", help="publish a version (default: the latest)")
    p.add_argument("name")
    p.add_argument("version", nargs="?", type=_positive_int)
    p.set_defaults(func=_guarded(cmd_scripts_publish))
    p = ssub.add_parser("rollback", help="publish an older version again")
    p.add_argument("name")
    p.add_argument("version", type=_positive_int)
    p.set_defaults(func=_guarded(cmd_scripts_rollback))
    p = ssub.add_parser("delete", help="delete a script, its versions and webhooks")
    p.add_argument("name")
    p.set_defaults(func=_guarded(cmd_scripts_delete))
    p = ssub.add_parser("expose", help="expose a function at a webhook URL with its own "
                        "secret token (printed once, on the last line)")
    p.add_argument("name")
    p.add_argument("--base-url", metavar="URL", help="where `sluice serve` is reached "
                   "(default http://127.0.0.1:8080)")
    p.set_defaults(func=_guarded(cmd_scripts_expose))
    p = ssub.add_parser("unexpose", help="revoke every webhook URL of a script")
    p.add_argument("name")
    p.set_defaults(func=_guarded(cmd_scripts_unexpose))
    p = ssub.add_parser("run", help="run a stored function (or click a button) and record "
                        "the run")
    p.add_argument("name")
    p.add_argument("--input", action="append", metavar="NAME=JSON")
    p.add_argument("--inputs", metavar="FILE.json")
    p.add_argument("--record", metavar="JSON", help="buttons: the record")
    p.add_argument("--records", metavar="JSON", help="list buttons: the selected records")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_guarded(cmd_scripts_run))


def _register_schedules(sub: Any) -> None:
    """`schedules`: when schedule scripts run."""
    schedules = sub.add_parser("schedules", help="when schedule scripts run")
    csub = schedules.add_subparsers(dest="action", metavar="ACTION")
    csub.required = True
    p = csub.add_parser("add", help="schedule a schedule script")
    p.add_argument("name")
    p.add_argument("--script", required=True)
    when = p.add_mutually_exclusive_group(required=True)
    when.add_argument("--repeat", choices=("once", "hourly", "daily", "weekly", "monthly",
                                           "yearly"))
    when.add_argument("--cron", metavar="EXPR", help="a cron expression (5 or 6 fields)")
    p.add_argument("--every", type=_positive_int, default=1, metavar="N",
                   help="every N hours/days/weeks/months/years (default 1)")
    p.add_argument("--days", metavar="mon,wed", help="weekly: the days")
    p.add_argument("--day", metavar="N|last", help="monthly/yearly: the day of the month")
    p.add_argument("--nth", metavar="first..fifth|last",
                   help="monthly/yearly: the n-th --weekday of the month")
    p.add_argument("--weekday", metavar="mon..sun")
    p.add_argument("--month", metavar="1..12|jan..dec", help="yearly: the month")
    p.add_argument("--start", metavar="YYYY-MM-DDTHH:MM",
                   help="first run, wall-clock time in --timezone (default: next minute); "
                        "its time of day is when the schedule runs")
    p.add_argument("--timezone", metavar="IANA", help="default SLUICE_TIMEZONE or UTC")
    end = p.add_mutually_exclusive_group()
    end.add_argument("--end-after", type=_positive_int, metavar="N", help="stop after N runs")
    end.add_argument("--end-on", metavar="DATE", help="no runs after this date")
    p.add_argument("--misfire", choices=("run-once", "skip"), default="run-once",
                   help="after downtime: run the latest missed time once, or skip them")
    p.add_argument("--misfire-grace", type=_seconds, default=60.0, metavar="SECONDS",
                   help="how late a run may start and still count as on time (default 60)")
    p.add_argument("--allow-overlap", action="store_true",
                   help="let a run start while the previous one still runs")
    p.add_argument("--retries", type=int, default=0, metavar="N",
                   help="retries of a failed run, with exponential backoff")
    p.add_argument("--retry-backoff", type=_seconds, default=30.0, metavar="SECONDS",
                   help="first retry delay, doubled each time (default 30)")
    p.add_argument("--input", action="append", metavar="NAME=JSON")
    p.add_argument("--inputs", metavar="FILE.json")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_guarded(cmd_schedules_add))
    p = csub.add_parser("list", help="list schedules")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_guarded(cmd_schedules_list))
    p = csub.add_parser("show", help="a schedule, its next runs and its occurrences")
    p.add_argument("name")
    p.add_argument("--next", type=_positive_int, default=5, metavar="N",
                   help="how many next runs to preview (default 5)")
    p.add_argument("--occurrences", type=_positive_int, default=10, metavar="N")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_guarded(cmd_schedules_show))
    for action, fn, text in (("pause", cmd_schedules_pause, "stop firing until resumed"),
                             ("resume", cmd_schedules_resume, "fire again from now on"),
                             ("run-now", cmd_schedules_run_now, "queue a run due now"),
                             ("delete", cmd_schedules_delete, "delete a schedule")):
        p = csub.add_parser(action, help=text)
        p.add_argument("name")
        p.set_defaults(func=_guarded(fn))


def _register_runs(sub: Any) -> None:
    """`runs`: the run history."""
    runs = sub.add_parser("runs", help="the run history")
    rsub = runs.add_subparsers(dest="action", metavar="ACTION")
    rsub.required = True
    p = rsub.add_parser("list", help="recent runs, newest first")
    p.add_argument("--script")
    p.add_argument("--trigger", choices=("function", "button", "schedule", "replay", "cli",
                                         "webhook"))
    p.add_argument("--status", choices=("success", "failure", "queued", "running"))
    p.add_argument("--schedule", metavar="NAME")
    p.add_argument("--limit", type=_positive_int, default=20)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_guarded(cmd_runs_list))
    p = rsub.add_parser("show", help="one run in full")
    p.add_argument("id", type=_positive_int)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_guarded(cmd_runs_show))
    p = rsub.add_parser("replay", help="run again with the recorded inputs",
                        description="Run a recorded run again with its stored inputs. A run "
                        "whose inputs were over SLUICE_RUN_INPUT_BYTES (default 1048576 "
                        "bytes of JSON) was stored with its inputs cut and is refused "
                        "(exit 2).")
    p.add_argument("id", type=_positive_int)
    p.add_argument("--version", choices=("original", "current"), default="original",
                   help="the version the run used (default) or the published one")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_guarded(cmd_runs_replay))
    p = rsub.add_parser("prune", help="delete old runs")
    p.add_argument("--older-than", type=_positive_int, metavar="DAYS")
    p.add_argument("--keep", type=_positive_int, metavar="N", help="keep the newest N runs")
    p.set_defaults(func=_guarded(cmd_runs_prune))


def _register_tokens(sub: Any) -> None:
    """`tokens`: API tokens of the HTTP API."""
    tokens = sub.add_parser("tokens", help="API tokens of the HTTP API")
    tsub = tokens.add_subparsers(dest="action", metavar="ACTION")
    tsub.required = True
    p = tsub.add_parser("create", help="create a token; it is printed once, on the last line")
    p.add_argument("--role", choices=("admin", "runner"), required=True)
    p.add_argument("--name", help="what the token is for")
    p.set_defaults(func=_guarded(cmd_tokens_create))
    p = tsub.add_parser("list", help="list tokens (never their secrets)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_guarded(cmd_tokens_list))
    p = tsub.add_parser("revoke", help="revoke a token by id or prefix")
    p.add_argument("token", metavar="ID|PREFIX")
    p.set_defaults(func=_guarded(cmd_tokens_revoke))


def _register_processes(sub: Any) -> None:
    """The long-running processes: `serve` and `worker`."""
    p = sub.add_parser("serve", help="serve the HTTP API, the OAuth callback and a scheduler")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--no-scheduler", action="store_true",
                   help="serve the API only (run `sluice worker` elsewhere)")
    _node_arguments(p)
    p.set_defaults(func=_guarded(cmd_serve))
    p = sub.add_parser("worker", help="run a scheduler node: claim and execute schedules")
    _node_arguments(p)
    p.add_argument("--metrics-port", type=_positive_int, metavar="PORT",
                   help="serve this worker's Prometheus metrics on PORT (all interfaces)")
    p.set_defaults(func=_guarded(cmd_worker))
