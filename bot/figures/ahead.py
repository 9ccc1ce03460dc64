"""Counting the forward aggregates once per import, in its transaction (bot/importing/service.py and
bot/importing/unchanged.py): the distinct people and the month's closures by outcome, stamped with the batch
(bot/figures/ahead_state.py). Each is counted from the rows that matter from ``start`` on — the rows counting then
and the closures of its month — so the cost follows the open caseload and a month's closures, not the history."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.dates import as_date
from bot.figures.ahead_state import first_day
from bot.figures.closed_ahead import count_closures
from bot.figures.merged import Merged
from bot.figures.month_flow import latest_batch
from bot.figures.people_ahead import Key, apply_people_delta, count_people, people_delta
from bot.figures.source import SOURCES
from bot.models import AheadState, ClosedAhead, ImportBatch, PeopleAhead


def rebuild_ahead(session: Session, dataset: str, force: str) -> None:
    """Count ``force``'s ``dataset`` aggregates again and stamp them with its latest batch."""
    for model in (PeopleAhead, ClosedAhead, AheadState):
        session.execute(delete(model).where(model.force == force, model.dataset == dataset))
    start = first_day(session, dataset, force)
    if start is None:
        return
    count_people(session, dataset, force, start)
    count_closures(session, dataset, force, start)
    batch = latest_batch(session, force, dataset)
    session.add(AheadState(force=force, dataset=dataset, import_batch_id=batch, start=start))
    session.flush()


@dataclass(frozen=True)
class AheadChange:
    """What a merge changed in the people counts, and the first day they answer for after it."""

    people: dict[Key, tuple[int, int]]  # (people, named rows)
    start: dt.date


def merge_ahead(session: Session, what: Merged) -> AheadChange | None:
    """A merge's change to the people counts, from the rows it wrote and the versions it replaced (``what``) —
    or None when they must be counted whole: they were not for the previous import, that import or this one is
    out of date order, or a row is dated after the as-of date (the first day would move)."""
    dataset, force, as_of = what.dataset, what.force, what.as_of
    state = session.get(AheadState, (force, dataset))
    previous = session.execute(
        select(ImportBatch.id, ImportBatch.as_of)
        .where(ImportBatch.force == force, ImportBatch.dataset == dataset, ImportBatch.id < what.batch_id)
        .order_by(ImportBatch.id.desc())
        .limit(1)
    ).first()
    if state is None or previous is None or state.import_batch_id != previous.id:
        return None
    old_start = as_date(state.start)
    if old_start != as_date(previous.as_of) or as_of < old_start:
        return None
    src = SOURCES[dataset]
    for written in (what.revised, what.added):  # apart: each through its own index
        latest = session.scalar(select(func.max(src.opened)).where(*written))
        if latest is not None and as_date(latest) > as_of:
            return None
    return AheadChange(people_delta(session, what, old_start, as_of), as_of)


def apply_ahead(session: Session, dataset: str, force: str, change: AheadChange) -> None:
    """Apply a merge's :class:`AheadChange`, count the closures of its month again (a range of closed dates) and
    stamp both with the latest batch."""
    apply_people_delta(session, dataset, force, change.people, change.start)
    session.execute(delete(ClosedAhead).where(ClosedAhead.force == force, ClosedAhead.dataset == dataset))
    count_closures(session, dataset, force, change.start)
    session.execute(delete(AheadState).where(AheadState.force == force, AheadState.dataset == dataset))
    batch = latest_batch(session, force, dataset)
    session.add(AheadState(force=force, dataset=dataset, import_batch_id=batch, start=change.start))
    session.flush()


def carry_ahead(session: Session, dataset: str, force: str, previous_batch: int) -> None:
    """After an import that changed no row: what was counted for ``previous_batch`` still holds for every date from
    its first day on (the rows are the same); stamp it with the new batch and the new first day. Counted whole if
    it was not for that batch."""
    state = session.get(AheadState, (force, dataset))
    if state is None or state.import_batch_id != previous_batch:
        rebuild_ahead(session, dataset, force)
        return
    state.import_batch_id = latest_batch(session, force, dataset)
    # The same rows, so the latest opened date is the same: the first day is the later of it and the new as-of date.
    as_of = session.scalar(select(ImportBatch.as_of).where(ImportBatch.id == state.import_batch_id))
    if as_of is not None:
        state.start = max(as_date(state.start), as_date(as_of))
    session.flush()
