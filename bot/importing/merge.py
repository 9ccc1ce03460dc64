"""Set-based merge of the staging table into the store, one force at a time.

Upsert keyed by (force, reference): one pass over the staged rows keeps those that are new or whose values differ,
then an UPDATE … FROM them touches only the revised rows (so an unchanged row keeps its import_batch_id and a
re-import changes nothing), and an INSERT … SELECT adds the new ones.
With ``--snapshot``, open rows of the force absent from the file are closed as of the as-of date.
The action log is small and every changed field needs a history row, so it is merged row by row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ForeignKeyConstraint, UniqueConstraint, delete, select, text
from sqlalchemy.orm import Session
from sqlalchemy.schema import AddConstraint, DropConstraint

from bot.db import rowcount
from bot.importing.columns import CLOSED, OPENED, TABLES
from bot.importing.date_order import Conflict, LogConflict
from bot.importing.staging import STAGE, is_pg, iter_stage
from bot.importing.validate import staging_columns
from bot.log_text import split_initials, stated_date
from bot.models import IMPORT_NOTE_PREFIX, Action, ActionHistory, ActionOwner, Base

HISTORY: dict[str, str] = {"wanted": "wanted_history", "suspects": "suspect_history", "bail": "bail_period_history"}

# Bulk mode: adding at least this many rows, and at least half as many as the table already holds, is faster
# with the secondary indexes dropped and rebuilt in one sorted pass. It all happens inside the import's
# transaction, so a failure restores them. SQLite only: on PostgreSQL dropping an index takes an ACCESS EXCLUSIVE
# lock on the table, held until the import commits, so every answer that reads the table waited for the whole
# merge (measured: 1M new rows into a 1M-row table, answers stalled up to 32 s); SQLite readers keep reading the
# last committed version, indexes included, while the import writes.
BULK_MIN_ROWS = 50_000


@contextmanager
def bulk_mode(session: Session, dataset: str, staged: int) -> Iterator[bool]:
    """Drop and rebuild the table's secondary indexes around a large merge (SQLite); yields whether it did."""
    table = Base.metadata.tables[TABLES[dataset]]
    bulk = (
        not is_pg(session)
        and staged >= BULK_MIN_ROWS
        and _new_rows(session, table.name, staged) * 2 >= _row_estimate(session, table.name)
    )
    if not bulk:
        yield False
        return
    with rebuilt_indexes(session, dataset, keep_unique=False):
        yield True


@contextmanager
def rebuilt_indexes(session: Session, dataset: str, *, keep_unique: bool) -> Iterator[None]:
    """Drop the table's secondary indexes (and on PostgreSQL its primary key, its foreign key to import_batch and
    unless ``keep_unique`` its unique key), run the body, then build them again in one sorted pass each (the
    foreign key is added back NOT VALID). On an exception nothing is rebuilt: the caller's rollback restores them
    with everything else."""
    table = Base.metadata.tables[TABLES[dataset]]
    conn = session.connection()
    pg = is_pg(session)
    # The partial index of revised rows stays: an initial load writes first versions only, which are not in it,
    # so during the load it costs a predicate per row, while building it again afterwards scans the whole table
    # to find nothing (PostgreSQL: ~0.4 s per million rows, 6 % of the load).
    indexes = sorted((ix for ix in table.indexes if not str(ix.name).endswith("_revised")), key=lambda ix: str(ix.name))
    # SQLite cannot drop table constraints; there the unique key stays and the foreign key check is a cheap
    # primary-key probe of import_batch.
    # The primary key always goes: maintained row by row it cost the PostgreSQL server more during the COPY (a
    # b-tree insert and its WAL for every row: 1.4 s per million) than one sorted build of the ids afterwards
    # (0.4 s), and the server, not the client, sets the pace of the COPY once the unique key is maintained too.
    constraints = (
        [table.primary_key]
        + [c for c in table.constraints if isinstance(c, UniqueConstraint) and not keep_unique]
        + [fk for fk in table.foreign_key_constraints if fk.referred_table.name == "import_batch"]
        if pg
        else []
    )
    if pg:
        # Server memory for the index sorts; the default 64 MB spills a million-row sort to disk.
        conn.execute(text("SET LOCAL maintenance_work_mem = '1GB'"))
    for c in constraints:
        conn.execute(DropConstraint(c))
    for ix in indexes:
        ix.drop(conn)
    yield
    for ix in indexes:
        ix.create(conn)
    for c in constraints:
        if isinstance(c, ForeignKeyConstraint):
            # NOT VALID: no scan of the table to check what holds by construction — every row this import wrote
            # carries the id of a batch it inserted, and the others were already there — while every later write
            # is still checked (saves ~0.4 s per million rows; the constraint shows as not validated).
            ddl = AddConstraint(c).compile(dialect=conn.dialect)
            conn.execute(text(f"{ddl} NOT VALID"))
        else:
            conn.execute(AddConstraint(c))


def table_is_empty(session: Session, dataset: str) -> bool:
    return session.execute(text(f"SELECT 1 FROM {TABLES[dataset]} LIMIT 1")).first() is None


def _row_estimate(session: Session, table: str) -> int:
    if is_pg(session):
        # The planner's estimate: a count(*) over ten million rows would cost more than it saves.
        est = session.execute(text(f"SELECT reltuples::bigint FROM pg_class WHERE oid = '{table}'::regclass")).scalar()
        if est is not None and est >= 0:
            return int(est)
    return int(session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def _new_rows(session: Session, table: str, staged: int) -> int:
    if session.execute(text(f"SELECT 1 FROM {table} LIMIT 1")).first() is None:
        return staged
    return int(
        session.execute(
            text(
                f"SELECT count(*) FROM {STAGE} AS s WHERE NOT EXISTS "
                f"(SELECT 1 FROM {table} AS t WHERE t.force = s.force AND t.reference = s.reference)"
            )
        ).scalar_one()
    )


@dataclass
class MergeCounts:
    added: int = 0
    updated: int = 0
    closed: int = 0
    unchanged: int = 0
    # What the merge needs to tell which versions it wrote and replaced (bot/figures/day_counts.py): the rows'
    # ids before it, and the table of the versions it replaced (REPLACED, until the next merge).
    id_before: int | None = None


# The versions a merge replaced, as they were (every column of the case table): what the day counts take away.
REPLACED = "mo_replaced"
# The staged rows a merge writes, new (no case_id) or revised (the id of the case they revise).
CHANGES = "mo_changes"
# The ids of the open cases a snapshot closes, absent from the file.
ABSENT = "mo_absent"


# Columns whose value follows from another (bot/importing/validate.py): a file without the column still says it
# when it has the other — a closing date says the status (and its absence that the case is open), an end date goes
# with an outcome. (A wanted or suspect case's outcome is kept by the closure it describes: see merge_cases.)
_SAID_BY: dict[str, dict[str, tuple[str, ...]]] = {
    "wanted": {"status": ("closed_on",), "closed_on": ("status",)},
    "suspects": {"status": ("closed_on",), "closed_on": ("status",)},
    "bail": {"ended_on": ("outcome",), "outcome": ("ended_on",)},
}


# The columns that say a case closed, and how.
_CLOSURE: dict[str, frozenset[str]] = {
    "wanted": frozenset({"closed_on", "status", "outcome"}),
    "suspects": frozenset({"closed_on", "status", "outcome"}),
    "bail": frozenset({"ended_on", "outcome"}),
}


def kept_columns(dataset: str, present: frozenset[str]) -> tuple[str, ...]:
    """The staged columns a file with the columns ``present`` says nothing about: a case already stored keeps its
    values of them. A later export in another layout (no closing date, no officer, no review date) would otherwise
    clear them — and, without a closing date or status, reopen every closed case it lists."""
    said_by = _SAID_BY.get(dataset, {})
    return tuple(
        c
        for c in staging_columns(dataset)
        if c != "reference" and c not in present and not any(o in present for o in said_by.get(c, ()))
    )


def merge_cases(
    session: Session,
    dataset: str,
    force: str,
    batch_id: int,
    staged: int,
    as_of: dt.date,
    snapshot: bool,
    kept: tuple[str, ...] = (),
) -> MergeCounts:
    """Merge the staged rows of ``force`` into the wanted / suspect / bail_period table. ``kept``: columns the file
    does not have (:func:`kept_columns`); a case already stored keeps its values of them, a new one has none."""
    table = TABLES[dataset]
    cols = staging_columns(dataset)
    values = [c for c in cols if c != "reference"]
    differs = " IS DISTINCT FROM " if is_pg(session) else " IS NOT "
    same = " IS NOT DISTINCT FROM " if is_pg(session) else " IS "

    def staged_value(c: str) -> str:
        if c not in kept:
            return f"s.{c}"
        if c == "bail_end_on":  # an RUI has no bail end date, whatever the period had while it was bail
            return "CASE WHEN t.id IS NOT NULL AND s.kind = 'bail' THEN t.bail_end_on END"
        if c == "outcome" and dataset != "bail":
            # No outcome column: the outcome a closing status names, else the stored one while the closure it
            # describes stands (the same closing date) — not given to a case reopened, or closed again later.
            return (
                f"COALESCE(s.outcome, CASE WHEN t.id IS NOT NULL AND t.outcome{differs}'not_in_export' "
                f"AND t.closed_on{same}{staged_value('closed_on')} THEN t.outcome END)"
            )
        if c in _CLOSURE[dataset]:
            # A closure a snapshot made (the case was missing from a full export) is the bot's inference, not the
            # force's record: the case listed again is open again, as it always was.
            return f"CASE WHEN t.id IS NOT NULL AND t.outcome{differs}'not_in_export' THEN t.{c} ELSE s.{c} END"
        return f"CASE WHEN t.id IS NOT NULL THEN t.{c} ELSE s.{c} END"

    # What the merge would write differs from the stored row (a column kept as stored differs only where a
    # snapshot's closure is undone, or an RUI drops its bail end).
    compared = [c for c in values if c not in kept or c in _CLOSURE[dataset] or c == "bail_end_on"]
    changed = " OR ".join(f"t.{c}{differs}{staged_value(c)}" for c in compared) or "FALSE"

    params: dict[str, Any] = {"f": force, "b": batch_id, "d": _date(session, as_of)}
    id_before = session.execute(text(f"SELECT max(id) FROM {table}")).scalar()
    # One pass over the staged rows finds what the file changes: each staged row is looked up once by its key,
    # and only the new rows (no case) and the revised ones (a value differs) are kept, with their case's id. Every
    # later step reads that small table instead of comparing the whole file with the table again (the versions
    # to replace, the update, and an anti-join for the new rows were three passes over every staged row).
    # Empty, the staged columns typed as the stage's, and the id of the case each row revises (NULL: a new case).
    _temp_table(session, CHANGES, f"SELECT CAST(NULL AS bigint) AS case_id, {', '.join(cols)} FROM {STAGE} WHERE 1 = 0")
    session.execute(
        text(
            f"INSERT INTO {CHANGES} (case_id, {', '.join(cols)}) SELECT t.id, {', '.join(map(staged_value, cols))} "
            f"FROM {STAGE} AS s LEFT JOIN {table} AS t ON t.force = :f AND t.reference = s.reference "
            f"WHERE s.force = :f AND (t.id IS NULL OR {changed})"
        ),
        params,
    )
    session.execute(text(f"CREATE INDEX {CHANGES}_case ON {CHANGES} (case_id)"))
    if is_pg(session):
        # Its size and which rows are new, so the steps below probe the table by id rather than scan it.
        session.execute(text(f"ANALYZE {CHANGES}"))
    # The versions about to be replaced, kept as they are (the day counts take them away), then to the history,
    # valid until this import's as-of date (a version replaced on the day it became current was never valid on
    # any day: not kept).
    _temp_table(session, REPLACED, f"SELECT * FROM {table} WHERE 1 = 0")  # emptied by each merge
    session.execute(
        text(f"INSERT INTO {REPLACED} SELECT t.* FROM {table} AS t JOIN {CHANGES} AS c ON t.id = c.case_id")
    )
    hist, hcols = HISTORY[dataset], _history_columns(dataset)
    session.execute(
        text(
            f"INSERT INTO {hist} (case_id, {', '.join(hcols)}, valid_from, valid_to) "
            f"SELECT id, {', '.join(hcols)}, valid_from, :d FROM {REPLACED} WHERE valid_from < :d"
        ),
        params,
    )
    sets = ", ".join(f"{c} = c.{c}" for c in values)
    updated = rowcount(
        session.execute(
            text(
                f"UPDATE {table} AS t SET {sets}, import_batch_id = :b, valid_from = :d "
                f"FROM {CHANGES} AS c WHERE t.id = c.case_id"
            ),
            {"b": batch_id, "d": params["d"]},
        )
    )
    added = rowcount(
        session.execute(
            text(
                f"INSERT INTO {table} (force, {', '.join(cols)}, import_batch_id) "
                f"SELECT :f, {', '.join(cols)}, :b FROM {CHANGES} WHERE case_id IS NULL"
            ),
            params,
        )
    )
    session.execute(text(f"DROP TABLE {CHANGES}"))
    closed = 0
    if snapshot:
        closed = _snapshot_close(session, dataset, force, batch_id, as_of)
    return MergeCounts(
        added=added, updated=updated, closed=closed, unchanged=staged - added - updated, id_before=id_before
    )


def drop_replaced(session: Session) -> None:
    """Drop the replaced versions once their moves are counted: on SQLite a temporary table lives as long as the
    connection, and a serving process's connection outlives the import."""
    session.execute(text(f"DROP TABLE IF EXISTS {REPLACED}"))


def _temp_table(session: Session, name: str, select_sql: str, params: dict[str, Any] | None = None) -> None:
    """A temporary table ``name`` made from ``select_sql``, replacing one left by an earlier merge (dropped at
    commit on PostgreSQL, with the connection on SQLite, or by the merge when it is done with it)."""
    session.execute(text(f"DROP TABLE IF EXISTS {name}"))
    keep = " ON COMMIT DROP" if is_pg(session) else ""
    session.execute(text(f"CREATE TEMP TABLE {name}{keep} AS {select_sql}"), params or {})


def _snapshot_close(session: Session, dataset: str, force: str, batch_id: int, as_of: dt.date) -> int:
    table, opened, closed = TABLES[dataset], OPENED[dataset], CLOSED[dataset]
    # The outcome says why the bot closed it: it left the full export, not how it ended (a wanted circulation so
    # closed read "outcome not recorded" as if the export had closed it with no outcome).
    sets = f"{closed} = :d, outcome = 'not_in_export'" + ("" if dataset == "bail" else ", status = 'closed'")
    d = _date(session, as_of)
    # The open rows absent from the file, found once (an anti-join of the force's open rows with the whole
    # stage); their history, their copy for the day counts and their update then go by id. Rows opened after the
    # as-of date (from a later export) are left alone: closing them would close a row before it opened.
    _temp_table(
        session,
        ABSENT,
        f"SELECT id FROM {table} WHERE force = :f AND {closed} IS NULL AND {opened} <= :d AND NOT EXISTS "
        f"(SELECT 1 FROM {STAGE} AS s WHERE s.force = :f AND s.reference = {table}.reference)",
        {"f": force, "d": d},
    )
    by_id = f"id IN (SELECT id FROM {ABSENT})"
    hist, hcols = HISTORY[dataset], _history_columns(dataset)
    session.execute(
        text(
            f"INSERT INTO {hist} (case_id, {', '.join(hcols)}, valid_from, valid_to) "
            f"SELECT id, {', '.join(hcols)}, valid_from, :d FROM {table} WHERE {by_id} AND valid_from < :d"
        ),
        {"d": d},
    )
    session.execute(text(f"INSERT INTO {REPLACED} SELECT * FROM {table} WHERE {by_id}"))
    closed_rows = rowcount(
        session.execute(
            text(f"UPDATE {table} SET {sets}, import_batch_id = :b, valid_from = :d WHERE {by_id}"),
            {"b": batch_id, "d": d},
        )
    )
    session.execute(text(f"DROP TABLE {ABSENT}"))
    return closed_rows


def _date(session: Session, d: dt.date) -> Any:
    return d if is_pg(session) else d.isoformat()


def _history_columns(dataset: str) -> list[str]:
    """The case columns a history version keeps: every column of its history table but its own."""
    own = {"id", "case_id", "valid_from", "valid_to"}
    return [c.name for c in Base.metadata.tables[HISTORY[dataset]].columns if c.name not in own]


# The history's name of a field where it differs from the column's (bot.action_log.service writes one "owner" row).
_HISTORY_FIELD = {"owner_initials": "owner", "owner_user_id": "owner"}
_ACTION_FIELDS = (
    "pillar", "title", "detail", "owner_initials", "owner_user_id", "status", "due_on", "source", "notes", "kind",
    "evidence",
)  # fmt: skip


def _as_date(v: Any) -> dt.date | None:
    if v is None or isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(v)


def _history_text(v: Any) -> str | None:
    if v is None:
        return None
    return v.isoformat() if isinstance(v, dt.date) else str(v)


def _owner_rows(initials: str | None, user_id: str | None) -> list[tuple[str | None, str | None]]:
    """Each owner the row names: joint owners ("JM & JG") each get a row; a Slack user goes with a single owner."""
    parts = split_initials(initials)
    if len(parts) > 1:
        return [(p, None) for p in parts]
    return [(parts[0] if parts else None, user_id)] if parts or user_id else []


def _completed_on(row: dict[str, Any], as_of: dt.date, existing: dt.date | None) -> dt.date | None:
    """When a completed item was completed: the file's date, else the date its own text states ("introduced on
    13/9/21", "Oct 21"; an HMIC item's evidence "Closed by HMIC 2/22"), else what the log had, else the file's
    as-of date."""
    if row["status"] != "complete":
        return None
    stated = None
    # Not the notes: they talk about the log itself ("the July 2022 log also lists…").
    for cell in (row["title"], row["evidence"]):
        stated = stated or stated_date(cell, as_of)
    return _as_date(row["completed_on"]) or stated or existing or as_of


def merge_actions(
    session: Session,
    batches: dict[str, int],
    as_of: dt.date,
    now: dt.datetime,
    actor: str,
    file_name: str,
    columns: frozenset[str] | None = None,
    changed_since: Mapping[tuple[int, str], Conflict] | None = None,
) -> dict[str, MergeCounts]:
    """Upsert action-log items; every changed field of an existing action gets an ActionHistory row.

    ``changed_since``: the fields the bot changed after the file's date (:func:`bot_changes_after`); a file that would
    change any of them raises :class:`LogConflict` naming every one, after the merge (the caller rolls back).

    ``columns`` are the fields the file has: an existing action keeps its kind, recurrence and evidence when the
    file has no column for them (a log kept without them says nothing about them; it does not make every item a
    one-off action again). New items are then actions, one-off, with no evidence."""
    unstated = {"kind", "recurs", "evidence"} - columns if columns is not None else set()
    counts = {f: MergeCounts() for f in batches}
    conflicts: list[Conflict] = []
    existing = {
        (a.force, a.reference): a for a in session.scalars(select(Action).where(Action.force.in_(list(batches))))
    }
    note = f"{IMPORT_NOTE_PREFIX}{file_name}"
    for row in iter_stage(session, "actions"):
        force = row["force"]
        new = {k: row[k] for k in _ACTION_FIELDS}
        new["due_on"] = _as_date(new["due_on"])
        new["kind"] = new["kind"] or "action"
        new["recur_months"] = int(row["recurs"]) if row["recurs"] else None
        action = existing.get((force, row["reference"]))
        if action is not None:
            if "kind" in unstated:
                new["kind"] = action.kind
            if "recurs" in unstated:
                new["recur_months"] = action.recur_months
            if "evidence" in unstated:
                new["evidence"] = action.evidence
        if action is None:
            done = _completed_on(row, as_of, None)
            owners = _owner_rows(new["owner_initials"], new["owner_user_id"])
            session.add(
                Action(
                    force=force,
                    reference=row["reference"],
                    **new,
                    completed_on=done,
                    # The item was in the log by the file's date (or by when it was completed, if earlier).
                    opened_on=min(as_of, done) if done else as_of,
                    created_by=actor,
                    created_at=now,
                    updated_at=now,
                    version=1,
                    import_batch_id=batches[force],
                    owners=[ActionOwner(position=i, initials=ini, user_id=uid) for i, (ini, uid) in enumerate(owners)],
                )
            )
            counts[force].added += 1
            continue
        if new["owner_user_id"] is None and new["owner_initials"] == action.owner_initials:
            # Keep an owner linked by hand (in Slack) when the file names the same initials.
            new["owner_user_id"] = action.owner_user_id
        new["completed_on"] = _completed_on(row, as_of, action.completed_on)
        if new["completed_on"] is not None and action.opened_on is not None and new["completed_on"] < action.opened_on:
            new["opened_on"] = new["completed_on"]
        changes = [(k, getattr(action, k), v) for k, v in new.items() if getattr(action, k) != v]
        if not changes:
            counts[force].unchanged += 1
            continue
        if changed_since:
            fields = ["created", *dict.fromkeys(_HISTORY_FIELD.get(k, k) for k, _, _ in changes)]
            conflicts += [changed_since[(action.id, f)] for f in fields if (action.id, f) in changed_since]
        if any(k in ("owner_initials", "owner_user_id") for k, _, _ in changes):
            session.execute(delete(ActionOwner).where(ActionOwner.action_id == action.id))
            session.flush()
            owners = _owner_rows(new["owner_initials"], new["owner_user_id"])
            session.add_all(
                ActionOwner(action_id=action.id, position=i, initials=ini, user_id=uid)
                for i, (ini, uid) in enumerate(owners)
            )
            session.expire(action, ["owners"])
        for field, old, value in changes:
            setattr(action, field, value)
            session.add(
                ActionHistory(
                    action_id=action.id,
                    field=field,
                    old_value=_history_text(old),
                    new_value=_history_text(value),
                    changed_by=actor,
                    changed_at=now,
                    note=note,
                )
            )
        action.version += 1
        action.updated_at = now
        action.import_batch_id = batches[force]
        counts[force].updated += 1
    session.flush()
    if conflicts:
        raise LogConflict(file_name, as_of, conflicts)
    return counts
