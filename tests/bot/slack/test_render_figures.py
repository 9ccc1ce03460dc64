"""The bands of an age breakdown under an age filter (bail and RUI by months, wanted and suspects by days): a band no
case can fall in is left out, one a case can fall in stays even at zero, and without a filter every band shows."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.config import load_config
from bot.figures.types import LENGTH_BANDS, WANTED_AGE_BANDS, Filters
from bot.slack.render_figures import Frame, possible_bands

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
