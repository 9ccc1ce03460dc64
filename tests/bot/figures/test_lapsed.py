"""Lapsed bail: open bail whose bail end date has passed with no end recorded is lapsed — not active, not
"ending soon" — in the figures, their JSON, the monthly series, the case list and the summary's counts."""

from __future__ import annotations

import datetime as dt
import itertools

from sqlalchemy.orm import Session

from bot.config import Config
from bot.figures import Filters, bail_figures, figures_to_json, monthly_series
from bot.figures.bail_counts import length_bands_by_district
from bot.figures.cases import active_by_kind_at, open_cases
from bot.models import BailPeriod

D = dt.date
AS_OF = D(2024, 4, 20)
_ref = itertools.count(1)


def bail(session: Session, started: dt.date, end: dt.date | None, ended: dt.date | None = None, **kw) -> str:
    ref = f"L{next(_ref):04d}"
    row = dict(
        force="suffolk",
        reference=ref,
        offence="burglary",
        district="ipswich",
        kind="bail",
        started_on=started,
        bail_end_on=end,
        ended_on=ended,
        oic="PC 1234",
    )
    session.add(BailPeriod(**(row | kw)))
    session.flush()
    return ref


def test_bail_past_its_end_date_is_lapsed_not_active(session: Session, config: Config) -> None:
    force = config.force("suffolk")
    yesterday = bail(session, D(2024, 2, 1), AS_OF - dt.timedelta(days=1))  # lapsed 1 day ago
    bail(session, D(2024, 1, 10), D(2024, 3, 1), district="lowestoft")  # lapsed 50 days ago
    today = bail(session, D(2024, 2, 1), AS_OF)  # its last day: still bail, ending soon
    bail(session, D(2024, 2, 1), AS_OF - dt.timedelta(days=5), ended=AS_OF - dt.timedelta(days=6))  # ended in time
    bail(session, D(2024, 2, 1), D(2024, 3, 1), ended=AS_OF + dt.timedelta(days=1))  # lapsed; ends tomorrow
    bail(session, D(2024, 2, 1), None, kind="rui")  # RUI never lapses
    session.commit()

    fig = bail_figures(session, force, AS_OF, ending_within_days=14)
    assert (fig.active_bail, fig.lapsed_bail, fig.active_rui) == (1, 3, 1)
    assert fig.lapsed_bail_by_district == {"ipswich": 2, "bury-st-edmunds": 0, "lowestoft": 1}
    assert [e.reference for e in fig.bail_ending_soon] == [today]  # lapsed bail is not "ending soon"
    assert sum(fig.length_bands["bail"].values()) == 1
    assert sum(fig.by_district["bail"].values()) == sum(fig.by_offence["bail"].values()) == 1
    js = figures_to_json(fig)
    assert js["lapsed_bail"] == 3 and js["active_bail"] == 1
    assert js["lapsed_bail_by_district"] == {"ipswich": 2, "bury-st-edmunds": 0, "lowestoft": 1}

    # The day before, the one ending "yesterday" was on its last day: active, not lapsed.
    before = bail_figures(session, force, AS_OF - dt.timedelta(days=1), ending_within_days=14)
    assert yesterday in [e.reference for e in before.bail_ending_soon]
    assert before.lapsed_bail == 2
    assert active_by_kind_at(session, force, AS_OF, AS_OF, Filters()) == {"bail": 1, "rui": 1}
    bands = length_bands_by_district(session, force, AS_OF, Filters())
    assert sum(n for d in bands["bail"].values() for n in d.values()) == 1


def test_series_counts_lapsed_apart_at_each_month_end(session: Session, config: Config) -> None:
    force = config.force("suffolk")
    bail(session, D(2024, 1, 15), D(2024, 2, 29))  # active at the end of Feb (its last day), lapsed by March's
    bail(session, D(2024, 1, 15), D(2024, 3, 31))  # active at both month ends, lapsed in April
    session.commit()
    points = monthly_series(session, "bail", force, AS_OF, 3, kind="bail")
    assert [(p.month, p.open_at_end, p.lapsed_at_end) for p in points] == [
        ("2024-02", 2, 0),
        ("2024-03", 1, 1),
        ("2024-04", 0, 2),
    ]


def test_bail_list_shows_lapsed_first_with_days_authority_and_officer(session: Session, config: Config) -> None:
    force = config.force("suffolk")
    old = bail(session, D(2024, 1, 10), D(2024, 3, 1))
    soon = bail(session, D(2024, 2, 1), AS_OF + dt.timedelta(days=3))
    session.commit()
    cases = open_cases(session, "bail", force, AS_OF, Filters(), 10)
    assert (cases.total, cases.lapsed) == (2, 1)
    first, second = cases.rows
    assert (first.reference, first.lapsed_days, first.next_authority, first.oic) == (old, 50, None, "PC 1234")
    assert (second.reference, second.days_left, second.lapsed_days) == (soon, 3, None)
    assert second.next_authority == "inspector" and second.oic == "PC 1234"
    # --expiring keeps the window from as_of on: no lapsed bail in it.
    window = open_cases(session, "bail", force, AS_OF, Filters(), 10, ending_within_days=14)
    assert ([r.reference for r in window.rows], window.lapsed) == ([soon], 0)
