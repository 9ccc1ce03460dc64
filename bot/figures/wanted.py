"""Wanted circulations at a date.

Definitions, pinned by tests/bot/figures/:
- open at D: ``circulated_on <= D AND (closed_on IS NULL OR closed_on > D)``;
- by_district: the force's districts in config order, zeros included (only the filtered one under a
  district filter); by_reason: all four reasons, zeros included; by_reason and by_offence ordered by count
  descending, then name;
- by_age_band: days since circulated, D − circulated_on, in 0-27 / 28-90 / 91-180 / 181-365 / over 365;
- review_overdue: open at D and D − coalesce(last_reviewed_on, circulated_on) > review_days;
- opened_in_month / closed_in_month: circulated_on / closed_on from the 1st of D's month to D inclusive;
- open_a_month_ago: open at the same day of the previous month, or its last day when shorter
  (31 Mar → 28/29 Feb);
- data_as_of: imported_at of the force's latest wanted import (None if never imported).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from bot.config import Force
from bot.coverage import covered_from
from bot.figures.caseload import caseload
from bot.figures.source import NO_FILTERS, WANTED
from bot.figures.types import WANTED_REASONS, Filters, WantedFigures
from bot.freshness import data_as_of


def wanted_figures(
    session: Session, force: Force, as_of: dt.date, filters: Filters = NO_FILTERS, *, review_days: int = 28
) -> WantedFigures:
    c = caseload(session, WANTED, force, as_of, filters, review_days=review_days, reasons=WANTED_REASONS)
    return WantedFigures(
        force=force.slug,
        district=filters.district,
        as_of=as_of,
        data_as_of=data_as_of(session, force.slug, WANTED.dataset),
        covered_from=covered_from(session, force.slug, WANTED.dataset),
        open=c.open,
        by_district=c.by_district,
        by_age_band=c.by_age_band,
        by_reason=c.by_reason,
        by_offence=c.by_offence,
        review_overdue=c.review_overdue,
        opened_in_month=c.opened_in_month,
        closed_in_month=c.closed_in_month,
        open_a_month_ago=c.open_a_month_ago,
    )
