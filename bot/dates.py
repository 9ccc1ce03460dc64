"""Calendar arithmetic, the one place for it: calendar months, month ends, the last complete month. The figures do
their date boundaries here, in Python, so every boundary is a bound parameter and the SQL stays the same on
SQLite and PostgreSQL."""

from __future__ import annotations

import calendar
import datetime as dt
import functools
from collections.abc import Collection


def as_date(v: object) -> dt.date:
    """A date column's value as a date: SQLite's driver hands some back as ISO text (a grouped or computed
    column, which SQLAlchemy's Date type does not convert)."""
    return v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v)[:10])


def as_date_memo(v: object, memo: dict[object, dt.date]) -> dt.date:
    """:func:`as_date` for the many repeats of a grouped result's few dates: each distinct value parsed once."""
    d = memo.get(v)
    if d is None:
        d = memo[v] = as_date(v)
    return d


def add_months(d: dt.date, n: int) -> dt.date:
    """``d`` moved by ``n`` calendar months, the day clamped to the target month's end (31 Jan + 1 → 28/29 Feb)."""
    y, m0 = divmod(d.year * 12 + d.month - 1 + n, 12)
    return dt.date(y, m0 + 1, min(d.day, calendar.monthrange(y, m0 + 1)[1]))


def month_start(d: dt.date) -> dt.date:
    return d.replace(day=1)


def month_end(d: dt.date) -> dt.date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def last_complete_month(today: dt.date) -> str:
    """The month before ``today``'s, as ``YYYY-MM``: what a monthly summary made on ``today`` covers."""
    return add_months(month_start(today), -1).strftime("%Y-%m")


def a_month_before(d: dt.date) -> dt.date:
    """The same day of the previous month, or that month's last day when it is shorter (31 Mar → 28/29 Feb)."""
    return add_months(d, -1)


def latest_start_reaching(d: dt.date, n: int) -> dt.date:
    """The latest date ``t`` with ``add_months(t, n) <= d``.

    ``add_months(·, n)`` never decreases, so "start + n months <= d" holds exactly when ``start <= t``: a
    calendar-month band becomes a plain date comparison that an index can serve. Clamping makes several
    starts reach the same day (29, 30, 31 Jan + 1 month = 28 Feb), hence the short walk forward.
    """
    t = add_months(d, -n)
    while add_months(t + dt.timedelta(days=1), n) <= d:
        t += dt.timedelta(days=1)
    return t


def last_months(as_of: dt.date, months: int) -> list[tuple[dt.date, dt.date]]:
    """(first day, last day counted) of each of the last ``months`` months ending with as_of's month, oldest
    first; the current month ends at ``as_of``."""
    if months < 1:
        raise ValueError("months must be at least 1")
    out = []
    for k in range(months - 1, -1, -1):
        start = add_months(month_start(as_of), -k)
        out.append((start, as_of if k == 0 else month_end(start)))
    return out


def day_month_year(d: dt.date) -> str:
    """ "5 Dec 2026": the date as every answer and post writes it."""
    return f"{d.day} {d:%b %Y}"


def local_time(t: dt.datetime, tz: dt.tzinfo) -> str:
    """ "5 Dec 2026 09:12 GMT": a stored (UTC) time in the force's timezone, named, as every answer and post
    writes a time."""
    local = t.astimezone(tz)
    return f"{local.day} {local:%b %Y %H:%M %Z}"


AGE_UNITS = {"d": "day", "w": "week", "m": "month"}  # a length of time as typed: 90d, 12w, 6m


def age_days(amount: int, unit: str, before: dt.date) -> int:
    """Days in ``amount`` of ``unit`` (d, w or m) back from ``before``: months are calendar months."""
    if unit == "d":
        return amount
    if unit == "w":
        return 7 * amount
    return (before - add_months(before, -amount)).days


def age_words(amount: int, unit: str) -> str:
    """ "12 months", "1 week": a length of time as an answer says it."""
    return f"{amount:,} {AGE_UNITS[unit]}" + ("" if amount == 1 else "s")


def easter_sunday(year: int) -> dt.date:
    """Easter Sunday in the Gregorian calendar (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month = (h + ell - 7 * m + 114) // 31
    day = (h + ell - 7 * m + 114) % 31 + 1
    return dt.date(year, month, day)


def _monday_on_or_after(d: dt.date) -> dt.date:
    return d + dt.timedelta(days=(7 - d.weekday()) % 7)


@functools.cache
def bank_holidays(year: int) -> frozenset[dt.date]:
    """England and Wales's bank holidays of ``year`` by their standing rules (both forces are in England), with
    the substitute days when one falls at a weekend. One-off holidays proclaimed for a year (a coronation, a
    state funeral) are not known here: a force lists them in its ``days_off``."""
    new_year = dt.date(year, 1, 1)
    if new_year.weekday() >= 5:
        new_year = _monday_on_or_after(new_year)
    easter = easter_sunday(year)
    early_may = _monday_on_or_after(dt.date(year, 5, 1))
    spring = _monday_on_or_after(dt.date(year, 5, 25))  # the last Monday of May
    summer = _monday_on_or_after(dt.date(year, 8, 25))  # the last Monday of August
    christmas, boxing = dt.date(year, 12, 25), dt.date(year, 12, 26)
    if christmas.weekday() == 5:  # Saturday: Monday and Tuesday instead
        christmas, boxing = dt.date(year, 12, 27), dt.date(year, 12, 28)
    elif christmas.weekday() == 6:  # Sunday: Boxing Day on the Monday, Christmas on the Tuesday
        christmas = dt.date(year, 12, 27)
    elif boxing.weekday() == 5:  # Boxing Day on Saturday: the Monday
        boxing = dt.date(year, 12, 28)
    return frozenset(
        {new_year, easter - dt.timedelta(days=2), easter + dt.timedelta(days=1), early_may, spring, summer,
         christmas, boxing}
    )  # fmt: skip


def is_working_day(d: dt.date, days_off: Collection[dt.date] = ()) -> bool:
    """Monday to Friday, not a bank holiday in England and Wales, and not one of ``days_off`` (a force's own list:
    a one-off bank holiday the standing rules do not know, a day the force closes)."""
    return d.weekday() < 5 and d not in bank_holidays(d.year) and d not in days_off


def working_day_on_or_before(d: dt.date, days_off: Collection[dt.date] = ()) -> dt.date:
    while not is_working_day(d, days_off):
        d -= dt.timedelta(days=1)
    return d


def parse_month(value: str) -> dt.date:
    """'YYYY-MM' → the month's first day; ValueError naming the expected form."""
    try:
        return dt.datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        raise ValueError(f"{value!r} is not a month in the form YYYY-MM (e.g. 2026-10)") from None
