"""Which import the forward aggregates hold (``ahead_state``) and the first day they answer for.

From the latest import's as-of date on, the current rows are the rows as known and only the calendar moves, so
some figures that are not sums of the day counts can still be counted once per import and read without the rows:
the distinct people (bot/figures/people_ahead.py) and the month's closures by outcome (bot/figures/closed_ahead.py).
Both are counted and stamped together (bot/figures/ahead.py); a reader trusts them at a date D only when the stamp
names the force's latest batch of the dataset and D is on or after ``start``: the latest import's as-of date, or a
later opened date if a row is dated after it (so every row that counts at D was opened by D).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.dates import as_date
from bot.figures.month_flow import latest_batch
from bot.figures.source import SOURCES, WANTED
from bot.figures.types import Filters
from bot.models import AheadState, ImportBatch


def first_day(session: Session, dataset: str, force: str) -> dt.date | None:
    """The first day the aggregates can answer for (None: never imported)."""
    src = SOURCES[dataset]
    as_of = session.scalar(
        select(func.max(ImportBatch.as_of)).where(ImportBatch.force == force, ImportBatch.dataset == dataset)
    )
    if as_of is None:
        return None
    opened = session.scalar(select(func.max(src.opened)).where(src.model.force == force))
    return max(as_of, as_date(opened)) if opened is not None else as_of


def ahead_start(session: Session, dataset: str, force: str) -> dt.date | None:
    """``start`` when the aggregates hold the force's latest import of ``dataset``, else None."""
    row = session.execute(
        select(AheadState.import_batch_id, AheadState.start).where(
            AheadState.force == force, AheadState.dataset == dataset
        )
    ).first()
    if row is None or row.import_batch_id is None or row.import_batch_id != latest_batch(session, force, dataset):
        return None
    return as_date(row.start)


def answers_at(session: Session, dataset: str, force: str, at: dt.date, filters: Filters) -> bool:
    """Whether the aggregates answer a question at ``at`` under ``filters``: they hold the latest import, ``at`` is
    on or after their first day, and no ``older_than`` (it cuts on the opened date, which they do not keep). A
    reason filter outside wanted is left to the rows, which refuse it."""
    if filters.older_than_days is not None or (filters.reason and dataset != WANTED.dataset):
        return False
    start = ahead_start(session, dataset, force)
    return start is not None and at >= start
