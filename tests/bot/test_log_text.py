"""The action log's own words: joint owners and the dates its text states."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.log_text import split_initials, stated, stated_date

LOG_DATE = dt.date(2022, 7, 31)


@pytest.mark.parametrize(
    ("text", "owners"),
    [
        ("JM & JG", ["JM", "JG"]),
        ("JM/JG", ["JM", "JG"]),
        ("JM, JG", ["JM", "JG"]),
        ("jm and jg", ["JM", "JG"]),
        (" HH ", ["HH"]),
        ("JM & JM", ["JM"]),
        ("", []),
        (None, []),
    ],
)
def test_joint_owners(text: str | None, owners: list[str]) -> None:
    assert split_initials(text) == owners


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("OOCD Phase 1 introduced on 13/9/21 in 2 policing areas using 2 Tier OOCD", (dt.date(2021, 9, 13), True)),
        ("IOM - Case examples provided to confirm effectiveness of scheme Oct 21", (dt.date(2021, 10, 1), False)),
        ("Comms circulated to confirm cautions process Aug 2021", (dt.date(2021, 8, 1), False)),
        ("Process to be confirmed - with CPC for oversight Aug21", (dt.date(2021, 8, 1), False)),
        ("Closed by HMIC 2/22", (dt.date(2022, 2, 1), False)),
        # Not dates: outcome codes, a frequency, a date after the log itself, an impossible day.
        ("Conditional Caution Field and Outcomes 3/ 3a", None),
        ("Info on repeat offenders to be shared with immigration. - Every 6 Months", None),
        ("Report due Sep 2023", None),
        ("on 31/2/22", None),
    ],
)
def test_dates_stated_in_the_text(text: str, found: tuple[dt.date, bool] | None) -> None:
    assert stated(text, LOG_DATE) == found
    assert stated_date(text, LOG_DATE) == (found[0] if found else None)
