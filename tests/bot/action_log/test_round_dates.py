"""The update round's days: the first DMs ``round_days_before`` days and the nudge two days before the meeting, on
working days — a step that falls at a weekend goes on the Friday before, and a run at a weekend sends nothing while
a working day is left (an injected clock, on SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from bot.action_log import service, update_round
from bot.action_log.types import Actor, NewAction
from bot.clock import FixedClock
from bot.config import Force

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
    ],
)
def test_round_dates_are_working_days(force, meeting, days_before, first, nudge) -> None:
    got = update_round.round_dates(replace(force, round_days_before=days_before), meeting)
    assert got == (first, nudge)
    assert all(d.weekday() < 5 for d in got)


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
