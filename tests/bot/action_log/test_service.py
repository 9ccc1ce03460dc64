"""The action log's domain rules (no Slack): references, transitions, notes, completion dates, versions,
permissions, queries, reminders and exports — on SQLite and PostgreSQL, with an injected clock."""

from __future__ import annotations

import csv
import datetime as dt
import io
import threading
from dataclasses import replace

import pytest
from sqlalchemy import select

from bot.action_log import export, queries, reminders, rules, service
from bot.action_log.types import (
    LIVE_STATUSES,
    NOTE_REQUIRED,
    PILLARS,
    STATUSES,
    ActionChange,
    ActionFilters,
    Actor,
    NewAction,
)
from bot.clock import FixedClock
from bot.config import Force
from bot.importing.service import import_file
from bot.importing.types import ImportRequest
from bot.models import Action, ActionHistory, AuditEvent
from bot.slack.render_actions import render_action_list

OWNER = "UOWNER1"
OTHER = "UOTHER2"
CHAIR = Actor("UCHAIR", role="admin")
SUFFOLK_TEAM = "T0SUFFOLK"  # the workspace OWNER and OTHER are members of (what users.info says of them)


@pytest.fixture
def force(config) -> Force:
    # HH is mapped to a Slack user; JM (also in the seed log) is not.
    return replace(config.force("suffolk"), owners={"HH": "UHHMAPPED"}, slack_team_ids=(SUFFOLK_TEAM,))


def _new(session, force, clock, actor=None, **kw) -> str:
    kw.setdefault("title", "Secure data on length of RUI and bail")
    kw.setdefault("pillar", "deliver")
    kw.setdefault("owner_user_id", OWNER)
    kw.setdefault("owner_teams", (SUFFOLK_TEAM,))
    res = service.create_action(session, force, actor or Actor(OWNER), NewAction(**kw), clock)
    assert res.ok, res.refusal
    assert res.action is not None
    session.commit()
    return res.action.reference


def _set_status(session, force, clock, ref, status, actor, note=None):
    row = service.load_action(session, force, ref)
    res = service.change_action(session, force, actor, ActionChange(ref, row.version, status=status, note=note), clock)
    session.commit()
    return res


def _history(session, ref):
    return session.scalars(
        select(ActionHistory)
        .join(Action)
        .where(Action.force == "suffolk", Action.reference == ref)
        .order_by(ActionHistory.id)
    ).all()


# ------------------------------------------------------------------------------------------------ create
def test_references_are_next_free_number_per_force(session, force, config, clock) -> None:
    assert [_new(session, force, clock) for _ in range(3)] == ["A-1", "A-2", "A-3"]
    norfolk = replace(config.force("norfolk"), slack_team_ids=("T0NORFOLK",))
    assert _new(session, norfolk, clock, owner_teams=("T0NORFOLK",)) == "A-1"
    # A gap (an imported A-40) moves the next number on, never back.
    session.add(Action(force="suffolk", reference="A-40", pillar="detect", title="imported", status="open", version=1))
    session.commit()
    assert _new(session, force, clock) == "A-41"
    created = _history(session, "A-1")
    assert [(h.field, h.new_value, h.changed_by, h.version) for h in created] == [("created", "open", OWNER, 1)]
    assert created[0].changed_at == clock.now()


def test_concurrent_creations_get_distinct_references(sessions, force, clock) -> None:
    barrier = threading.Barrier(4)
    refs: list[str] = []

    def add() -> None:
        with sessions() as s:
            barrier.wait()
            new = NewAction("same time", "detect", OWNER, owner_teams=(SUFFOLK_TEAM,))
            res = service.create_action(s, force, Actor(OWNER), new, clock)
            s.commit()
            refs.append(res.action.reference)

    threads = [threading.Thread(target=add) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(refs) == ["A-1", "A-2", "A-3", "A-4"]


@pytest.mark.parametrize(
    ("kw", "field", "words"),
    [
        ({"title": "   "}, "title", "empty"),
        ({"title": "x" * 501}, "title", "longer than 500"),
        ({"pillar": "detonate"}, "pillar", "not a pillar"),
        ({"due_on": dt.date(2026, 11, 22)}, "due_on", "already passed"),
        ({"owner_user_id": "bob"}, "owner", "not a Slack user"),
        ({"status": "held"}, "note", "needs a note"),
        ({"status": "complete"}, "status", "starts as"),
    ],
)
def test_create_refuses_invalid_input(session, force, clock, kw, field, words) -> None:
    base = {"title": "t", "pillar": "divert", "owner_user_id": OWNER, "owner_teams": (SUFFOLK_TEAM,)}
    res = service.create_action(session, force, Actor(OWNER), NewAction(**{**base, **kw}), clock)
    session.commit()
    assert not res.ok
    assert res.refusal.field == field
    assert words in res.refusal.reason
    assert session.scalars(select(Action)).all() == []
    audit = session.scalars(select(AuditEvent)).one()
    assert (audit.action, audit.outcome, audit.actor) == ("change", "invalid", OWNER)


def test_pillar_accepts_long_names_and_owner_initials_map(session, force, clock) -> None:
    for spelling in PILLARS.values():
        assert rules.resolve_pillar(spelling) in PILLARS
    assert rules.resolve_pillar("Divert and Deter") == "divert"
    res = service.create_action(
        session, force, CHAIR, NewAction("t", "Demonstrate Compliance & Quality", owner_initials="hh"), clock
    )
    assert res.action.pillar == "demonstrate"
    assert res.action.owner_initials == "HH"
    assert res.action.owner_user_id == "UHHMAPPED"
    res = service.create_action(session, force, CHAIR, NewAction("t", "detect", owner_initials="JM"), clock)
    assert res.action.owner_user_id is None
    assert res.action.owner_label == "JM"


# ------------------------------------------------------------------------------------------------ transitions
ALLOWED = sorted((a, b) for a, targets in rules.TRANSITIONS.items() for b in targets)
REFUSED = sorted((a, b) for a in STATUSES for b in STATUSES if a != b and b not in rules.TRANSITIONS[a])


def _action_in(session, force, clock, status: str) -> str:
    """An action brought to ``status`` by legal steps."""
    ref = _new(session, force, clock)
    path = {"open": [], "ongoing": ["ongoing"], "held": ["held"], "complete": ["complete"], "cancelled": ["cancelled"]}
    for step in path[status]:
        assert _set_status(session, force, clock, ref, step, CHAIR, note="why").ok
    return ref


@pytest.mark.parametrize(("old", "new"), ALLOWED)
def test_each_allowed_transition_writes_history(session, force, clock, old, new) -> None:
    ref = _action_in(session, force, clock, old)
    before = service.load_action(session, force, ref)
    version, done_on = before.version, before.completed_on
    clock.advance(dt.timedelta(hours=1))
    res = _set_status(session, force, clock, ref, new, CHAIR, note="because")
    assert res.ok, res.refusal
    assert res.action.status == new
    assert res.action.version == version + 1
    rows = [h for h in _history(session, ref) if h.version == version + 1]
    status_rows = [h for h in rows if h.field == "status"]
    assert [(h.old_value, h.new_value, h.changed_by, h.note) for h in status_rows] == [(old, new, CHAIR.id, "because")]
    assert status_rows[0].changed_at == clock.now()
    if new == "complete":
        assert res.action.completed_on == clock.now().date()
    else:
        assert res.action.completed_on is None
    if old == "complete":  # reopening clears the completion date, and the history says so
        assert [(h.old_value, h.new_value) for h in rows if h.field == "completed_on"] == [(done_on.isoformat(), None)]


@pytest.mark.parametrize(("old", "new"), REFUSED)
def test_each_refused_transition_says_why_and_changes_nothing(session, force, clock, old, new) -> None:
    ref = _action_in(session, force, clock, old)
    n_history = len(_history(session, ref))
    res = _set_status(session, force, clock, ref, new, CHAIR, note="because")
    assert not res.ok
    assert res.refusal.code == "transition"
    assert f"that is {old} can't be set to {new}" in res.refusal.reason
    assert res.refusal.current.status == old
    assert service.load_action(session, force, ref).status == old
    assert len(_history(session, ref)) == n_history


@pytest.mark.parametrize("old", ["complete", "cancelled"])
def test_only_admins_reopen(session, force, clock, old) -> None:
    ref = _action_in(session, force, clock, old)
    res = _set_status(session, force, clock, ref, "ongoing", Actor(OWNER), note="not done after all")
    assert res.refusal.code == "not_allowed"
    assert "only an admin" in res.refusal.reason
    # A closed action's other fields are frozen for its owner too.
    row = service.load_action(session, force, ref)
    res = service.change_action(session, force, Actor(OWNER), ActionChange(ref, row.version, title="new"), clock)
    assert res.refusal.code == "not_allowed"


@pytest.mark.parametrize("status", sorted(NOTE_REQUIRED))
def test_held_and_cancelled_need_a_note(session, force, clock, status) -> None:
    ref = _new(session, force, clock)
    for note in (None, "   "):
        res = _set_status(session, force, clock, ref, status, Actor(OWNER), note=note)
        assert res.refusal.code == "invalid"
        assert res.refusal.field == "note"
        assert f"setting an action to {status} needs a note" in res.refusal.reason
    res = _set_status(session, force, clock, ref, status, Actor(OWNER), note="awaiting MOJ data")
    assert res.ok
    assert _history(session, ref)[-1].note == "awaiting MOJ data"
    assert res.action.notes == "awaiting MOJ data"


def test_completion_date_is_the_forces_today(session, force) -> None:
    # 23:30 UTC on 30 June is already 1 July in London (BST).
    clock = FixedClock(dt.datetime(2027, 6, 30, 23, 30, tzinfo=dt.UTC))
    ref = _new(session, force, clock)
    res = _set_status(session, force, clock, ref, "complete", Actor(OWNER))
    assert res.action.completed_on == dt.date(2027, 7, 1)
    res = _set_status(session, force, clock, ref, "ongoing", CHAIR, note="reopened")
    assert res.action.completed_on is None
    assert service.load_action(session, force, ref).completed_on is None


def test_every_changed_field_gets_a_history_row(session, force, clock) -> None:
    ref = _new(session, force, clock, due_on=dt.date(2026, 12, 1))
    res = service.change_action(
        session,
        force,
        CHAIR,
        ActionChange(
            ref, 1, status="ongoing", owner_user_id=OTHER, due_on=dt.date(2027, 1, 31), title="New title",
            pillar="Divert & Deter", source="HMICFRS rec 3", detail="more", note="re-planned",
            owner_teams=(SUFFOLK_TEAM,),
        ),
        clock,
    )  # fmt: skip
    session.commit()
    assert res.ok
    rows = {h.field: (h.old_value, h.new_value, h.note, h.version) for h in _history(session, ref) if h.version == 2}
    assert rows == {
        "status": ("open", "ongoing", "re-planned", 2),
        "owner": (OWNER, OTHER, "re-planned", 2),
        "due_on": ("2026-12-01", "2027-01-31", "re-planned", 2),
        "title": ("Secure data on length of RUI and bail", "New title", "re-planned", 2),
        "pillar": ("deliver", "divert", "re-planned", 2),
        "source": (None, "HMICFRS rec 3", "re-planned", 2),
        "detail": (None, "more", "re-planned", 2),
    }
    # A note on its own is a history row too, and a change that changes nothing is refused.
    res = service.change_action(session, force, CHAIR, ActionChange(ref, 2, note="spoke to SBOS"), clock)
    assert res.ok and [(h.field, h.note) for h in res.written] == [("note", "spoke to SBOS")]
    res = service.change_action(session, force, CHAIR, ActionChange(ref, 3, status=None, title="New title"), clock)
    assert res.refusal.code == "unchanged"


def test_due_date_in_the_past_is_refused_but_clearing_is_allowed(session, force, clock) -> None:
    ref = _new(session, force, clock, due_on=dt.date(2026, 12, 1))
    res = service.change_action(session, force, Actor(OWNER), ActionChange(ref, 1, due_on=dt.date(2026, 1, 1)), clock)
    assert (res.refusal.code, res.refusal.field) == ("invalid", "due_on")
    res = service.change_action(session, force, Actor(OWNER), ActionChange(ref, 1, clear_due=True), clock)
    assert res.ok and res.action.due_on is None


# ------------------------------------------------------------------------------------------------ concurrency
def test_stale_version_is_refused_with_what_changed(sessions, force, clock) -> None:
    with sessions() as s:
        ref = _new(s, force, clock)
    # Two people open A-1 at version 1.
    with sessions() as first, sessions() as second:
        seen_first = service.load_action(first, force, ref).version
        seen_second = service.load_action(second, force, ref).version
        r1 = service.change_action(
            first, force, Actor(OWNER), ActionChange(ref, seen_first, status="held", note="waiting"), clock
        )
        first.commit()
        assert r1.ok
        r2 = service.change_action(
            second, force, CHAIR, ActionChange(ref, seen_second, status="complete", note="done"), clock
        )
        second.commit()
    assert not r2.ok
    assert r2.refusal.code == "stale"
    assert OWNER in r2.refusal.reason and "nothing was overwritten" in r2.refusal.reason
    assert r2.refusal.current.status == "held"
    assert r2.refusal.current.version == 2
    assert [(h.field, h.old_value, h.new_value, h.note) for h in r2.refusal.changes_since] == [
        ("status", "open", "held", "waiting")
    ]
    with sessions() as s:
        assert service.load_action(s, force, ref).status == "held"
        assert s.scalars(select(AuditEvent.outcome).where(AuditEvent.actor == CHAIR.id)).all() == ["refused"]


def test_conditional_update_checks_the_row_count(sessions, force, clock) -> None:
    """The race the read can't see: another writer commits between our read and our UPDATE."""
    with sessions() as s:
        ref = _new(s, force, clock)
        row = service.load_action(s, force, ref)
        action_id = row.id
    with sessions() as other:
        assert service.apply_if_version(other, action_id, 1, {"title": "theirs"})
        other.commit()
    with sessions() as mine:
        assert not service.apply_if_version(mine, action_id, 1, {"title": "mine"})
        mine.commit()
        assert service.load_action(mine, force, ref).title == "theirs"


def test_two_concurrent_writers_exactly_one_wins(sessions, force, clock) -> None:
    with sessions() as s:
        ref = _new(s, force, clock)
    barrier = threading.Barrier(2)
    results = []

    def write(status: str, who: Actor) -> None:
        with sessions() as s:
            barrier.wait()
            results.append(service.change_action(s, force, who, ActionChange(ref, 1, status=status, note="x"), clock))
            s.commit()

    # Two people: a change by the writer themself since the version they saw is not a conflict (test below).
    writers = (("ongoing", CHAIR), ("held", Actor("UDEPUTY", role="admin")))
    threads = [threading.Thread(target=write, args=w) for w in writers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.ok for r in results) == [False, True]
    winner = next(r for r in results if r.ok)
    loser = next(r for r in results if not r.ok)
    assert loser.refusal.code == "stale"
    with sessions() as s:
        assert service.load_action(s, force, ref).status == winner.action.status
        assert len([h for h in _history(s, ref) if h.field == "status"]) == 1


# ------------------------------------------------------------------------------------------------ permissions
def test_non_owner_may_read_but_not_change(session, force, clock) -> None:
    ref = _new(session, force, clock)
    res = _set_status(session, force, clock, ref, "ongoing", Actor(OTHER))
    assert res.refusal.code == "not_allowed"
    assert "only A-1's owner or an admin" in res.refusal.reason
    assert service.load_action(session, force, ref).status == "open"
    assert queries.get_action(session, force, Actor(OTHER), ref, clock.now().date(), clock.now()) is not None
    assert _set_status(session, force, clock, ref, "ongoing", CHAIR).ok
    assert _set_status(session, force, clock, ref, "complete", Actor(OWNER)).ok


def test_owner_without_slack_mapping(session, force, clock) -> None:
    ref = _new(session, force, clock, actor=CHAIR, owner_user_id=None, owner_initials="JM")
    res = _set_status(session, force, clock, ref, "ongoing", Actor("UJMREAL"))
    assert res.refusal.code == "not_allowed"
    assert "JM, who has no Slack user mapped yet" in res.refusal.reason
    # Once the chair maps JM in the config, JM's Slack user owns it.
    mapped = replace(force, owners={**force.owners, "JM": "UJMREAL"})
    assert _set_status(session, mapped, clock, ref, "ongoing", Actor("UJMREAL")).ok


def test_mapped_initials_owner_may_change(session, force, clock) -> None:
    ref = _new(session, force, clock, actor=CHAIR, owner_user_id=None, owner_initials="HH")
    assert _set_status(session, force, clock, ref, "ongoing", Actor("UHHMAPPED")).ok


# ------------------------------------------------------------------------------------------------ queries
def _seed_log(session, force, clock) -> None:
    today = clock.now().date()
    specs = [
        ("detect", OWNER, None, today + dt.timedelta(days=3)),
        ("detect", OTHER, None, today + dt.timedelta(days=30)),
        ("divert", None, "HH", today + dt.timedelta(days=5)),
        ("deliver", OWNER, None, None),
        ("demonstrate", OTHER, None, today + dt.timedelta(days=1)),
        ("deliver", None, "JM", today + dt.timedelta(days=6)),
    ]
    for pillar, user, initials, due in specs:
        teams = (SUFFOLK_TEAM,) if user else ()
        new = NewAction(f"{pillar} {user or initials}", pillar, user, initials, due, owner_teams=teams)
        service.create_action(session, force, CHAIR, new, clock)
    session.commit()


def _page(session, force, clock, **kw):
    page = kw.pop("page", 1)
    size = kw.pop("page_size", 12)
    return queries.list_actions(
        session, force, Actor(OWNER), ActionFilters(**kw), clock.now().date(), clock.now(), page, size
    )


def test_list_filters_group_by_pillar(session, force, clock) -> None:
    _seed_log(session, force, clock)
    all_ = _page(session, force, clock)
    assert [g.pillar for g in all_.groups] == list(PILLARS)
    assert all_.total == 6
    # Within a pillar: soonest due first, no due date last.
    assert [a.title for a in all_.groups[2].items] == ["deliver JM", "deliver UOWNER1"]
    assert {a.reference for a in _page(session, force, clock, owner=OWNER).items} == {"A-1", "A-4"}
    assert [a.reference for a in _page(session, force, clock, owner="UHHMAPPED").items] == ["A-3"]
    assert [a.reference for a in _page(session, force, clock, owner="jm").items] == ["A-6"]
    assert [a.reference for a in _page(session, force, clock, pillar="divert").items] == ["A-3"]
    due7 = _page(session, force, clock, due_within_days=7)
    expected = {
        a.reference
        for a in all_.items
        if a.due_on and clock.now().date() <= a.due_on <= clock.now().date() + dt.timedelta(days=7)
    }
    assert {a.reference for a in due7.items} == expected == {"A-1", "A-3", "A-5", "A-6"}
    # Time passes: A-5 (due tomorrow) and A-1 (in 3 days) become overdue.
    clock.advance(dt.timedelta(days=5))
    overdue = _page(session, force, clock, overdue=True)
    assert {a.reference for a in overdue.items} == {"A-1", "A-5"}
    assert all(a.overdue and a.days_overdue > 0 for a in overdue.items)
    row = service.load_action(session, force, "A-1")
    assert _set_status(session, force, clock, "A-1", "complete", Actor(OWNER)).ok
    assert row is not None
    assert {a.reference for a in _page(session, force, clock, overdue=True).items} == {"A-5"}
    assert [a.reference for a in _page(session, force, clock, statuses=("complete",)).items] == ["A-1"]


def test_an_empty_list_says_where_the_items_of_other_kinds_are(session, force, clock) -> None:
    """The detect pillar of the July 2022 log holds only achievements and HMIC recommendations: `/mo actions
    --pillar detect` finds no action, and says what the same filters do find rather than just "no actions"."""
    for n, (kind, status) in enumerate((("achievement", "complete"), ("achievement", "complete"), ("hmic", "open"))):
        session.add(Action(force="suffolk", reference=f"A-{n + 1}", pillar="detect", title=f"t{n}", status=status,
                           kind=kind, version=1))  # fmt: skip
    session.commit()
    empty = _page(session, force, clock, pillar="detect", statuses=STATUSES)
    assert (empty.total, empty.elsewhere) == (0, {"achievement": 2, "hmic": 1})
    text = render_action_list(empty, "Action log")[0]
    assert "No actions match. The same filters match 2 achievements and 1 HMIC recommendation" in text
    assert "`/mo actions --kind all`" in text
    # The other kinds' own defaults: achievements count every status, the others the live ones.
    live = _page(session, force, clock, pillar="detect")
    assert live.elsewhere == {"achievement": 2, "hmic": 1}
    assert _page(session, force, clock, pillar="detect", kind="all").elsewhere == {}  # every kind was asked for
    hmic = _page(session, force, clock, pillar="detect", kind="hmic")
    assert hmic.total == 1 and hmic.elsewhere == {}  # something matched: nothing more to say
    nothing = _page(session, force, clock, pillar="divert", statuses=STATUSES)
    assert nothing.elsewhere == {} and "\nNo actions match.\n" in render_action_list(nothing, "Action log")[0]


def test_pagination(session, force, clock) -> None:
    for i in range(30):
        session.add(
            Action(
                force="suffolk", reference=f"A-{i + 1}", pillar=list(PILLARS)[i % 4], title=f"t{i}", status="open",
                version=1,
            )
        )  # fmt: skip
    session.add(Action(force="norfolk", reference="A-1", pillar="detect", title="n", status="open", version=1))
    session.commit()
    pages = [_page(session, force, clock, page=p, page_size=12) for p in (1, 2, 3)]
    assert [(p.page, p.pages, p.total, len(p.items)) for p in pages] == [(1, 3, 30, 12), (2, 3, 30, 12), (3, 3, 30, 6)]
    seen = [a.reference for p in pages for a in p.items]
    assert sorted(seen) == sorted(f"A-{i + 1}" for i in range(30))  # each once; norfolk's never
    assert _page(session, force, clock, page=99).page == 3


def test_achievements_since(session, force, clock) -> None:
    a = _new(session, force, clock, pillar="detect")
    b = _new(session, force, clock, pillar="divert")
    _new(session, force, clock, pillar="divert")
    assert _set_status(session, force, clock, a, "complete", Actor(OWNER)).ok
    clock.advance(dt.timedelta(days=10))
    assert _set_status(session, force, clock, b, "complete", Actor(OWNER)).ok
    groups = queries.achievements(session, force, Actor(OWNER), None, clock.now().date(), clock.now())
    assert [(g.pillar, [x.reference for x in g.items]) for g in groups] == [("detect", [a]), ("divert", [b])]
    since = clock.now().date() - dt.timedelta(days=2)
    groups = queries.achievements(session, force, Actor(OWNER), since, clock.now().date(), clock.now())
    assert [(g.pillar, [x.reference for x in g.items]) for g in groups] == [("divert", [b])]


def test_overview_and_my_actions(session, force, clock) -> None:
    _seed_log(session, force, clock)
    clock.advance(dt.timedelta(days=5))
    ov = queries.overview(session, force, clock.now().date())
    assert sum(n for c in ov.counts.values() for n in c.values()) == 6
    assert ov.counts["deliver"] == {"open": 2}
    assert ov.overdue == {"detect": 1, "divert": 0, "deliver": 0, "demonstrate": 1}
    mine = queries.my_actions(session, force, OWNER, clock.now().date())
    assert [a.reference for a in mine] == ["A-1", "A-4"]  # overdue first, undated last
    assert mine[0].overdue


def test_reads_are_audited(session, force, clock) -> None:
    _seed_log(session, force, clock)
    n = len(session.scalars(select(AuditEvent)).all())
    _page(session, force, clock, overdue=True)
    queries.get_action(session, force, Actor(OTHER), "a-2", clock.now().date(), clock.now())
    session.commit()
    events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()[n:]
    assert [(e.actor, e.action, e.outcome) for e in events] == [(OWNER, "view", "ok"), (OTHER, "view", "ok")]
    assert "overdue" in events[0].detail and events[1].detail == "action A-2"


# ------------------------------------------------------------------------------------------------ reminders
def test_reminders_once_a_week_per_action(session, force, clock) -> None:
    _seed_log(session, force, clock)
    clock.advance(dt.timedelta(days=2))  # A-5 overdue by 1 day; A-1 due in 1 day
    plan = reminders.plan_reminders(session, force, clock.now())
    by_user = {r.user_id: r for r in plan.reminders}
    assert set(by_user) == {OWNER, OTHER, "UHHMAPPED"}
    assert [a.reference for a in by_user[OTHER].overdue] == ["A-5"]
    assert [a.reference for a in by_user[OWNER].due_soon] == ["A-1"]
    assert [a.reference for a in by_user["UHHMAPPED"].due_soon] == ["A-3"]  # mapped through initials
    assert [a.reference for a in plan.unmapped] == ["A-6"]  # JM: no Slack user to DM
    # planning writes nothing
    assert session.scalars(select(AuditEvent).where(AuditEvent.action == "remind")).all() == []
    for r in plan.reminders:
        reminders.record_sent(session, force, r, clock.now())
    session.commit()
    clock.advance(dt.timedelta(days=3))
    again = reminders.plan_reminders(session, force, clock.now())
    assert again.reminders == ()  # nothing repeated within the week
    clock.advance(dt.timedelta(days=4))  # a week and a day after sending
    later = {
        r.user_id: [a.reference for a in r.actions]
        for r in reminders.plan_reminders(session, force, clock.now()).reminders
    }
    assert later[OTHER] == ["A-5"]
    assert later[OWNER] == ["A-1"]


def test_snooze_and_held_actions(session, force, clock) -> None:
    _seed_log(session, force, clock)
    assert reminders.snooze(session, force, Actor(OTHER), "A-1", clock.now()).code == "not_allowed"
    assert reminders.snooze(session, force, Actor(OWNER), "A-1", clock.now()) is None
    assert _set_status(session, force, clock, "A-5", "held", CHAIR, note="paused").ok
    session.commit()
    plan = reminders.plan_reminders(session, force, clock.now())
    listed = {a.reference for r in plan.reminders for a in r.actions}
    assert "A-1" not in listed  # snoozed
    assert "A-5" not in listed  # held
    clock.advance(dt.timedelta(days=7))
    assert "A-1" in {
        a.reference for r in reminders.plan_reminders(session, force, clock.now()).reminders for a in r.actions
    }


# ------------------------------------------------------------------------------------------------ export
def test_export_csv_and_xlsx(session, force, clock) -> None:
    _seed_log(session, force, clock)
    ref = _new(session, force, clock, title="=HYPERLINK(evil)", pillar="divert")
    clock.advance(dt.timedelta(days=1))
    assert _set_status(session, force, clock, ref, "held", Actor(OWNER), note="awaiting report from SBOS").ok
    rows = export.export_rows(session, force, Actor(OWNER), clock.now())
    assert [r.pillar for r in rows] == sorted((r.pillar for r in rows), key=list(PILLARS.values()).index)
    assert len(rows) == 7
    held = next(r for r in rows if r.reference == ref)
    assert (held.pillar, held.status, held.owner, held.last_update) == (
        "Divert & Deter", "HELD", OWNER, "awaiting report from SBOS"
    )  # fmt: skip
    assert held.last_update_on == clock.now().date()
    hh = next(r for r in rows if r.owner == "HH")
    assert hh.last_update == "added to the log"
    data = export.csv_bytes(rows).decode("utf-8-sig")
    parsed = list(csv.reader(io.StringIO(data)))
    assert parsed[0] == list(export.HEADERS)
    assert len(parsed) == 8
    line = next(p for p in parsed if p[1] == ref)
    assert line[2] == "'=HYPERLINK(evil)"  # never a live formula
    assert line[6] == f"{clock.now().date().isoformat()}: awaiting report from SBOS"
    only = export.export_rows(session, force, Actor(OWNER), clock.now(), pillar="divert")
    assert {r.pillar for r in only} == {"Divert & Deter"} and len(only) == 2

    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(export.xlsx_bytes(rows)))
    ws = wb.active
    values = list(ws.iter_rows(values_only=True))
    assert values[0][:7] == export.HEADERS
    assert len(values) == 8
    assert [v[1] for v in values[1:]] == [r.reference for r in rows]
    session.commit()
    assert session.scalars(select(AuditEvent.detail).where(AuditEvent.detail.like("actions export%"))).all()


def test_live_statuses_are_the_default_list(session, force, clock) -> None:
    ref = _new(session, force, clock)
    _new(session, force, clock)
    assert _set_status(session, force, clock, ref, "cancelled", Actor(OWNER), note="superseded").ok
    page = _page(session, force, clock)
    assert {a.status for a in page.items} <= set(LIVE_STATUSES)
    assert [a.reference for a in page.items] == ["A-2"]


def test_stale_refusal_shows_changes_made_by_an_import(session, config, force, clock, tmp_path) -> None:
    """The importer writes history without version stamps; a writer who saw the earlier version still sees them."""
    path = tmp_path / "log.csv"
    path.write_text("reference,pillar,title,owner,status\nA-1,divert,Warrants data,HH,ongoing\n")
    assert import_file(session, config, ImportRequest("actions", path, force="suffolk"), clock.now()).ok
    session.commit()
    seen = service.load_action(session, force, "A-1").version
    path.write_text("reference,pillar,title,owner,status\nA-1,divert,Warrants data,HH,held\n")
    clock.advance(dt.timedelta(days=1))
    assert import_file(session, config, ImportRequest("actions", path, force="suffolk"), clock.now()).ok
    session.commit()
    res = service.change_action(session, force, CHAIR, ActionChange("A-1", seen, status="complete"), clock)
    assert res.refusal.code == "stale"
    assert [(h.field, h.old_value, h.new_value) for h in res.refusal.changes_since] == [("status", "ongoing", "held")]
    assert res.refusal.current.status == "held"


def test_a_writers_own_change_since_the_version_they_saw_is_not_a_conflict(session, force, clock) -> None:
    """A second click on a list drawn before the first was applied: nothing of anyone else's is overwritten."""
    ref = _new(session, force, clock)
    first = service.change_action(session, force, CHAIR, ActionChange(ref, 1, status="ongoing"), clock)
    session.commit()
    assert first.ok and first.action.version == 2
    again = service.change_action(session, force, CHAIR, ActionChange(ref, 1, status="complete"), clock)
    session.commit()
    assert again.ok and again.action.status == "complete" and again.action.version == 3
    # Someone else's change in between is still a conflict, and names only them.
    other = Actor("UDEPUTY", role="admin")
    assert service.change_action(session, force, other, ActionChange(ref, 3, title="Renamed"), clock).ok
    session.commit()
    stale = service.change_action(session, force, CHAIR, ActionChange(ref, 2, title="Mine"), clock)
    assert not stale.ok and stale.refusal.code == "stale"
    assert "UDEPUTY" in stale.refusal.reason and "UCHAIR" not in stale.refusal.reason.split("(and by you)")[0]
