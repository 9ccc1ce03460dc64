"""The retention purge (DPA 2018 Part 3): personal rows closed longer than ``retention_days`` are deleted.

Only closed rows go — a circulation, suspect or bail period still open is never purged, however old. The
purge is audited with counts and the cutoff only; nothing of the purged rows is copied anywhere.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.audit import AuditEntry, record
from bot.coverage import record_cutoff
from bot.db import rowcount
from bot.figures.day_counts import rebuild_day_counts
from bot.figures.month_flow import rebuild_month_flows
from bot.figures.revisions import rebuild_revision_deltas
from bot.models import (
    BailHistory,
    BailPeriod,
    OutstandingSuspect,
    SuspectHistory,
    WantedCirculation,
    WantedHistory,
)
from bot.shared_answers import forget_force


@dataclass(frozen=True)
class PurgeCounts:
    force: str
    cutoff: dt.date  # rows closed before this date were deleted
    wanted: int
    suspects: int
    bail: int

    @property
    def total(self) -> int:
        return self.wanted + self.suspects + self.bail


def purge_force(
    session: Session, force: str, cutoff: dt.date, actor: str, at: dt.datetime, *, review_days: int = 28
) -> PurgeCounts:
    """Delete one force's rows closed before ``cutoff`` and audit the counts, in the caller's transaction
    (``review_days``: the configured review period the past-date corrections are rebuilt for)."""
    counts = []
    for model, closed, history in (
        (WantedCirculation, WantedCirculation.closed_on, WantedHistory),
        (OutstandingSuspect, OutstandingSuspect.closed_on, SuspectHistory),
        (BailPeriod, BailPeriod.ended_on, BailHistory),
    ):
        # Their earlier versions go with them (first: they are found through the rows about to go).
        gone = select(model.id).where(model.force == force, closed.is_not(None), closed < cutoff)
        session.execute(
            delete(history)
            .where(history.force == force, history.case_id.in_(gone))
            .execution_options(synchronize_session=False)
        )
        res = session.execute(
            delete(model)
            .where(model.force == force, closed.is_not(None), closed < cutoff)
            .execution_options(synchronize_session=False)
        )
        counts.append(rowcount(res))
    for dataset, n in zip(("wanted", "suspects", "bail"), counts, strict=True):
        if n:
            rebuild_month_flows(session, dataset, force)  # the purged rows leave the monthly series' flows
            # … and the changes their revisions made to past counts.
            rebuild_revision_deltas(session, dataset, force, review_days=review_days)
            rebuild_day_counts(session, dataset, force, review_days=review_days)  # … and today's rows' counts.
    if any(counts):
        # The answers shared for the current imports were computed with the rows just deleted.
        forget_force(session, force)
    # Figures before the cutoff would miss the rows just deleted: coverage starts there from now on.
    record_cutoff(session, force, cutoff)
    out = PurgeCounts(force, cutoff, *counts)
    record(
        session,
        AuditEntry(
            actor=actor,
            action="purge",
            outcome="ok",
            force=force,
            detail=f"retention purge: closed before {cutoff.isoformat()}: wanted {out.wanted}, "
            f"suspects {out.suspects}, bail/RUI {out.bail}",
            records_disclosed=0,
        ),
        at=at,
    )
    return out
