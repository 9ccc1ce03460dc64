"""Coverage: from which date a force's dataset is complete, so that no answer states a number for a date the
imported data cannot speak for.

An import covers from its as-of date on, or from an earlier date it declares (``mo-bot import --covers-from
DATE``: the file holds every case that was open on or after DATE). A dataset is complete from the earliest date
any of its imports covers — but never before the force's latest retention purge, which deleted the rows closed
before its cutoff (a figure before the cutoff would miss them). Before that date an answer says "no <dataset>
data before <date>", and a comparison with a date before it is left out rather than shown as a rise.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.dates import month_end
from bot.models import ImportBatch, RetentionCutoff


def covered_from(session: Session, force: str, dataset: str) -> dt.date | None:
    """The first date ``force``'s ``dataset`` is complete from; None when it was never imported."""
    b = ImportBatch
    start = session.scalar(
        select(func.min(func.coalesce(b.covers_from, b.as_of))).where(b.force == force, b.dataset == dataset)
    )
    if start is None:
        return None
    cutoff = session.scalar(select(RetentionCutoff.cutoff).where(RetentionCutoff.force == force))
    return max(start, cutoff) if cutoff is not None else start


def is_covered(start: dt.date | None, at: dt.date) -> bool:
    """Whether a figure at ``at`` rests on complete data (``start`` from :func:`covered_from`)."""
    return start is not None and at >= start


def month_covered(start: dt.date | None, first: dt.date, as_of: dt.date, *, whole_month: bool = False) -> bool:
    """Whether the month beginning ``first`` has a figure: its end (the open count at the month's last day, or at
    ``as_of`` for the current month), or with ``whole_month`` every day of it (its opened and closed counts: a month
    that coverage starts part-way through would count only its covered days)."""
    return is_covered(start, first if whole_month else min(month_end(first), as_of))


def record_cutoff(session: Session, force: str, cutoff: dt.date) -> None:
    """Remember a purge's cutoff (only ever moves forward), in the purge's transaction."""
    row = session.get(RetentionCutoff, force)
    if row is None:
        session.add(RetentionCutoff(force=force, cutoff=cutoff))
    elif cutoff > row.cutoff:
        row.cutoff = cutoff
    session.flush()
