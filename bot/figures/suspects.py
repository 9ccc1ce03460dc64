"""Outstanding suspects at a date: the wanted figures' definitions (see ``bot.figures.wanted``) over
``identified_on``/``closed_on``, without by_reason and review_overdue."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from bot.config import Force
from bot.coverage import covered_from
from bot.figures.caseload import caseload
from bot.figures.source import NO_FILTERS, SUSPECTS
from bot.figures.types import Filters, SuspectFigures
from bot.freshness import data_as_of


def suspect_figures(session: Session, force: Force, as_of: dt.date, filters: Filters = NO_FILTERS) -> SuspectFigures:
    c = caseload(session, SUSPECTS, force, as_of, filters)
    return SuspectFigures(
        force=force.slug,
        district=filters.district,
        as_of=as_of,
        data_as_of=data_as_of(session, force.slug, SUSPECTS.dataset),
        covered_from=covered_from(session, force.slug, SUSPECTS.dataset),
        open=c.open,
        by_district=c.by_district,
        by_age_band=c.by_age_band,
        by_offence=c.by_offence,
        opened_in_month=c.opened_in_month,
        closed_in_month=c.closed_in_month,
        open_a_month_ago=c.open_a_month_ago,
    )
