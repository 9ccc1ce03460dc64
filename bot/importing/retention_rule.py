"""The retention rule at import: a row closed longer ago than ``retention_days`` is never loaded.

The nightly purge (bot/retention.py) deletes such rows; without this rule the next import of an export that still
lists them would add them back. Here they are taken out of the stage before the merge (and a stored row the
export now shows closed that long ago goes too, with its history, as the purge would take it), or — after an
initial load straight into the empty table — deleted from it in the same transaction. The report counts them
per force: "N rows past the retention period, not loaded".
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from bot.db import rowcount
from bot.importing.columns import CLOSED, TABLES
from bot.importing.merge import HISTORY
from bot.importing.staging import STAGE, is_pg


def retention_cutoff(local_today: dt.date, retention_days: int) -> dt.date:
    """Rows closed before this date are past retention (the purge's own cutoff)."""
    return local_today - dt.timedelta(days=retention_days)


def _d(session: Session, d: dt.date) -> Any:
    return d if is_pg(session) else d.isoformat()


def drop_expired_from_stage(
    session: Session, dataset: str, cutoff: dt.date, stored_gone: set[str] | None = None
) -> dict[str, int]:
    """Per force, the staged rows past retention, removed from the stage (and any stored row of theirs; the forces
    that lost a stored row are added to ``stored_gone``)."""
    closed, table, hist = CLOSED[dataset], TABLES[dataset], HISTORY[dataset]
    d = _d(session, cutoff)
    counts = {
        str(f): int(n)
        for f, n in session.execute(
            text(f"SELECT force, count(*) FROM {STAGE} WHERE {closed} < :d GROUP BY force"), {"d": d}
        )
    }
    if not counts:
        return {}
    expired = f"SELECT s.reference FROM {STAGE} AS s WHERE s.force = :f AND s.{closed} < :d"
    for f in counts:
        stored = f"SELECT id FROM {table} WHERE force = :f AND reference IN ({expired})"
        session.execute(text(f"DELETE FROM {hist} WHERE force = :f AND case_id IN ({stored})"), {"f": f, "d": d})
        gone = session.execute(
            text(f"DELETE FROM {table} WHERE force = :f AND reference IN ({expired})"), {"f": f, "d": d}
        )
        if rowcount(gone) and stored_gone is not None:
            stored_gone.add(f)
    session.execute(text(f"DELETE FROM {STAGE} WHERE {closed} < :d"), {"d": d})
    return counts


def drop_expired_loaded(session: Session, dataset: str, forces: list[str], cutoff: dt.date) -> dict[str, int]:
    """After an initial load into the empty table: per force, the loaded rows past retention, deleted."""
    closed, table = CLOSED[dataset], TABLES[dataset]
    out: dict[str, int] = {}
    for f in forces:
        res = session.execute(
            text(f"DELETE FROM {table} WHERE force = :f AND {closed} < :d"), {"f": f, "d": _d(session, cutoff)}
        )
        n = rowcount(res)
        if n:
            out[f] = n
    return out
