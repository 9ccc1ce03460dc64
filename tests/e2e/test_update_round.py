"""The update round before a meeting, end to end: `/mo meeting` as Slack sends it, the scheduler's runner ticking
every morning on an injected clock across the end of British Summer Time (Sunday 25 October 2026), the owners'
DMs on the fake Slack with their buttons clicked and the modal submitted as Slack posts them, the nudge, and the
chair's digest. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.action_log import paper
from bot.action_log.types import Actor
from bot.clock import FixedClock
from bot.models import RoundAnswer, RoundMessage
from bot.slack.client import make_client
from jobs.runner import JobRunner
from tests.e2e.test_action_log_in_slack import CHAIR, OTHER, OWNER, Bot, _answer, _import_seed, bot, fake_slack
from tests.support.slackutil import blocks_text

__all__ = ["bot", "fake_slack"]  # the fixtures, shared with the action log's other end-to-end tests

LONDON = ZoneInfo("Europe/London")
SILENT = "U0SILENT4"  # an owner who never answers
MEETING_DAY = dt.date(2026, 10, 27)


def _at(day: int, hour: int = 8, minute: int = 45) -> dt.datetime:
    """A wall-clock time in London in October 2026 (BST until the 25th at 02:00, GMT after)."""
    return dt.datetime(2026, 10, day, hour, minute, tzinfo=LONDON)


def _tick(bot: Bot, when: dt.datetime) -> list[Any]:
    clock = bot.rt.clock
    assert isinstance(clock, FixedClock)
    clock.set(when)
    results = JobRunner(bot.rt, make_client(bot.fake.token, bot.fake.base_url)).tick()
    return [r for r in results if r.key.job == "update_round"]


def _dms(bot: Bot) -> list[Any]:
    """The round's DMs (the runner's other jobs, e.g. the freshness check, DM the chair too)."""
    return [
        c for c in bot.fake.calls_to("chat.postMessage")
        if c.params["channel"].startswith("D") and "the meeting on" in c.params["text"]
    ]  # fmt: skip


def _to(bot: Bot, user: str) -> list[Any]:
    channel = "D" + user[1:]
    return [c for c in _dms(bot) if c.params["channel"] == channel]


def _button(call: Any, action_id: str, ref: str) -> str:
    for block in call.params["blocks"]:
        if block.get("block_id") == f"roundctl:{ref}":
            return next(e["value"] for e in block["elements"] if e["action_id"] == action_id)
    raise AssertionError(f"no {action_id} for {ref}")


def test_the_update_round_across_the_clock_change(bot: Bot) -> None:
    _import_seed(bot)  # A-6 (JM & JG) is OTHER's and OWNER's, A-9 (JM) OTHER's; HH has no Slack user
    bot.fake.users[SILENT] = {"name": "silent"}
    silent_ref = bot.create("Dip sample the VA records", owner=SILENT, pillar="demonstrate")
    clock = bot.rt.clock
    assert isinstance(clock, FixedClock)
    clock.set(_at(20, 10))
    # A Wednesday: the first DMs five days before (Friday 23rd, BST), the nudge two days before (Monday 26th, GMT:
    # the clocks went back on the Sunday between).
    meeting = dt.date(2026, 10, 28)
    assert "Added the meeting on Wed 28 Oct 2026" in _answer(bot, "meeting 2026-10-28", CHAIR)
    assert "only an admin" in _answer(bot, "meeting 2026-11-24", OWNER)
    again = _answer(bot, "meeting 2026-10-28", CHAIR)  # set twice: said so, not "added" again
    assert "The meeting on Wed 28 Oct 2026 was already set." in again and "Added" not in again
    bot.fake.reset()

    assert [r.outcome for r in _tick(bot, _at(22))] == ["done"]  # six days before: nothing due yet
    assert _dms(bot) == []
    # The daily run reopens the recurring actions that came round (A-33 every 6 months, A-39 monthly).
    assert (bot.action("A-33").status, bot.action("A-39").status) == ("open", "open")

    # Five days before (BST, 07:45 UTC): one DM to each owner listing their live actions.
    assert [r.outcome for r in _tick(bot, _at(23))] == ["done"]
    first_other, first_owner = _to(bot, OTHER), _to(bot, OWNER)
    assert len(first_other) == len(first_owner) == len(_to(bot, SILENT)) == 1 and len(_dms(bot)) == 3
    assert silent_ref in blocks_text(_to(bot, SILENT)[0].params["blocks"])
    assert "A-6" in blocks_text(first_owner[0].params["blocks"])
    assert {"A-6", "A-9"} <= {b["block_id"][6:] for b in first_other[0].params["blocks"]
                               if b.get("block_id", "").startswith("round:")}  # fmt: skip
    # The same morning again, and the weekend (the clocks go back on the Sunday): nobody is sent the first DM
    # twice, and nobody is DMed at the weekend.
    assert [r.outcome for r in _tick(bot, _at(23, 9))] == []
    _tick(bot, _at(24))
    _tick(bot, _at(25))
    # The round's first day has passed and its DMs went: the listing says when, not "at the round's next run".
    listed = _answer(bot, "meeting", CHAIR)
    assert "Wed 28 Oct 2026 — owners asked to update on Fri 23 Oct 2026, nudged on Mon 26 Oct 2026" in listed
    assert len(_dms(bot)) == 3

    # OWNER answers: "No change" on A-6 (a button in the DM, as Slack posts a click).
    dm_owner = first_owner[0].params["channel"]
    msg = {"ts": first_owner[0].response["ts"], "text": "x", "blocks": first_owner[0].params["blocks"]}
    url = bot.click(_button(first_owner[0], "mo_round_same", "A-6"), user=OWNER, action_id="mo_round_same",
                    overflow=False, channel=dm_owner, message=msg)  # fmt: skip
    assert bot.fake.wait_for(lambda f: bool(f.calls_to("chat.update")))
    assert "No change — answered" in blocks_text(bot.fake.calls_to("chat.update")[-1].params["blocks"])
    assert url is not None and bot.fake.posts_to(url) == []  # the DM is redrawn, not answered beside

    # Two days before, the Monday after the clocks went back (08:45 GMT = 08:45 UTC): those who have not answered
    # are nudged, once: OTHER and SILENT, not OWNER.
    _tick(bot, _at(26))
    assert len(_to(bot, OTHER)) == len(_to(bot, SILENT)) == 2 and len(_to(bot, OWNER)) == 1
    assert "A reminder" in blocks_text(_to(bot, OTHER)[1].params["blocks"])
    _tick(bot, _at(26, 12))
    assert len(_dms(bot)) == 5

    # OTHER opens "Update" on A-9 and submits the modal: a hold without a note is refused next to the field;
    # then ongoing, with a note, dated the day before.
    clock.set(_at(27, 8))
    bot.click(_button(first_other[0], "mo_round_update", "A-9"), user=OTHER, action_id="mo_round_update",
              overflow=False, channel=first_other[0].params["channel"])  # fmt: skip
    modal = bot.last_view()
    assert modal["callback_id"] == "mo_round_update"
    bad = bot.submit(modal, {"status": "held", "note": ""}, user=OTHER)
    assert bad["response_action"] == "errors" and "needs a note" in bad["errors"]["note"]
    ok = bot.submit(modal, {"status": "ongoing", "note": "brief drafted", "on": "2026-10-26"}, user=OTHER)
    assert ok == {}
    assert bot.action("A-9").status == "ongoing"
    assert [(h.field, h.note, h.effective_on) for h in bot.history("A-9")] == [
        ("status", "brief drafted", dt.date(2026, 10, 26))
    ]
    _tick(bot, _at(27))
    assert len(_dms(bot)) == 5

    # The morning of the meeting (GMT): the chair's digest.
    _tick(bot, _at(28))
    (digest,) = _to(bot, CHAIR)
    text = blocks_text(digest.params["blocks"])
    assert "A-9" in text and "brief drafted" in text  # what changed
    assert f"no change (<@{OWNER}>)" in text
    silent = text.split("*Did not reply*")[1].split("*Could not be asked*")[0]
    assert f"<@{SILENT}>" in silent and OTHER not in silent and OWNER not in silent
    assert "A-1" in text.split("*Could not be asked*")[1] and "HH" in text  # owners with no Slack user
    _tick(bot, _at(28, 12))
    _tick(bot, _at(29))
    assert len(_to(bot, CHAIR)) == 1 and len(_dms(bot)) == 6
    with bot.rt.sessions() as s:
        kinds = sorted(s.scalars(select(RoundMessage.kind)))
    assert kinds == ["digest", "first", "first", "first", "nudge", "nudge"]
    assert not any("norfolk" in json.dumps(c.params) for c in _dms(bot))
    # The paper for the meeting carries the round's answers.
    with bot.rt.sessions() as s:
        doc = paper.build_paper(s, bot.force, Actor(CHAIR, "admin"), meeting, bot.rt.clock.now())
    answers = {(line.reference, line.owner, line.answer) for line in doc.round}
    assert ("A-6", "JG", "no change") in answers and ("A-9", "JM", "updated") in answers


def _values_in(blocks: list[dict[str, Any]]) -> dict[str, list[str]]:
    """The round buttons still in a message: reference → their action_ids."""
    return {b["block_id"][9:]: [e["action_id"] for e in b["elements"]] for b in blocks
            if b.get("block_id", "").startswith("roundctl:")}  # fmt: skip


def test_a_meeting_set_after_its_rounds_first_day_says_the_round_asks_at_its_next_run(bot: Bot) -> None:
    """Set on Tuesday 20th for Thursday 22nd: its round's first day (Friday 16th) has gone, and the listing said the
    owners were asked on it."""
    clock = bot.rt.clock
    assert isinstance(clock, FixedClock)
    clock.set(_at(20, 10))
    late = _answer(bot, "meeting 2026-10-22", CHAIR)
    assert "Added the meeting on Thu 22 Oct 2026" in late
    assert (
        "Thu 22 Oct 2026 — owners asked to update at the round's next run: its first day, Fri 16 Oct 2026, has passed"
        in late
    )


def test_an_answer_redraws_the_dm_and_a_second_click_records_nothing(bot: Bot) -> None:
    """The block_actions payload carries the DM in ``container`` (``channel_id``, ``message_ts``), as in
    slackapi/java-slack-sdk json-logs/samples/app-backend/interactive-components/BlockActionPayload.json; the bot
    redraws that message with chat.update."""
    _import_seed(bot)
    clock = bot.rt.clock
    assert isinstance(clock, FixedClock)
    clock.set(_at(20, 10))
    listed = _answer(bot, "meeting 2026-10-27", CHAIR)
    # A Tuesday: the nudge's Sunday moves to the Friday before, and the listing says so.
    assert "Tue 27 Oct 2026 — owners asked to update on Thu 22 Oct 2026, nudged on Fri 23 Oct 2026" in listed
    _tick(bot, _at(22))
    (first,) = _to(bot, OTHER)  # A-6 (JM & JG) and A-9 (JM) among OTHER's actions
    channel, ts = first.params["channel"], first.response["ts"]
    assert {"A-6", "A-9"} <= set(_values_in(first.params["blocks"]))

    clock.set(_at(23, 9, 12))
    value = _button(first, "mo_round_same", "A-6")
    for _ in range(2):  # a double click, or the same button clicked again later
        bot.click(value, user=OTHER, action_id="mo_round_same", overflow=False, channel=channel,
                  message={"ts": ts, "text": "x", "blocks": first.params["blocks"]})  # fmt: skip
        assert bot.fake.wait_for(lambda f: len(f.calls_to("chat.update")) >= 1)
    assert bot.fake.wait_for(lambda f: len(f.calls_to("chat.update")) == 2)
    with bot.rt.sessions() as s:
        answers = s.scalars(select(RoundAnswer).where(RoundAnswer.user_id == OTHER)).all()
        assert [(a.answer, a.meeting_on) for a in answers] == [("no_change", MEETING_DAY)]
    # The DM itself, as Slack now shows it: A-6 says what was answered and when (09:12 BST), with no buttons left.
    shown = bot.fake.messages[(channel, ts)]
    assert "A-6" not in _values_in(shown["blocks"]) and "A-9" in _values_in(shown["blocks"])
    answered = next(b for b in shown["blocks"] if b.get("block_id") == "roundans:A-6")
    assert blocks_text([answered]) == ":white_check_mark: No change — answered 23 Oct 2026 at 09:12"

    # "Update" on A-9 then the form saved: the DM it was opened from is redrawn with the update.
    bot.click(_button(first, "mo_round_update", "A-9"), user=OTHER, action_id="mo_round_update", overflow=False,
              channel=channel, message={"ts": ts, "text": "x", "blocks": first.params["blocks"]})  # fmt: skip
    modal = bot.last_view()
    assert bot.submit(modal, {"status": "ongoing", "note": "brief drafted"}, user=OTHER) == {}
    assert bot.fake.wait_for(lambda f: len(f.calls_to("chat.update")) == 3)
    shown = bot.fake.messages[(channel, ts)]
    assert _values_in(shown["blocks"]).keys().isdisjoint({"A-6", "A-9"})
    assert "Updated — answered 23 Oct 2026" in blocks_text(shown["blocks"])
    with bot.rt.sessions() as s:
        rows = s.scalars(select(RoundAnswer).where(RoundAnswer.user_id == OTHER)).all()
        got = sorted((a.action_id, a.answer) for a in rows)
    assert [a for _, a in got] == ["no_change", "update"]
    # "Done" clicked twice (the old buttons of the first copy) completes it once; the answer becomes "done".
    bot.click(_button(first, "mo_round_done", "A-9"), user=OTHER, action_id="mo_round_done", overflow=False,
              channel=channel, message={"ts": ts, "text": "x", "blocks": first.params["blocks"]})  # fmt: skip
    bot.click(_button(first, "mo_round_done", "A-9"), user=OTHER, action_id="mo_round_done", overflow=False,
              channel=channel, message={"ts": ts, "text": "x", "blocks": first.params["blocks"]})  # fmt: skip
    assert bot.fake.wait_for(lambda f: len(f.calls_to("chat.update")) == 5)
    assert bot.action("A-9").status == "complete"
    assert [h.new_value for h in bot.history("A-9") if h.field == "status"] == ["ongoing", "complete"]
    with bot.rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(RoundAnswer).where(RoundAnswer.user_id == OTHER)) == 2
