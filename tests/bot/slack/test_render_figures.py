"""The bands of an age breakdown under an age filter (bail and RUI by months, wanted and suspects by days): a band no
case can fall in is left out, one a case can fall in stays even at zero, and without a filter every band shows. And
the people beside a caseload are said to be of the rows that name a person when some do not."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.config import load_config
from bot.figures.types import LENGTH_BANDS, WANTED_AGE_BANDS, Filters, WantedFigures
from bot.freshness import Freshness
from bot.slack.render_figures import Frame, possible_bands, render_wanted

D = dt.date
SUFFOLK = load_config().force("suffolk")
AS_OF = D(2026, 12, 7)
ZERO = dict.fromkeys(LENGTH_BANDS, 0)


def frame(older_than_days: int | None) -> Frame:
    cutoff = Filters(older_than_days=older_than_days).opened_before(AS_OF)
    return Frame(force=SUFFOLK, district=None, as_of=AS_OF, freshness=None, opened_before=cutoff)


@pytest.mark.parametrize(
    ("older_than_days", "shown"),
    [
        (None, LENGTH_BANDS),
        (0, LENGTH_BANDS),  # opened before today: every band possible
        (89, LENGTH_BANDS),  # opened before 9 Sep: a start on 8 Sep is under 3 months and passes
        (90, ("3-6m", "6-9m", "9-12m", "over-12m")),  # before 8 Sep: every start under 3 months is on or after it
        ((AS_OF - D(2025, 12, 7)).days, ("over-12m",)),  # "12m": opened before 7 Dec 2025
        ((AS_OF - D(2025, 12, 8)).days, ("over-12m",)),  # before 8 Dec 2025: the 9–12m band starts on 8 Dec
        ((AS_OF - D(2025, 12, 9)).days, ("9-12m", "over-12m")),  # before 9 Dec: 8 Dec is in 9–12m, and counted
        (200, ("6-9m", "9-12m", "over-12m")),
    ],
)
def test_a_band_is_left_out_only_when_no_start_in_it_passes_the_filter(
    older_than_days: int | None, shown: tuple[str, ...]
) -> None:
    assert tuple(possible_bands(ZERO, frame(older_than_days))) == shown


AGES = dict.fromkeys(WANTED_AGE_BANDS, 0)


@pytest.mark.parametrize(
    ("older_than_days", "shown"),
    [
        (None, WANTED_AGE_BANDS),
        (26, WANTED_AGE_BANDS),  # opened more than 26 days ago: 27 days old and up, still in 0–27
        (27, ("28-90d", "91-180d", "181-365d", "over-365d")),  # 28 days old and up
        (90, ("91-180d", "181-365d", "over-365d")),
        (365, ("over-365d",)),
        (364, ("181-365d", "over-365d")),  # 365 days old is in 181–365 and passes
    ],
)
def test_a_wanted_or_suspects_age_band_is_left_out_only_when_no_age_in_it_passes(
    older_than_days: int | None, shown: tuple[str, ...]
) -> None:
    assert tuple(possible_bands(AGES, frame(older_than_days))) == shown


def test_a_band_with_cases_always_shows() -> None:
    # Not reachable from the figures (the filter leaves such a band empty); if it ever were, hiding a count would
    # be worse than showing an odd one.
    counts = ZERO | {"0-3m": 2, "over-12m": 5}
    assert possible_bands(counts, frame(400)) == {"0-3m": 2, "over-12m": 5}


def test_the_cutoff_is_the_one_the_figures_apply() -> None:
    assert Filters().opened_before(AS_OF) is None
    assert Filters(older_than_days=30).opened_before(AS_OF) == D(2026, 11, 7)
    with pytest.raises(ValueError, match="negative"):
        Filters(older_than_days=-1).opened_before(AS_OF)


def _wanted(open_: int, people: int | None, named_rows: int | None) -> WantedFigures:
    return WantedFigures(
        force="suffolk",
        district=None,
        as_of=AS_OF,
        data_as_of=None,
        open=open_,
        by_district={},
        by_age_band=dict.fromkeys(WANTED_AGE_BANDS, 0),
        by_reason={},
        by_offence={},
        review_overdue=0,
        opened_in_month=0,
        closed_in_month=0,
        open_a_month_ago=open_,
        people=people,
        named_rows=named_rows,
    )


@pytest.mark.parametrize(
    ("open_", "people", "named_rows", "headline"),
    [
        (500, 120, 500, "*500* open wanted circulations · 120 people\n"),
        (500, 120, 150, "*500* open wanted circulations · 120 people on the 150 with a person reference\n"),
        (1, 1, 1, "*1* open wanted circulation · 1 person\n"),  # one circulation, not "circulations"
        (3, 1, 2, "*3* open wanted circulations · 1 person on the 2 with a person reference\n"),
        (40, 0, 0, "*40* open wanted circulations · none with a person reference\n"),  # others elsewhere do
        (0, 0, 0, "*0* open wanted circulations · 0 people\n"),
        (40, None, None, "*40* open wanted circulations\n"),  # the force's exports name nobody: no count at all
    ],
)
def test_people_are_said_to_be_of_the_rows_that_name_one(
    open_: int, people: int | None, named_rows: int | None, headline: str
) -> None:
    """Beside 500 circulations, "120 people" reads as 500 circulations about 120 people; when 350 name nobody the
    count says which rows it is of."""
    _text, blocks = render_wanted(_wanted(open_, people, named_rows), frame(None), D(2026, 11, 7), 28)
    assert headline in blocks[1]["text"]["text"]


def _freshness(data_as_of: D) -> Freshness:
    return Freshness("wanted", dt.datetime(2026, 12, 7, 9, tzinfo=dt.UTC), data_as_of, 7, 0.1, False)


@pytest.mark.parametrize(
    ("data_as_of", "month_line"),
    [
        (AS_OF, "Month to date (from 1 Dec 2026): 0 circulated, 0 closed"),
        (D(2026, 12, 4), "Month to date (1–4 Dec 2026, to the latest export): 0 circulated, 0 closed"),
        (D(2026, 12, 1), "Month to date (1 Dec 2026, to the latest export): 0 circulated, 0 closed"),
        (D(2026, 11, 30), "Month to date: not known yet, no export since the one as of 30 Nov 2026"),
    ],
)
def test_the_month_to_date_ends_at_the_latest_export(data_as_of: D, month_line: str) -> None:
    """With the latest export as of 30 Nov, "Month to date (from 1 Dec 2026): 0 circulated, 0 closed" read as a quiet
    week; nothing is known of December yet."""
    shown = Frame(force=SUFFOLK, district=None, as_of=AS_OF, freshness=_freshness(data_as_of))
    _text, blocks = render_wanted(_wanted(5, 5, 5), shown, D(2026, 11, 7), 28)
    lines = blocks[1]["text"]["text"].splitlines()
    assert lines[2] == month_line
    assert lines[1] == "no change over the last month (5 on 7 Nov 2026)"


def test_no_change_over_a_month_no_export_covers_is_said_as_no_comparison() -> None:
    """The latest export as of 30 Sep, asked on 7 Dec: "no change over the last month" read as a steady caseload;
    no export has said anything of the month."""
    shown = Frame(force=SUFFOLK, district=None, as_of=AS_OF, freshness=_freshness(D(2026, 9, 30)))
    _text, blocks = render_wanted(_wanted(5, 5, 5), shown, D(2026, 11, 7), 28)
    assert blocks[1]["text"]["text"].splitlines()[1] == (
        "No comparison with a month ago: no export since the one as of 30 Sep 2026"
    )
