"""The month-ago comparison's filters under an age filter: counted back from the earlier day, given to the figures
as days before the answer's date; nothing more computed without an age filter."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.figures.month_ago import with_month_ago_by_age
from bot.figures.types import Filters, SuspectFigures

D = dt.date
AS_OF, MONTH_AGO = D(2026, 3, 31), D(2026, 2, 28)


def test_the_cutoff_counts_back_from_the_earlier_day() -> None:
    f = Filters(district="ipswich", older_than_days=90)
    earlier = f.counted_back_from(AS_OF, MONTH_AGO)
    assert earlier.district == "ipswich"
    # Asked at AS_OF, the shifted filter cuts where 90 days before the earlier day falls.
    assert earlier.opened_before(AS_OF) == MONTH_AGO - dt.timedelta(days=90) == D(2025, 11, 30)
    # A calendar age is its own number of days from the earlier day: "1m" is 31 days at 31 Mar, 31 at 28 Feb.
    calendar = Filters(older_than_days=31).counted_back_from(AS_OF, MONTH_AGO, older_than_days_at=31)
    assert calendar.opened_before(AS_OF) == D(2026, 1, 28)


def test_without_an_age_filter_the_filters_are_the_same() -> None:
    f = Filters(district="ipswich", offence="theft")
    assert f.counted_back_from(AS_OF, MONTH_AGO) is f
    with pytest.raises(ValueError, match="after"):
        Filters(older_than_days=1).counted_back_from(AS_OF, AS_OF + dt.timedelta(days=1))


def _fig(open_now: int, month_ago: int) -> SuspectFigures:
    return SuspectFigures(
        force="suffolk", district=None, as_of=AS_OF, data_as_of=None, open=open_now, by_district={},
        by_age_band={}, by_offence={}, opened_in_month=0, closed_in_month=0, open_a_month_ago=month_ago,
    )  # fmt: skip


def test_the_month_ago_count_is_taken_from_the_shifted_filters_only_when_they_differ() -> None:
    asked: list[Filters] = []

    def figures(f: Filters) -> SuspectFigures:
        asked.append(f)
        return _fig(99, 7)

    plain = Filters()
    assert with_month_ago_by_age(_fig(5, 9), plain, plain, figures).open_a_month_ago == 9
    assert asked == []
    aged = Filters(older_than_days=90)
    earlier = aged.counted_back_from(AS_OF, MONTH_AGO)
    got = with_month_ago_by_age(_fig(5, 9), aged, earlier, figures)
    assert (got.open, got.open_a_month_ago) == (5, 7) and asked == [earlier]
