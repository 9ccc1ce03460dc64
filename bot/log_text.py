"""What the subgroup's action log says in its own words: joint owners written as "JM & JG", "JM/JG" or "JM, JG",
and the dates achievements state in their text ("introduced on 13/9/21", "… Oct 21", "… Aug 2021",
"Closed by HMIC 2/22"). Shared by the import (``bot.importing``) and the action-log services."""

from __future__ import annotations

import calendar
import datetime as dt
import re

# The separators the log writes between joint owners.
_OWNER_SPLIT = re.compile(r"\s*(?:&|/|,|\+|\band\b)\s*", re.IGNORECASE)

_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_abbr) if m}
_MONTHS |= {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
_MONTHS["sept"] = 9
_MONTH_WORD = "|".join(sorted(_MONTHS, key=len, reverse=True))
# 13/9/21, 13/09/2021, 13-9-21
_DAY_MONTH_YEAR = re.compile(r"(?<![\d/])(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})(?![\d/])")
# Oct 21, Aug 2021, Aug21, August 2021 — a month name then a year (two digits or four)
_MONTH_YEAR = re.compile(rf"\b({_MONTH_WORD})\s*'?(\d{{4}}|\d{{2}})\b", re.IGNORECASE)
# "Closed by HMIC 2/22": month/year after a word saying something was closed or completed
_CLOSED_MONTH_YEAR = re.compile(
    r"\b(?:closed|completed|signed off)\b[^0-9]{0,40}?(\d{1,2})/(\d{2}|\d{4})(?![\d/])", re.IGNORECASE
)


def split_initials(text: str | None) -> list[str]:
    """``"JM & JG"``, ``"JM/JG"``, ``"JM, JG"`` → ``["JM", "JG"]`` (upper case, in the log's order, no repeats)."""
    return list(dict.fromkeys(p.strip().upper() for p in _OWNER_SPLIT.split(text or "") if p.strip()))


def _year(text: str) -> int:
    y = int(text)
    return 2000 + y if y < 100 else y


def stated_date(text: str | None, not_after: dt.date) -> dt.date | None:
    """The date a piece of the log's text states, or None. A day/month/year gives that day; a month and year
    (no day) gives the month's first day — the log says only the month. Dates after ``not_after`` (the log's
    own date) or before 2000 are not dates the text can mean, and are ignored."""
    found = stated(text, not_after)
    return found[0] if found else None


def stated(text: str | None, not_after: dt.date) -> tuple[dt.date, bool] | None:
    """The date a piece of the log's text states and whether it names the day (False: only the month)."""
    if not text:
        return None
    found: list[tuple[dt.date, bool]] = []
    for m in _DAY_MONTH_YEAR.finditer(text):
        try:
            found.append((dt.date(_year(m[3]), int(m[2]), int(m[1])), True))
        except ValueError:
            continue
    for m in _MONTH_YEAR.finditer(text):
        found.append((dt.date(_year(m[2]), _MONTHS[m[1].lower()], 1), False))
    for m in _CLOSED_MONTH_YEAR.finditer(text):
        if 1 <= int(m[1]) <= 12:
            found.append((dt.date(_year(m[2]), int(m[1]), 1), False))
    good = [f for f in found if dt.date(2000, 1, 1) <= f[0] <= not_after]
    return good[0] if good else None
