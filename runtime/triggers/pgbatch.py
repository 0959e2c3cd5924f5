"""The scheduler's batched writes on PostgreSQL, one statement each.

`advance_and_insert` (materializing): the locked compare-and-set of the schedules' next
fire times and the insert of the occurrences of those that advanced, as one statement
instead of a locked read, an UPDATE and an INSERT (three round trips per pass):

    WITH v AS (SELECT * FROM unnest(id, old next fire time, new one, count)),
         locked AS (SELECT ... FROM schedules JOIN v ... WHERE next_fire_at = old
                    FOR UPDATE SKIP LOCKED),
         advanced AS (UPDATE schedules ... WHERE id IN locked AND next_fire_at = old
                      RETURNING id),
         inserted AS (INSERT INTO schedule_occurrences SELECT ... FROM unnest(...)
                      WHERE schedule_id IN advanced ON CONFLICT DO NOTHING)
    SELECT id FROM advanced

A schedule another node is writing is skipped (it stays due and is taken on a later
pass), one whose next fire time moved meanwhile is left alone, and only the occurrences
of the schedules advanced are inserted; the unique (schedule, fire time) key still makes
a fire time one occurrence.

`settle_fenced` (finishing a batch): the portable path (`Scheduler.finish` on SQLite) takes the rows first with a fencing
UPDATE, then inserts the run records, settles the occurrences with a second UPDATE and
frees the no-overlap guards with a third: each occurrence row is written twice. On
PostgreSQL one statement does the fence, the settlement and the guards' release:

    WITH v AS (SELECT * FROM unnest(an array per field)),
         settled AS (UPDATE schedule_occurrences ... FROM v
                     WHERE id, attempt match AND lease_owner = this node AND running
                     RETURNING id, attempt, run_id, ...),
         released AS (UPDATE schedules SET busy_... = NULL FROM settled WHERE ...)
    SELECT id, attempt, run_id FROM settled

The fence stays in the UPDATE itself (a row another node re-claimed, or one that is no
longer running under this node's lease, is neither settled nor released), and the run
ids come from the runs' own sequence (`nextval`) in that UPDATE, so the records are then
inserted with those ids for exactly the rows it returned, in the same transaction. Each
occurrence row is written once; a batch is two statements and the commit.
"""

from __future__ import annotations

__all__ = ["advance_and_insert", "run_id_sequence", "settle_fenced"]

from typing import Any

from sqlalchemy import Connection, Table

from ..store.db import typed_unnest, unnest_arrays

# (field, PostgreSQL array element type) of each settlement, in the order of `v`
_FIELDS = (("o_id", "integer"), ("o_attempt", "integer"), ("o_state", "varchar"),
           ("o_reason", "text"), ("o_record", "boolean"), ("o_lost", "integer"),
           ("o_due", "timestamptz"), ("o_finished", "timestamptz"),
           ("o_release", "boolean"))
# (field, element type) of each schedule advanced while materializing, in the order of `v`
_ADVANCE = (("b_id", "integer"), ("b_old", "timestamptz"), ("b_next", "timestamptz"),
            ("b_count", "integer"))


def run_id_sequence(connection: Connection) -> str | None:
    """The sequence that numbers run records (the `runs.id` serial), or None."""
    name = connection.exec_driver_sql(
        "SELECT pg_get_serial_sequence('runs', 'id')").scalar()
    return str(name) if name else None


def settle_fenced(connection: Connection, node: str, sequence: str,
                  settlements: list[dict[str, Any]]) -> list[tuple[int, int, int | None]]:
    """Settle the occurrences of `settlements` that still carry their token (id,
    attempt) under `node`'s running lease; each settlement holds the `_FIELDS` (`o_record`:
    it gets a run record, whose id is taken from `sequence`; `o_release`: it frees its
    schedule's no-overlap guard). Returns (occurrence id, attempt, run id or None) of the
    rows settled: the claims this node still held."""
    unnest, params = typed_unnest(
        _FIELDS, {name: [s[name] for s in settlements] for name, _ in _FIELDS})
    params["node"] = node
    seq = "'" + sequence.replace("'", "''") + "'"
    sql = (
        f"WITH v ({', '.join(n for n, _ in _FIELDS)}) AS (SELECT * FROM {unnest}), "
        "settled AS (UPDATE schedule_occurrences AS o SET state = v.o_state, "
        "reason = v.o_reason, "
        f"run_id = CASE WHEN v.o_record THEN nextval({seq}::regclass) END, "
        "reclaims = o.reclaims + v.o_lost, due_at = coalesce(v.o_due, o.due_at), "
        "finished_at = v.o_finished, lease_owner = NULL, lease_expires_at = NULL "
        "FROM v WHERE o.id = v.o_id AND o.attempt = v.o_attempt "
        "AND o.lease_owner = %(node)s AND o.state = 'running' "
        "RETURNING o.id, o.attempt, o.run_id, o.schedule_id, v.o_release), "
        "released AS (UPDATE schedules AS s SET busy_occurrence_id = NULL, "
        "busy_until = NULL FROM settled WHERE settled.o_release "
        "AND s.id = settled.schedule_id AND s.busy_occurrence_id = settled.id) "
        "SELECT id, attempt, run_id FROM settled")
    return [(r[0], r[1], r[2]) for r in connection.exec_driver_sql(sql, params)]


def advance_and_insert(connection: Connection, occurrences: Table,
                       advances: list[dict[str, Any]],
                       rows: list[dict[str, Any]]) -> set[int]:
    """Advance each schedule of `advances` (b_id, b_old, b_next, b_count) whose next fire
    time is still b_old and that no other transaction holds, and insert those schedules'
    occurrence `rows` (columns of `occurrences`); returns the ids of the schedules
    advanced."""
    unnest, params = typed_unnest(
        _ADVANCE, {name: [a[name] for a in advances] for name, _ in _ADVANCE})
    sql = (f"WITH v ({', '.join(n for n, _ in _ADVANCE)}) AS (SELECT * FROM {unnest}), "
           "locked AS (SELECT s.id FROM schedules AS s JOIN v ON s.id = v.b_id "
           "WHERE s.next_fire_at = v.b_old ORDER BY s.id FOR UPDATE OF s SKIP LOCKED), "
           "advanced AS (UPDATE schedules AS s SET next_fire_at = v.b_next, "
           "fired_count = v.b_count FROM v WHERE s.id = v.b_id "
           "AND s.next_fire_at = v.b_old AND s.id IN (SELECT id FROM locked) "
           "RETURNING s.id)")
    if rows:
        names, unnest, values = unnest_arrays(connection.dialect, occurrences, rows,
                                              prefix="r")
        params.update(values)
        quote = connection.dialect.identifier_preparer.quote
        listed = ", ".join(quote(n) for n in names)
        sql += (f", inserted AS (INSERT INTO {quote(occurrences.name)} ({listed}) "
                f"SELECT * FROM {unnest} AS r ({listed}) WHERE r.schedule_id IN "
                "(SELECT id FROM advanced) ON CONFLICT (schedule_id, fire_at) DO NOTHING)")
    sql += " SELECT id FROM advanced"
    return {row[0] for row in connection.exec_driver_sql(sql, params)}
