"""How precisely the log knows when an item was completed, for every place that shows the date.

The seed log states some completions with only a month ("… Oct 21", "Aug 2021"); the import stores the month's
first day, as a date must have a day. Showing "1 Oct 2021" would claim a day the log never gave, so a completion
date equal to the month its own text names (title, or an HMIC item's closing evidence) is shown as the month. The
text is read again rather than the precision stored: it is the log's own record and re-importing it keeps both in
step; a date a person records (``--on``) on another day than the 1st is always shown as the day.
"""

from __future__ import annotations

import datetime as dt

from bot.action_log.types import ActionView
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
    return f"{d:%b %Y}" if month_only(a) else f"{d.day} {d:%b %Y}"
