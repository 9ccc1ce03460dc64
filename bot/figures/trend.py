"""A figure month by month: each of the last months' end counts and what opened and closed in it, for `/mo … --trend`.

The numbers are the monthly series the summary's charts draw (:func:`bot.figures.series.monthly_series`: each month
end as the exports knew it then). What this adds is the coverage rule, so that no month reads as a number the data
cannot speak for (:mod:`bot.coverage`):

- a month end before the data's coverage has no open count (None), not a zero;
- a month that coverage starts part-way through has no opened and closed counts: they would hold only its covered
  days;
- a change is given only between two covered month ends, so the start of the data never reads as a rise;
- bail lapsed at a month end before the first bail export has no count (None): the end dates then are known only
  after the extensions granted since, so the count would be a floor that reads as fact (as the monthly summary).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.config import Force
from bot.coverage import covered_from, month_covered
from bot.dates import month_end, parse_month
from bot.figures.series import monthly_series
from bot.figures.types import Filters
from bot.freshness import first_export

# Twelve months back and the current one: this month against the same month a year ago, as the summary's charts.
TREND_MONTHS = 13
# `/mo` names the two kinds of bail period apart; the data keeps them in one dataset.
TREND_DATASETS = ("wanted", "suspects", "bail", "rui")


@dataclass(frozen=True)
class TrendMonth:
    first: dt.date  # the month's first day
    end: dt.date  # the day its open count is taken: the month's last day, or the as-of date for the current month
    open_at_end: int | None  # bail: active (lapsed apart); None: the end is before the data's coverage
    opened: int | None  # None: the month is not covered on every day
    closed: int | None
    lapsed_at_end: int | None  # bail only (0 for the others); None as open_at_end, or before the first bail export
    change: int | None  # open_at_end minus the previous month end's; None unless both ends are covered


@dataclass(frozen=True)
class Trend:
    dataset: str  # wanted | suspects | bail | rui
    as_of: dt.date
    months: tuple[TrendMonth, ...]  # oldest first; the last is the current month, up to as_of
    covered_from: dt.date | None  # the first date the data is complete from; None: never imported
    # The as-of date of the force's first export: a month end before it is rebuilt from that export, each case as
    # it stood then (bot.freshness.first_export).
    first_export: dt.date | None

    @property
    def rebuilt(self) -> tuple[TrendMonth, ...]:
        """The covered months whose end is before the first export."""
        return tuple(m for m in self.covered if self.first_export is not None and m.end < self.first_export)

    @property
    def lapsed_unknown(self) -> tuple[TrendMonth, ...]:
        """Bail: the covered months whose lapsed count is withheld (their end is before the first bail export)."""
        return tuple(m for m in self.covered if m.lapsed_at_end is None)

    @property
    def covered(self) -> tuple[TrendMonth, ...]:
        """The months whose end has a figure."""
        return tuple(m for m in self.months if m.open_at_end is not None)


def trend(
    session: Session, dataset: str, force: Force, as_of: dt.date, filters: Filters, months: int = TREND_MONTHS
) -> Trend:
    """``dataset`` is wanted, suspects, bail or rui. ``filters`` may not hold ``older_than_days``: "opened over N
    days ago" is fixed by one date, and a trend has one per month."""
    if dataset not in TREND_DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {', '.join(TREND_DATASETS)}")
    if filters.older_than_days is not None:
        raise ValueError("a trend takes no older_than_days: its cutoff would be one date for every month")
    source, kind = ("bail", dataset) if dataset in ("bail", "rui") else (dataset, None)
    start = covered_from(session, force.slug, source)
    earliest = first_export(session, force.slug, source)
    points = monthly_series(session, source, force, as_of, months, filters, kind=kind)
    out: list[TrendMonth] = []
    before: int | None = None
    for p in points:
        first = parse_month(p.month)
        end_covered = month_covered(start, first, as_of)
        whole = month_covered(start, first, as_of, whole_month=True)
        now = p.open_at_end if end_covered else None
        end = min(month_end(first), as_of)
        # Lapsed by an end date known only after the extensions since: no count (bail; RUI has no end date).
        ends_known = dataset != "bail" or earliest is None or end >= earliest
        out.append(
            TrendMonth(
                first=first,
                end=end,
                open_at_end=now,
                opened=p.opened if whole else None,
                closed=p.closed if whole else None,
                lapsed_at_end=p.lapsed_at_end if end_covered and ends_known else None,
                change=now - before if now is not None and before is not None else None,
            )
        )
        before = now
    return Trend(dataset=dataset, as_of=as_of, months=tuple(out), covered_from=start, first_export=earliest)
