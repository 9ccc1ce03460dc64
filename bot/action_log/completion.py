"""How precisely the log knows when an item was completed, for every place that shows the date.

A completion a person records in the bot has the day they gave. An imported one has the date its log states, or,
when the log states none, the log's own date: it was done *by* then, and is shown so ("by 31 Jul 2022"), not as a
day the log never gave.

The seed log states some completions with only a month ("… Oct 21", "Aug 2021"); the import stores the month's
first day, as a date must have a day. Showing "1 Oct 2021" would claim a day the log never gave, so a completion
date equal to the month its own text names (title, or an HMIC item's closing evidence) is shown as the month. The
text is read again rather than the precision stored: it is the log's own record and re-importing it keeps both in
step; a date a person records (``--on``) on another day than the 1st is always shown as the day.
"""

from __future__ import annotations

import datetime as dt

from bot.action_log.types import ActionView
from bot.dates import day_month_year
from bot.log_text import stated


def stated_completion(a: ActionView) -> tuple[dt.date, bool] | None:
    """The completion date as the item's own text states it, and whether it names the day; None when the text
    states no date or another date than the one stored."""
    if a.completed_on is None:
        return None
    for text in (a.title, a.evidence):
        found = stated(text, a.completed_on)
        if found is not None and found[0] == a.completed_on:
            return found
    return None


def month_only(a: ActionView) -> bool:
    found = stated_completion(a)
    return found is not None and not found[1]


def completed_label(a: ActionView) -> str:
    """ "13 Sep 2021", or "Oct 2021" when the log names only the month; "" when not completed."""
    d = a.completed_on
    if d is None:
        return ""
    return f"{d:%b %Y}" if month_only(a) else day_month_year(d)


def completion_text(a: ActionView, recorded: bool | None = None) -> str:
    """ "13 Sep 2021" (recorded by a person, or the day the log states), "Oct 2021" (the log names only the month),
    "by 31 Jul 2022" (the log only says it was done by its own date); "" when not completed. ``recorded``: whether a
    person recorded it (default: as the view says; the paper dated in the past says as of its date)."""
    if a.completed_on is None:
        return ""
    if a.completion_recorded if recorded is None else recorded:
        return day_month_year(a.completed_on)
    if stated_completion(a) is not None:
        return completed_label(a)
    return f"by {day_month_year(a.completed_on)}"
