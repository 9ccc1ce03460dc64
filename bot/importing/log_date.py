"""The date an action log states for itself, used as an action-log import's as-of date when none is given.

A log written up for a meeting names its date in its rows' ``source`` ("Managing Offenders Strategy, Appendix 1
(July 2022)"): items it records as complete with no date of their own were complete *by* then, not on the day the
file happens to be imported. A month without a day means the month's last day. Rows whose source names no date
(an HMICFRS report's title) say nothing; sources naming different dates leave the date to the person importing.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.dates import day_month_year
from bot.log_text import stated


@dataclass(frozen=True)
class LogDate:
    as_of: dt.date | None  # None: the file states no date of its own
    refusal: str | None = None


def _as_date(v: Any) -> dt.date | None:
    if v is None or isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(str(v))


def stated_log_date(rows: Iterable[dict[str, Any]], today: dt.date) -> LogDate:
    """The log's own date from its rows (staged action rows: ``source``, ``completed_on``, ``reference``)."""
    named: dict[dt.date, str] = {}
    completed: list[tuple[str, dt.date]] = []
    for row in rows:
        found = stated(row.get("source"), today)
        if found is not None:
            day, has_day = found
            end = day if has_day else day.replace(day=calendar.monthrange(day.year, day.month)[1])
            named.setdefault(end, str(row.get("reference")))
        done = _as_date(row.get("completed_on"))
        if done is not None:
            completed.append((str(row.get("reference")), done))
    if not named:
        return LogDate(None)
    if len(named) > 1:
        listed = ", ".join(f"{day_month_year(d)} ({ref})" for d, ref in sorted(named.items())[:4])
        return LogDate(None, f"the rows' sources name different dates for the log ({listed}); say which date the "
                             "log is as of with --as-of YYYY-MM-DD")  # fmt: skip
    (as_of,) = named
    later = [(ref, d) for ref, d in completed if d > as_of]
    if later:
        ref, d = later[0]
        return LogDate(None, f"the log states its date as {day_month_year(as_of)} but {ref} was completed on "
                             f"{day_month_year(d)}, after it; give the date with --as-of YYYY-MM-DD")  # fmt: skip
    return LogDate(as_of)
