"""The paper dated --as-of shows each item as it stood that day (status, owners, dates, section), from the
action's history; an import's corrections stay. On SQLite and PostgreSQL, with an injected clock."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from sqlalchemy import select

from bot.action_log import paper, service
from bot.action_log.types import ActionChange, Actor, NewAction
from bot.clock import FixedClock
from bot.importing.service import import_file
from bot.importing.types import ImportRequest
from bot.models import Action
from tests.support.paths import REPO_ROOT

SEED = REPO_ROOT / "bot" / "data" / "actions-2022-07.csv"
CHAIR = Actor("UCHAIR", role="admin", team_id="T0SUFFOLK")
LOG_DAY = dt.date(2022, 7, 31)


def _items(doc: paper.Paper) -> dict[str, tuple[str, paper.PaperItem]]:
    return {i.reference: (s.kind, i) for s in doc.sections for g in s.groups for i in g.items}


def _change(session, force, clock, ref: str, **kw) -> None:
    version = session.scalars(select(Action.version).where(Action.reference == ref)).one()
    res = service.change_action(session, force, CHAIR, ActionChange(ref, version, **kw), clock)
    assert res.ok, res.refusal
    session.commit()


def test_the_paper_as_of_a_past_date_shows_statuses_and_owners_as_they_were(session, config) -> None:
    force = replace(config.force("suffolk"), owners={"JM": "UJM", "JG": "UJG"}, slack_team_ids=("T0SUFFOLK",))
    clock = FixedClock(dt.datetime(2022, 9, 20, 10, tzinfo=dt.UTC))
    request = ImportRequest("actions", str(SEED), force="suffolk", as_of=LOG_DAY)
    assert import_file(session, config, request, clock.now()).ok
    session.commit()
    # After the July log: A-9 (JM) started on 10 Aug; A-1 (HH) completed on 5 Sep; A-6 (JM & JG) handed to JG
    # alone and A-2 given a due date, both recorded today (20 Sep).
    _change(session, force, clock, "A-9", status="ongoing", note="brief drafted", on=dt.date(2022, 8, 10))
    _change(session, force, clock, "A-1", status="complete", on=dt.date(2022, 9, 5))
    _change(session, force, clock, "A-6", owner_user_id="UJG", owner_teams=("T0SUFFOLK",))
    _change(session, force, clock, "A-2", due_on=dt.date(2022, 10, 31))

    def paper_on(day: dt.date) -> dict[str, tuple[str, paper.PaperItem]]:
        return _items(paper.build_paper(session, force, CHAIR, day, clock.now()))

    on_log_day = paper_on(LOG_DAY)
    assert (on_log_day["A-9"][0], on_log_day["A-9"][1].status) == ("action", "OPEN")
    assert (on_log_day["A-1"][0], on_log_day["A-1"][1].status, on_log_day["A-1"][1].completed) == ("action", "OPEN", "")
    assert on_log_day["A-6"][1].owners == "JM & JG" and on_log_day["A-2"][1].due is None
    mid_august = paper_on(dt.date(2022, 8, 15))
    assert mid_august["A-9"][1].status == "ONGOING" and mid_august["A-9"][1].update == "brief drafted"
    assert mid_august["A-1"][1].status == "OPEN"
    now = paper_on(dt.date(2022, 9, 20))
    assert (now["A-1"][0], now["A-1"][1].status, now["A-1"][1].completed) == ("achievement", "COMPLETE", "5 Sep 2022")
    # Handed to the Slack user whom JG names: the paper names them JG, as the log does (not "UJG").
    assert now["A-6"][1].owners == "JG" and now["A-2"][1].due == dt.date(2022, 10, 31)
    # The import's corrections of the transcript are not undone: the kinds and stated dates stand on the log's day.
    assert on_log_day["A-17"][0] == "achievement" and on_log_day["A-17"][1].completed == "13 Sep 2021"
    assert on_log_day["A-44"][0] == "hmic"


def test_an_item_without_updates_names_the_log_it_came_with_or_the_day_it_was_added(session, config) -> None:
    """An achievement of Aug 2021 came with the log of 31 Jul 2022: "no update since the log of 1 Aug 2021" named
    a log that never was. An item added in Slack came with no log at all."""
    force = replace(config.force("suffolk"), slack_team_ids=("T0SUFFOLK",))
    clock = FixedClock(dt.datetime(2022, 9, 20, 10, tzinfo=dt.UTC))
    assert import_file(session, config, ImportRequest("actions", str(SEED), force="suffolk"), clock.now()).ok
    session.commit()
    added = service.create_action(
        session, force, CHAIR, NewAction("Dip sample VA records", "deliver", owner_initials="HH"), clock
    )
    assert added.ok
    session.commit()
    items = _items(paper.build_paper(session, force, CHAIR, dt.date(2022, 9, 20), clock.now()))
    assert items["A-28"][1].completed == "Aug 2021"  # "… Aug 2021" in its own text
    assert items["A-28"][1].update == "no update since the log of 31 Jul 2022"
    assert items[added.action.reference][1].update == "no update since it was added on 20 Sep 2022"


def test_closing_evidence_is_recorded_from_slack_and_the_paper_shows_it_from_that_day(session, config) -> None:
    """`/mo action A-51 --evidence …`: the paper's Evidence column had no way to be filled but an import."""
    force = replace(config.force("suffolk"), slack_team_ids=("T0SUFFOLK",))
    clock = FixedClock(dt.datetime(2022, 9, 20, 10, tzinfo=dt.UTC))
    assert import_file(session, config, ImportRequest("actions", str(SEED), force="suffolk"), clock.now()).ok
    session.commit()
    _change(session, force, clock, "A-51", status="complete", evidence="Dip sample of 40 lapsed bail cases, Sep 22")
    a51 = session.scalars(select(Action).where(Action.reference == "A-51")).one()
    assert a51.evidence == "Dip sample of 40 lapsed bail cases, Sep 22"
    today = _items(paper.build_paper(session, force, CHAIR, dt.date(2022, 9, 20), clock.now()))
    assert today["A-51"][1].evidence == "Dip sample of 40 lapsed bail cases, Sep 22"
    before = _items(paper.build_paper(session, force, CHAIR, dt.date(2022, 9, 1), clock.now()))
    assert before["A-51"][1].evidence == ""  # recorded on 20 Sep: not on the paper of 1 Sep


def test_an_item_a_later_log_changed_is_dated_by_that_log_in_the_export_as_on_the_paper(
    session, config, tmp_path
) -> None:
    """The export dated it by the day of the import ("2026-12-07: import a2.csv"); the paper by the log."""
    from bot.action_log.export import export_rows

    force = replace(config.force("suffolk"), slack_team_ids=("T0SUFFOLK",))
    clock = FixedClock(dt.datetime(2026, 12, 7, 10, tzinfo=dt.UTC))
    header = "reference,pillar,title,owner,status,due_on\n"
    logs = {dt.date(2026, 1, 31): "A-1,detect,Review wanted,HH,open,\n",
            dt.date(2026, 3, 31): "A-1,detect,Review wanted,HH,open,2026-06-30\n"}  # fmt: skip
    for day, rows in logs.items():
        path = tmp_path / f"log-{day}.csv"
        path.write_text(header + rows)
        assert import_file(session, config, ImportRequest("actions", path, force="suffolk", as_of=day), clock.now()).ok
        session.commit()
    (row,) = export_rows(session, force, CHAIR, clock.now())
    assert (row.reference, row.last_update_on) == ("A-1", dt.date(2026, 3, 31))
    items = _items(paper.build_paper(session, force, CHAIR, dt.date(2026, 12, 7), clock.now()))
    assert items["A-1"][1].update == "no update since the log of 31 Mar 2026"
