"""The "N on <a month ago>" beside an answer's count: the figure a month back as the exports known on that day gave
it — what `--as-of` that day, the trend's month ends and the monthly summary give for it, so no answer puts a
number beside a date that the others contradict. (Counted with today's knowledge instead, an export that revised
that day — a bail period extended after it lapsed, a case reported late — made "6 on 30 Sep" where every other
answer said 5.) The change shown is then the figures' change, as the trend's is: movement and revision together.

Under an age filter the earlier figure is of the cases over that age on that day (the age counted back from it:
:meth:`bot.figures.types.Filters.asked_at`), not today's cohort a month before, which only shrinks as its cases
close. The figures services' own ``open_a_month_ago`` keep both ends with the answer's knowledge (movement only):
the JSON gives that one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from sqlalchemy.orm import Session

from bot.config import Force
from bot.figures.cases import active_by_kind_at
from bot.figures.types import Filters, SuspectFigures, WantedFigures

Caseload = TypeVar("Caseload", WantedFigures, SuspectFigures)


def with_month_ago_known_then(
    fig: Caseload, month_ago: dt.date, covered_from: dt.date | None, then: Callable[[], Caseload]
) -> Caseload:
    """``fig`` with its month-ago count from ``then()``: the same question's figures asked at ``month_ago`` — none
    before the data's coverage (the answer says there is no comparison instead)."""
    if covered_from is not None and month_ago < covered_from:
        return fig
    return replace(fig, open_a_month_ago=then().open)


def with_month_ago_by_age(
    fig: Caseload, filters: Filters, earlier: Filters, figures: Callable[[Filters], Caseload]
) -> Caseload:
    """``fig`` (computed under ``filters``) with the month-ago count of ``figures(earlier)``: with the answer's own
    knowledge, the age filter counted back from the earlier day (``earlier``:
    :meth:`bot.figures.types.Filters.counted_back_from`) — the services' ``open_a_month_ago`` under an age filter,
    as the JSON gives it. Without an age filter the two filters are the same and nothing more is computed."""
    if earlier == filters:
        return fig
    return replace(fig, open_a_month_ago=figures(earlier).open_a_month_ago)


def active_known_then(session: Session, force: Force, month_ago: dt.date, filters_then: Filters) -> dict[str, int]:
    """Active bail and RUI a month back as known that day, under the question's filters asked then."""
    return active_by_kind_at(session, force, month_ago, month_ago, filters_then)
