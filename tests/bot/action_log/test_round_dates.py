"""The update round's days: the first DMs ``round_days_before`` days and the nudge two days before the meeting, on
working days — a step that falls at a weekend or on a bank holiday goes on the working day before, and a run on
such a day sends nothing while a working day is left (an injected clock, on SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from bot.action_log import service, update_round
from bot.action_log.types import Actor, NewAction
from bot.clock import FixedClock
from bot.config import Force, load_config
from bot.dates import bank_holidays, is_working_day

TEAM = "T0SUFFOLK"
CHAIR = Actor("UCHAIR", role="admin")


@pytest.fixture
def force(config) -> Force:
    return replace(config.force("suffolk"), slack_team_ids=(TEAM,))


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, 8, 45, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("meeting", "days_before", "first", "nudge"),
    [
        (dt.date(2026, 12, 16), 5, dt.date(2026, 12, 11), dt.date(2026, 12, 14)),  # Wed: Fri and Mon, as counted
        (dt.date(2026, 12, 15), 5, dt.date(2026, 12, 10), dt.date(2026, 12, 11)),  # Tue: the Sunday nudge on Fri
        (dt.date(2026, 12, 18), 5, dt.date(2026, 12, 11), dt.date(2026, 12, 16)),  # Fri: the Sunday round on Fri
        (dt.date(2026, 12, 17), 5, dt.date(2026, 12, 11), dt.date(2026, 12, 15)),  # Thu: the Saturday round on Fri
        (dt.date(2026, 12, 14), 3, dt.date(2026, 12, 11), dt.date(2026, 12, 11)),  # Mon, 3 days: both on Fri
        # Tue 29 Dec: the nudge's Sunday, then Christmas (Fri 25): both steps on Christmas Eve.
        (dt.date(2026, 12, 29), 5, dt.date(2026, 12, 24), dt.date(2026, 12, 24)),
        # Thu 9 Apr 2026: the first DMs' Saturday, Good Friday (3 Apr): Thursday 2 Apr; the nudge on Tuesday.
        (dt.date(2026, 4, 9), 5, dt.date(2026, 4, 2), dt.date(2026, 4, 7)),
    ],
)
def test_round_dates_are_working_days(force, meeting, days_before, first, nudge) -> None:
    got = update_round.round_dates(replace(force, round_days_before=days_before), meeting)
    assert got == (first, nudge)
    assert all(is_working_day(d) for d in got)


def test_no_dm_at_a_weekend_while_a_working_day_is_left(session, force, clock: FixedClock) -> None:
    """A Tuesday meeting: the first DMs on the Thursday, the nudge on the Friday (not the Sunday), nothing at the
    weekend; the Monday still nudges anyone the Friday's run missed."""
    new = NewAction("Secure data on length of RUI", "deliver", owner_user_id="UOWNER1", owner_teams=(TEAM,))
    assert service.create_action(session, force, CHAIR, new, clock).ok
    meeting = dt.date(2026, 12, 15)
    assert update_round.set_meeting(session, force, CHAIR, meeting, clock) is None
    session.commit()

    def step(day: dt.date) -> str:
        return update_round.plan_round(session, force, _at(day)).step

    assert step(dt.date(2026, 12, 9)) == "none"  # six days before
    thursday = update_round.plan_round(session, force, _at(dt.date(2026, 12, 10)))
    assert thursday.step == "first" and [o.user_id for o in thursday.owners] == ["UOWNER1"]
    assert update_round.claim_message(session, force, meeting, "UOWNER1", "first", _at(dt.date(2026, 12, 10)))
    session.commit()
    friday = update_round.plan_round(session, force, _at(dt.date(2026, 12, 11)))
    assert friday.step == "nudge" and [o.user_id for o in friday.owners] == ["UOWNER1"]
    assert [step(dt.date(2026, 12, d)) for d in (12, 13)] == ["none", "none"]  # Saturday, Sunday
    assert step(dt.date(2026, 12, 14)) == "nudge"  # Monday: the nudge, if Friday's run did not send it
    assert step(meeting) == "digest"


def test_a_weekend_run_sends_when_no_working_day_is_left(session, force, clock: FixedClock) -> None:
    """A Monday meeting whose Friday run never happened (the bot was down): the weekend run sends the first DMs
    rather than the owners never being asked."""
    new = NewAction("Secure data on length of RUI", "deliver", owner_user_id="UOWNER1", owner_teams=(TEAM,))
    assert service.create_action(session, force, CHAIR, new, clock).ok
    assert update_round.set_meeting(session, force, CHAIR, dt.date(2026, 12, 14), clock) is None
    session.commit()
    saturday = update_round.plan_round(session, force, _at(dt.date(2026, 12, 12)))
    assert saturday.step == "first" and [o.user_id for o in saturday.owners] == ["UOWNER1"]


@pytest.mark.parametrize(
    ("year", "published"),
    [
        # England and Wales, as gov.uk/bank-holidays publishes them (2023's coronation holiday, 8 May, was a
        # one-off the standing rules do not give).
        (2023, ["01-02", "04-07", "04-10", "05-01", "05-29", "08-28", "12-25", "12-26"]),
        (2024, ["01-01", "03-29", "04-01", "05-06", "05-27", "08-26", "12-25", "12-26"]),
        (2025, ["01-01", "04-18", "04-21", "05-05", "05-26", "08-25", "12-25", "12-26"]),
        (2026, ["01-01", "04-03", "04-06", "05-04", "05-25", "08-31", "12-25", "12-28"]),
        (2027, ["01-01", "03-26", "03-29", "05-03", "05-31", "08-30", "12-27", "12-28"]),
    ],
)
def test_bank_holidays_follow_the_standing_rules(year: int, published: list[str]) -> None:
    assert sorted(bank_holidays(year)) == [dt.date.fromisoformat(f"{year}-{md}") for md in published]


def test_no_nudge_on_a_bank_holiday_when_the_round_is_that_short(session, force, clock: FixedClock) -> None:
    """Tue 29 Dec 2026: the first DMs on Christmas Eve, and no nudge — not on the Boxing Day holiday (Mon 28),
    when no working day is left before the meeting."""
    new = NewAction("Secure data on length of RUI", "deliver", owner_user_id="UOWNER1", owner_teams=(TEAM,))
    assert service.create_action(session, force, CHAIR, new, clock).ok
    meeting = dt.date(2026, 12, 29)
    assert update_round.set_meeting(session, force, CHAIR, meeting, clock) is None
    session.commit()
    eve = update_round.plan_round(session, force, _at(dt.date(2026, 12, 24)))
    assert eve.step == "first" and [o.user_id for o in eve.owners] == ["UOWNER1"]
    assert update_round.claim_message(session, force, meeting, "UOWNER1", "first", _at(dt.date(2026, 12, 24)))
    session.commit()
    for day in (25, 26, 27, 28):
        plan = update_round.plan_round(session, force, _at(dt.date(2026, 12, day)))
        assert plan.owners == (), day  # nobody is DMed: asked already, and no nudge
        assert plan.step in ("none", "first"), day


def test_a_forces_days_off_count_as_holidays(session, force, clock: FixedClock) -> None:
    """A one-off bank holiday the standing rules cannot know (as the coronation's Monday, 8 May 2023, was), listed
    in the force's ``days_off``: the nudge that would fall on it goes on the Friday before, and a run on the day
    itself sends nothing while the Tuesday is left before a Wednesday meeting. Without the list the Monday nudges."""
    monday = dt.date(2027, 6, 7)
    meeting = dt.date(2027, 6, 9)
    six_days = replace(force, round_days_before=6)
    assert update_round.round_dates(six_days, meeting) == (dt.date(2027, 6, 3), monday)
    off = replace(six_days, days_off=frozenset({monday}))
    assert update_round.round_dates(off, meeting) == (dt.date(2027, 6, 3), dt.date(2027, 6, 4))

    new = NewAction("Secure data on length of RUI", "deliver", owner_user_id="UOWNER1", owner_teams=(TEAM,))
    assert service.create_action(session, off, CHAIR, new, clock).ok
    assert update_round.set_meeting(session, off, CHAIR, meeting, clock) is None
    assert update_round.claim_message(session, off, meeting, "UOWNER1", "first", _at(dt.date(2027, 6, 3)))
    session.commit()
    assert update_round.plan_round(session, six_days, _at(monday)).step == "nudge"
    on_the_day_off = update_round.plan_round(session, off, _at(monday))
    assert on_the_day_off.step == "none" and on_the_day_off.owners == ()
    friday = update_round.plan_round(session, off, _at(dt.date(2027, 6, 4)))
    assert friday.step == "nudge" and [o.user_id for o in friday.owners] == ["UOWNER1"]


def test_days_off_come_from_the_forces_config(tmp_path) -> None:
    p = tmp_path / "mo.toml"
    p.write_text('[forces.suffolk]\ndays_off = ["2027-06-07", "2027-06-07"]\n[forces.suffolk.districts.ipswich]\n')
    assert load_config(p).force("suffolk").days_off == frozenset({dt.date(2027, 6, 7)})
