"""The "N on <a month ago>" beside an open count, under an age filter.

The caseload services report ``open_a_month_ago`` under the filters of the answer, their age cutoff fixed by the
answer's date: today's cohort a month before. Beside "76 opened over 6 months ago" that number reads as "how many
were over 6 months old a month ago", and the cohort one is not that: it only shrinks as its cases close, so it shows
a fall every month whatever the real trend. The comparison asks the service again with the age counted back from
the earlier date (:meth:`bot.figures.types.Filters.counted_back_from`); the rows stay those known at the answer's
date, so the change is movement, not revision. Without an age filter the two filters are the same and nothing more
is computed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from bot.figures.types import Filters, SuspectFigures, WantedFigures

Caseload = TypeVar("Caseload", WantedFigures, SuspectFigures)


def with_month_ago_by_age(
    fig: Caseload, filters: Filters, earlier: Filters, figures: Callable[[Filters], Caseload]
) -> Caseload:
    """``fig`` (computed under ``filters``) with the month-ago count of ``figures(earlier)``."""
    if earlier == filters:
        return fig
    return replace(fig, open_a_month_ago=figures(earlier).open_a_month_ago)
