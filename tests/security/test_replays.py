"""A signed request sent again changes nothing again, driven as the attack was: the very bytes and headers of a
signed request (same ``X-Slack-Request-Timestamp``, same ``X-Slack-Signature``) sent three times inside Slack's
5-minute window, over HTTP into the WSGI app, with the fake Slack behind it.

The attack, as reproduced: the same signed ``/mo action add`` three times made three actions; the same ``--note``
three notes; the same modal submission three actions. Promises checked here:

- a request whose signature was already seen is answered 200 with nothing run, logged and audited as a replay
  (the signature is claimed in the table every worker and replica shares, so concurrent copies run once);
- behind that, each change is made once per interaction (the slash command's ``trigger_id``, the modal's view
  id): a copy signed afresh — one the signature check cannot tell apart — still changes nothing twice;
- the read-only hot path pays nothing for it: a ``/mo`` count makes no claim (answered and audited again if sent
  again), while a change costs one claim of its signature and one of its interaction.

Runs on SQLite and PostgreSQL (MO_TEST_DATABASE_URL).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import event, func, select

from bot.models import Action, ActionHistory, AuditEvent, SlackDelivery
from bot.runtime import Runtime
from commands.web import WebApp, database_check
from tests.support import fakeslack
from tests.support.bolt import app_for
from tests.support.fakeslack import FakeSlack
from tests.support.seed import seed
from tests.support.slackutil import LocalServer, Reply, post_signed, slash_command

fake_slack = fakeslack.fake_slack

CHANNEL = "C0MOREPLAY"
OWNER = "U0OWNER01"
_seq = itertools.count(1)


@dataclass
class Slack:
    rt: Runtime
    fake: FakeSlack
    url: str

    def slash(self, text: str) -> dict[str, str]:
        """The form Slack posts for ``/mo text`` by OWNER (one trigger_id and response_url: one invocation)."""
        url = self.fake.new_response_url()
        return slash_command(text, user_id=OWNER, team_id=self.fake.team_id, channel_id=CHANNEL, response_url=url)

    def send(self, form: dict[str, str], *, timestamp: int, times: int = 1, together: bool = False) -> list[Reply]:
        """Post ``form`` signed for ``timestamp`` ``times`` times: byte for byte the same request each time."""
        if not together:
            return [post_signed(self.url, form, timestamp=timestamp) for _ in range(times)]
        replies: list[Reply] = []
        start = threading.Barrier(times)

        def one() -> None:
            start.wait()
            replies.append(post_signed(self.url, form, timestamp=timestamp))

        threads = [threading.Thread(target=one) for _ in range(times)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return replies

    def settled(self, response_url: str, answers: int = 1) -> list[dict[str, Any]]:
        """What was posted to a command's response_url, once ``answers`` deferred answers are there."""
        assert self.fake.wait_for(lambda f: len(f.posts_to(response_url)) >= answers), self.fake.methods()
        time.sleep(0.2)  # one more answer, if one were coming, would be posted by now
        return [p.payload for p in self.fake.posts_to(response_url)]

    def count(self, model: Any, *where: Any) -> int:
        with self.rt.sessions() as s:
            return s.scalar(select(func.count()).select_from(model).where(*where)) or 0

    def replays_audited(self) -> list[tuple[str, str, str]]:
        with self.rt.sessions() as s:
            rows = s.scalars(select(AuditEvent).where(AuditEvent.detail.startswith("replay:")).order_by(AuditEvent.id))
            return [(e.actor, e.action, e.outcome) for e in rows]

    def submission(self, view: dict[str, Any], values: dict[str, str]) -> dict[str, str]:
        """The form field Slack posts when OWNER submits ``view`` (as views.open got it) with text ``values``."""
        state: dict[str, Any] = {}
        for block in view["blocks"]:
            if block.get("type") != "input":
                continue
            bid, el = block["block_id"], block["element"]
            if el["type"] == "plain_text_input":
                state[bid] = {el["action_id"]: {"type": "plain_text_input", "value": values.get(bid)}}
            elif el["type"] == "static_select":
                v = values.get(bid) or (el.get("initial_option") or {}).get("value")
                state[bid] = {
                    el["action_id"]: {"type": "static_select", "selected_option": {"value": v} if v else None}
                }
            elif el["type"] == "users_select":
                state[bid] = {el["action_id"]: {"type": "users_select", "selected_user": el.get("initial_user")}}
            elif el["type"] == "datepicker":
                state[bid] = {el["action_id"]: {"type": "datepicker", "selected_date": None}}
        n = next(_seq)
        body = {
            "type": "view_submission",
            "team": {"id": self.fake.team_id, "domain": "x"},
            "user": {"id": OWNER, "team_id": self.fake.team_id, "username": "owner"},
            "api_app_id": "A0MOBOT01",
            "token": "unused",
            "trigger_id": f"{n}.{n * 5}.{n:032x}",
            "view": {
                "id": f"V0REPLAY{n:04d}",
                "team_id": self.fake.team_id,
                "type": "modal",
                "callback_id": view["callback_id"],
                "private_metadata": view.get("private_metadata", ""),
                "blocks": view["blocks"],
                "state": {"values": state},
                "hash": f"{n}.h",
            },
        }
        return {"payload": json.dumps(body)}


@pytest.fixture
def slack(runtime: Runtime, fake_slack: FakeSlack) -> Iterator[Slack]:
    cfg = runtime.config
    suffolk = replace(cfg.force("suffolk"), slack_team_ids=(fake_slack.team_id,))
    cfg = replace(cfg, forces={**cfg.forces, "suffolk": suffolk}, slack=replace(cfg.slack, channels=(CHANNEL,)))
    rt = Runtime(config=cfg, engine=runtime.engine, sessions=runtime.sessions, clock=runtime.clock)
    fake_slack.add_channel(CHANNEL)
    fake_slack.users[OWNER] = {"name": "owner", "team_id": fake_slack.team_id, "deleted": False}
    app = app_for(rt, fake_slack)
    with LocalServer(WebApp(app, [database_check(rt.engine)], mode="http")) as srv:
        yield Slack(rt, fake_slack, srv.url + "/slack/events")


def test_the_same_signed_action_add_three_times_adds_one_action(slack: Slack) -> None:
    form = slack.slash('action add "Deep dive into OOCD breaches" --pillar divert')
    now = int(time.time())
    replies = slack.send(form, timestamp=now, times=3, together=True)
    assert sorted(r.status for r in replies) == [200, 200, 200]
    # One was run (acked empty, answered through response_url); the copies got an empty 200 too, and were audited.
    assert [r.body for r in replies] == [b"", b"", b""]
    slack.settled(form["response_url"])
    assert slack.count(Action) == 1
    assert slack.replays_audited() == [(OWNER, "command", "refused"), (OWNER, "command", "refused")]
    # Signed afresh (a new timestamp: the signature check cannot tell it from a new request), the same invocation
    # (its trigger_id) still adds nothing.
    slack.send(form, timestamp=now - 1)
    answers = slack.settled(form["response_url"], answers=2)
    assert len(answers) == 2 and "already carried out" in json.dumps(answers[-1])
    assert slack.count(Action) == 1


def test_the_same_signed_note_three_times_adds_one_note(slack: Slack) -> None:
    add = slack.slash('action add "Deep dive" --pillar divert')
    slack.send(add, timestamp=int(time.time()))
    slack.settled(add["response_url"])
    form = slack.slash('action A-1 --note "Spoke to the MOJ"')
    now = int(time.time())
    replies = slack.send(form, timestamp=now, times=3)
    assert [r.body for r in replies] == [b"", b"", b""]  # one run (answered through response_url), two copies
    slack.settled(form["response_url"])
    slack.send(form, timestamp=now - 1)  # signed afresh
    assert "already carried out" in json.dumps(slack.settled(form["response_url"], answers=2)[-1])
    notes = slack.count(ActionHistory, ActionHistory.note == "Spoke to the MOJ")
    assert notes == 1
    with slack.rt.sessions() as s:
        a = s.scalars(select(Action)).one()
    assert a.version == 2
    assert len(slack.replays_audited()) == 2


def test_the_same_modal_submission_three_times_adds_one_action(slack: Slack) -> None:
    form = slack.slash("action add")  # opens the add form (answered in the ack)
    slack.send(form, timestamp=int(time.time()))
    assert slack.fake.wait_for(lambda f: bool(f.calls_to("views.open")))
    view = slack.fake.calls_to("views.open")[-1].params["view"]
    submitted = slack.submission(view, {"title": "Warrants data by district", "pillar": "detect"})
    now = int(time.time())
    replies = slack.send(submitted, timestamp=now, times=3, together=True)
    assert [r.status for r in replies] == [200, 200, 200]
    assert slack.count(Action) == 1
    assert slack.replays_audited() == [(OWNER, "interaction", "refused"), (OWNER, "interaction", "refused")]
    # Signed afresh, the same submission (its view id) creates nothing and just closes the form.
    again = slack.send(submitted, timestamp=now - 1)[0]
    assert again.status == 200 and not again.body
    assert slack.count(Action) == 1
    with slack.rt.sessions() as s:
        done = s.scalars(select(AuditEvent).where(AuditEvent.detail.contains("already carried out"))).all()
    assert [(e.actor, e.action, e.outcome) for e in done] == [(OWNER, "change", "refused")]


def test_read_only_questions_make_no_claim_and_a_change_makes_one_of_each(slack: Slack) -> None:
    seed(slack.rt.sessions, forces=("suffolk",), n=20)
    inserts: list[str] = []

    def watch(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO SLACK_DELIVERY"):
            inserts.append(statement)

    event.listen(slack.rt.engine, "before_cursor_execute", watch)
    try:
        form = slack.slash("wanted --district ipswich")
        now = int(time.time())
        replies = slack.send(form, timestamp=now, times=2)
        assert inserts == []
        # Read-only and answered in the ack: a copy is answered again (what the request already asked) and audited.
        assert [r.json()["blocks"] == replies[0].json()["blocks"] for r in replies] == [True, True]
        assert slack.count(AuditEvent, AuditEvent.action == "command", AuditEvent.outcome == "ok") == 2
        add = slack.slash('action add "One more" --pillar detect')
        slack.send(add, timestamp=now)
        slack.settled(add["response_url"])
    finally:
        event.remove(slack.rt.engine, "before_cursor_execute", watch)
    # The change: its signature claimed by the middleware, its invocation claimed with the change.
    assert len(inserts) == 2
    with slack.rt.sessions() as s:
        keys = sorted(k.split(":", 1)[0] for k in s.scalars(select(SlackDelivery.key)))
    assert keys == ["once", "sig"]


def test_a_replayed_click_changes_nothing_and_a_different_click_still_works(slack: Slack) -> None:
    add = slack.slash('action add "Deep dive" --pillar divert')
    slack.send(add, timestamp=int(time.time()))
    slack.settled(add["response_url"])
    n = next(_seq)
    body = {
        "type": "block_actions",
        "team": {"id": slack.fake.team_id, "domain": "x"},
        "user": {"id": OWNER, "team_id": slack.fake.team_id, "username": "owner"},
        "api_app_id": "A0MOBOT01",
        "token": "unused",
        "trigger_id": f"{n}.{n * 7}.{n:032x}",
        "container": {"type": "message", "message_ts": "1.1", "channel_id": CHANNEL, "is_ephemeral": True},
        "channel": {"id": CHANNEL, "name": "x"},
        "message": {"ts": "1.1", "text": "x", "blocks": []},
        "response_url": slack.fake.new_response_url(),
        "actions": [{"type": "button", "action_id": "mo_act_snooze", "block_id": "b", "action_ts": "1",
                     "value": "snooze|suffolk|A-1|1"}],
    }  # fmt: skip
    form = {"payload": json.dumps(body)}
    now = int(time.time())
    slack.send(form, timestamp=now, times=3)
    slack.send(form, timestamp=now - 1)  # signed afresh: the click's trigger_id was claimed with the snooze
    told = slack.settled(body["response_url"])
    assert len(told) == 1 and "already carried out" in json.dumps(told[0])
    with slack.rt.sessions() as s:
        clicks = select(func.count()).select_from(SlackDelivery).where(SlackDelivery.key.startswith("once:click:"))
        snoozes = s.scalar(clicks)
        audited = s.scalars(select(AuditEvent.outcome).where(AuditEvent.detail.startswith("snooze"))).all()
    assert snoozes == 1 and sorted(audited) == ["ok", "refused"]
    assert len(slack.replays_audited()) == 2
    # Another click (a new trigger_id) is a new request.
    body["trigger_id"] = f"{n}.{n * 11}.{n + 1:032x}"
    assert post_signed(slack.url, {"payload": json.dumps(body)}).status == 200
    with slack.rt.sessions() as s:
        audited = s.scalars(select(AuditEvent.outcome).where(AuditEvent.detail.startswith("snooze"))).all()
    assert sorted(audited) == ["ok", "ok", "refused"]


def test_a_body_differing_in_one_byte_is_not_a_replay(slack: Slack) -> None:
    form = slack.slash('action add "First" --pillar divert')
    now = int(time.time())
    slack.send(form, timestamp=now)
    other = {**form, "text": 'action add "Second" --pillar divert', "trigger_id": form["trigger_id"] + "x"}
    assert urlencode(other) != urlencode(form)
    slack.send(other, timestamp=now)
    slack.settled(form["response_url"])
    slack.settled(other["response_url"])
    assert slack.count(Action) == 2
    assert slack.replays_audited() == []
