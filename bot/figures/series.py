"""Monthly series for trends and charts: for each of the last N months ending with as_of's month (oldest
first), the rows open at the month's end (for the current month: at as_of), and those opened and closed in
the month (the current month up to as_of).

Only the open count at as_of is computed directly; earlier month ends follow by walking back,
``open(end of m−1) = open(end of m) − opened in m + closed in m``, which holds because a row is never closed
before it is opened (the import refuses such rows). So the whole series is one statement of index range
counts, instead of N open-at-D scans that each read every row closed after that date.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Force
from bot.figures.dates import last_months
from bot.figures.source import (
    BAIL,
    NO_FILTERS,
    SOURCES,
    count_closed_between,
    count_open,
    count_opened_between,
    row_conditions,
)
from bot.figures.types import KINDS, Filters, MonthPoint


def monthly_series(
    session: Session,
    dataset: str,
    force: Force,
    as_of: dt.date,
    months: int,
    filters: Filters = NO_FILTERS,
    *,
    kind: str | None = None,
) -> list[MonthPoint]:
    """``dataset`` is wanted, suspects or bail; bail needs ``kind`` (bail or rui)."""
    try:
        src = SOURCES[dataset]
    except KeyError:
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {', '.join(SOURCES)}") from None
    if (src is BAIL) != (kind is not None):
        raise ValueError("kind (bail or rui) is required for the bail series and only for it")
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    conds = row_conditions(src, force.slug, as_of, filters, kind=kind)
    windows = last_months(as_of, months)
    cols = count_open(src, as_of, conds)
    for first, last in windows:
        cols += [count_opened_between(src, first, last, conds), count_closed_between(src, first, last, conds)]
    r = [int(x) for x in session.execute(select(*cols)).one()]

    open_at_end = r[0] + r[1]
    points: list[MonthPoint] = []
    for i in range(len(windows) - 1, -1, -1):
        opened, closed = r[2 + 2 * i], r[3 + 2 * i]
        points.append(MonthPoint(windows[i][0].strftime("%Y-%m"), open_at_end, opened, closed))
        open_at_end = open_at_end - opened + closed
    points.reverse()
    return points
