"""The action log end to end, as Slack drives it: signed slash commands, ``block_actions``, ``view_submission``
and ``shortcut`` payloads over real HTTP into the WSGI app; the bot's Web API calls land on the fake Slack.
Asserts the calls made (views.open, chat.update, thread replies, views.publish, DMs, file uploads) and the stored
history. Runs on SQLite and PostgreSQL (MO_TEST_DATABASE_URL)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from docx import Document
from slack_bolt import App
from sqlalchemy import select

from bot.action_log import service
from bot.action_log.export import export_rows
from bot.action_log.types import PILLARS, ActionChange, Actor, NewAction
from bot.config import Force
from bot.importing.service import import_file
from bot.importing.types import ImportRequest
from bot.models import Action, ActionHistory, ActionMessage, AuditEvent
from bot.runtime import Runtime
from bot.slack.client import make_client
from commands.web import WebApp, database_check
from jobs.reminders import send_reminders
from tests.support import fakeslack
from tests.support.bolt import app_for
from tests.support.fakeslack import FakeSlack
from tests.support.paths import REPO_ROOT
from tests.support.slackutil import LocalServer, blocks_text, post_signed, slash_command

fake_slack = fakeslack.fake_slack

CHANNEL = "C0MOACTS1"
OWNER = "U0OWNER01"
OTHER = "U0OTHER02"
CHAIR = "U0CHAIR03"
SEED = REPO_ROOT / "bot" / "data" / "actions-2022-07.csv"
_seq = itertools.count(1)


@dataclass
class Bot:
    rt: Runtime
    app: App
    fake: FakeSlack
    url: str

    @property
    def force(self) -> Force:
        return self.rt.config.force("suffolk")

    # --- what Slack sends -------------------------------------------------------------------------------------------
    def command(self, text: str, *, user: str = OWNER, channel: str = CHANNEL) -> tuple[dict[str, Any], str]:
        response_url = self.fake.new_response_url()
        form = slash_command(
            text, user_id=user, team_id=self.fake.team_id, channel_id=channel, response_url=response_url
        )
        r = post_signed(self.url, form)
        assert r.status == 200, r.text
        return (r.json() if r.body else {}), response_url

    def _base(self, kind: str, user: str) -> dict[str, Any]:
        n = next(_seq)
        return {
            "type": kind,
            "token": "unused",
            "api_app_id": "A0MOBOT01",
            "team": {"id": self.fake.team_id, "domain": "fake"},
            "user": {"id": user, "team_id": self.fake.team_id, "username": "someone"},
            "trigger_id": f"{n}.{n * 3}.{n:032x}",
        }

    def click(
        self,
        value: str,
        *,
        user: str = OWNER,
        message: dict[str, Any] | None = None,
        channel: str = CHANNEL,
        ephemeral: bool = False,
        action_id: str = "mo_act_menu_0",
        overflow: bool = True,
        home: bool = False,
    ) -> str | None:
        """A block_actions payload: an overflow choice or a button press on ``message`` (or in App Home)."""
        body = self._base("block_actions", user)
        act: dict[str, Any] = {"action_id": action_id, "block_id": "b", "action_ts": "1.2"}
        if overflow:
            act |= {
                "type": "overflow",
                "selected_option": {"text": {"type": "plain_text", "text": "x"}, "value": value},
            }
        else:
            act |= {"type": "button", "value": value, "text": {"type": "plain_text", "text": "x"}}
        body["actions"] = [act]
        response_url = None
        if home:
            body["container"] = {"type": "view", "view_id": "VHOME"}
            body["view"] = {"id": "VHOME", "type": "home", "blocks": [], "state": {"values": {}}}
        else:
            msg = message or {"ts": "1700000000.000100", "text": "x", "blocks": []}
            response_url = self.fake.new_response_url()
            body["container"] = {
                "type": "message",
                "message_ts": msg["ts"],
                "channel_id": channel,
                "is_ephemeral": ephemeral,
            }
            body["channel"] = {"id": channel, "name": "x"}
            body["message"] = msg
            body["response_url"] = response_url
        r = post_signed(self.url, {"payload": json.dumps(body)})
        assert r.status == 200, r.text
        return response_url

    def submit(self, view: dict[str, Any], values: dict[str, Any], *, user: str = OWNER) -> dict[str, Any]:
        """A view_submission of ``view`` (as views.open received it) with ``values`` by input block id."""
        state: dict[str, Any] = {}
        for block in view["blocks"]:
            if block.get("type") != "input":
                continue
            bid, el = block["block_id"], block["element"]
            aid, kind = el["action_id"], el["type"]
            v = values.get(bid, _initial(el))
            if kind == "plain_text_input":
                state[bid] = {aid: {"type": kind, "value": v}}
            elif kind == "static_select":
                state[bid] = {aid: {"type": kind, "selected_option": {"value": v} if v else None}}
            elif kind == "users_select":
                state[bid] = {aid: {"type": kind, "selected_user": v}}
            elif kind == "datepicker":
                state[bid] = {aid: {"type": kind, "selected_date": v}}
        body = self._base("view_submission", user)
        body["view"] = {
            "id": f"V{next(_seq):08d}",
            "team_id": self.fake.team_id,
            "type": view["type"],
            "callback_id": view["callback_id"],
            "private_metadata": view.get("private_metadata", ""),
            "blocks": view["blocks"],
            "state": {"values": state},
            "hash": "h1",
        }
        r = post_signed(self.url, {"payload": json.dumps(body)})
        assert r.status == 200, r.text
        return r.json() if r.body else {}

    def shortcut(self, message: dict[str, Any], *, user: str = OWNER, channel: str = CHANNEL) -> None:
        body = self._base("message_action", user)
        body |= {
            "callback_id": "turn_into_action",
            "channel": {"id": channel, "name": "managing-offenders"},
            "message": message,
            "message_ts": message["ts"],
            "response_url": self.fake.new_response_url(),
        }
        r = post_signed(self.url, {"payload": json.dumps(body)})
        assert r.status == 200, r.text

    def home_opened(self, user: str) -> None:
        event = {
            "token": "x",
            "team_id": self.fake.team_id,
            "api_app_id": "A0MOBOT01",
            "type": "event_callback",
            "event_id": f"Ev{next(_seq):08d}",
            "event_time": 1,
            "event": {"type": "app_home_opened", "user": user, "channel": "D" + user[1:], "tab": "home"},
        }
        assert post_signed(self.url, json_body=event).status == 200

    # --- what the bot did -------------------------------------------------------------------------------------------
    def last_view(self) -> dict[str, Any]:
        assert self.fake.wait_for(lambda f: bool(f.calls_to("views.open")))
        return self.fake.calls_to("views.open")[-1].params["view"]

    def wait(self, method: str, n: int = 1) -> list[Any]:
        assert self.fake.wait_for(lambda f: len(f.calls_to(method)) >= n), (method, self.fake.methods())
        return self.fake.calls_to(method)

    def action(self, ref: str) -> Action:
        with self.rt.sessions() as s:
            return s.scalars(select(Action).where(Action.force == "suffolk", Action.reference == ref)).one()

    def history(self, ref: str) -> list[ActionHistory]:
        with self.rt.sessions() as s:
            return list(
                s.scalars(
                    select(ActionHistory)
                    .join(Action)
                    .where(Action.force == "suffolk", Action.reference == ref)
                    .order_by(ActionHistory.id)
                )
            )

    def create(self, title: str = "Deep dive into OOCD breaches", owner: str | None = OWNER, **kw: Any) -> str:
        with self.rt.sessions() as s:
            # The owner is a member of Suffolk's workspace (as users.info would say).
            teams = (self.fake.team_id,) if owner else ()
            new = NewAction(title, kw.pop("pillar", "divert"), owner, owner_teams=teams, **kw)
            res = service.create_action(s, self.force, Actor(CHAIR, "admin"), new, self.rt.clock)
            s.commit()
        assert res.ok, res.refusal
        return res.action.reference


def _mrkdwn_and_text(node: Any, key: str = "") -> Iterator[str]:
    """Every string Slack parses for mentions: mrkdwn text objects and messages' ``text`` fallbacks."""
    if isinstance(node, dict):
        if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
            yield node["text"]
        for k, v in node.items():
            if k == "text" and isinstance(v, str) and node.get("type") != "plain_text":
                yield v
            yield from _mrkdwn_and_text(v, k)
    elif isinstance(node, list):
        for v in node:
            yield from _mrkdwn_and_text(v, key)


def _initial(el: dict[str, Any]) -> Any:
    if el["type"] == "static_select":
        return (el.get("initial_option") or {}).get("value")
    if el["type"] == "users_select":
        return el.get("initial_user")
    if el["type"] == "datepicker":
        return el.get("initial_date")
    return el.get("initial_value")


@pytest.fixture
def bot(runtime: Runtime, fake_slack: FakeSlack) -> Iterator[Bot]:
    cfg = runtime.config
    suffolk = replace(cfg.force("suffolk"), slack_team_ids=(fake_slack.team_id,), owners={"JM": OTHER, "JG": OWNER})
    slack = replace(cfg.slack, channels=(CHANNEL,), roles={"admin": (CHAIR,)})
    cfg = replace(cfg, forces={**cfg.forces, "suffolk": suffolk}, slack=slack)
    rt = Runtime(config=cfg, engine=runtime.engine, sessions=runtime.sessions, clock=runtime.clock)
    fake_slack.add_channel(CHANNEL)
    for u in (OWNER, OTHER, CHAIR):
        fake_slack.users[u] = {"name": u.lower()}
    app = app_for(rt, fake_slack)
    with LocalServer(WebApp(app, [database_check(rt.engine)], mode="http")) as srv:
        yield Bot(rt, app, fake_slack, srv.url + "/slack/events")


def _post_card(bot: Bot, ref: str) -> str:
    """`/mo action A-n --post`: the card the bot keeps in step; returns its ts."""
    bot.command(f"action {ref} --post", user=CHAIR)
    posts = bot.wait("chat.postMessage")
    card = next(c for c in posts if f"card:{ref}" in json.dumps(c.params.get("blocks")))
    return card.response["ts"]


# ------------------------------------------------------------------------------------------------ slash commands
def test_seed_log_imported_and_listed_by_pillar_with_pages(bot: Bot) -> None:
    with bot.rt.sessions() as s:
        report = import_file(s, bot.rt.config, ImportRequest("actions", SEED, force="suffolk"), bot.rt.clock.now())
        s.commit()
    assert report.ok and report.added > 40
    with bot.rt.sessions() as s:
        # HMIC recommendations are listed apart (`/mo hmic`), never among the open actions.
        live = s.scalars(
            select(Action).where(
                Action.force == "suffolk", Action.kind == "action", Action.status.in_(("open", "ongoing", "held"))
            )
        ).all()
    body, _ = bot.command("actions")
    blocks = body["blocks"]
    assert len(blocks) <= 50
    shown = blocks_text(blocks)
    # Pillar headings in the strategy's order, each before its own items.
    headings = [PILLARS[p] for p in PILLARS if any(a.pillar == p for a in live)]
    positions = [shown.index(f"*{h.replace('&', '&amp;')}*") for h in headings[:2]]
    assert positions == sorted(positions)
    pages_block = next(b for b in blocks if b.get("block_id") == "pages")
    next_value = pages_block["elements"][-1]["value"]
    seen = {b["block_id"][4:] for b in blocks if b.get("block_id", "").startswith("act:")}
    all_text = [shown]
    # Walk the pages with the Next button, as a person would.
    for _ in range(10):
        url = bot.click(next_value, action_id="mo_act_page_next", overflow=False, ephemeral=True)
        assert bot.fake.wait_for(lambda f, u=url: bool(f.posts_to(u)))
        page = bot.fake.posts_to(url)[-1].payload
        assert page["replace_original"] is True and len(page["blocks"]) <= 50
        seen |= {b["block_id"][4:] for b in page["blocks"] if b.get("block_id", "").startswith("act:")}
        all_text.append(blocks_text(page["blocks"]))
        nxt = [b for b in page["blocks"] if b.get("block_id") == "pages"]
        buttons = [e for e in nxt[0]["elements"] if e["action_id"] == "mo_act_page_next"] if nxt else []
        if not buttons:
            break
        next_value = buttons[0]["value"]
    assert seen == {a.reference for a in live}
    # Unmapped owners show as their initials; JM is mapped to a Slack user.
    everything = "\n".join(all_text)
    assert "HH _(not on Slack yet)_" in everything
    assert f"<@{OTHER}>" in everything
    assert "Page 2 of" in everything
    pages = int(re.search(r"Page 1 of (\d+)", shown)[1])  # type: ignore[index]
    # A page after the last is said to be one, not the last page shown under its number.
    past, _ = bot.command(f"actions --page {pages + 1}")
    assert f"`--page {pages + 1}`: there are {pages} pages of these" in blocks_text(past["blocks"])
    # The footer counts the kind listed.
    hmic, _ = bot.command("hmic")
    assert re.search(r"Page 1 of \d+ · \d+ HMIC recommendations", blocks_text(hmic["blocks"]))
    # Achievements: every status but cancelled (A-27, a duplicate struck out of the log, is no achievement).
    with bot.rt.sessions() as s:
        a27 = s.scalars(select(Action).where(Action.reference == "A-27")).one()
        assert (a27.kind, a27.status) == ("achievement", "cancelled")
    achieved, _ = bot.command("actions --kind achievement")
    pages = int(re.search(r"Page 1 of (\d+)", blocks_text(achieved["blocks"]))[1])  # type: ignore[index]
    listed = "\n".join(blocks_text(bot.command(f"actions --kind achievement --page {p}")[0]["blocks"])
                       for p in range(1, pages + 1))  # fmt: skip
    assert "*A-27*" not in listed and "*A-20*" in listed
    cancelled, _ = bot.command("actions --kind achievement --status cancelled")
    assert "*A-27*" in blocks_text(cancelled["blocks"])
    # Initials nobody in the log has: said so, with those it has, not "No actions match".
    nobody, _ = bot.command("actions --owner XX")
    said = blocks_text(nobody["blocks"])
    assert "`--owner XX`: nobody of that name owns an item in the log" in said
    assert "owners: AW, DB, DH, HH, JG, JM, MJ, SW" in said
    # Initials in the log with nothing live of the kind asked: the list says so, as before.
    held, _ = bot.command("actions --owner DH --status complete --kind hmic")
    assert "nobody of that name" not in blocks_text(held["blocks"])


def test_add_inline_posts_a_card_and_escapes_mrkdwn(bot: Bot) -> None:
    # Typed literally, Slack sends < > & as entities; the parser turns them back into the characters.
    body, url = bot.command(
        'action add "&lt;!channel&gt; ping &amp; &lt;@U0EVIL&gt; now" --pillar deliver --due 2026-12-31'
    )
    assert body == {}  # a change is acked at once, showing nothing, and answered through response_url
    assert bot.fake.wait_for(lambda f: bool(f.posts_to(url)))
    reply = bot.fake.posts_to(url)[-1].payload
    a = bot.action("A-1")
    assert (a.title, a.owner_user_id, a.due_on, a.created_by) == (
        "<!channel> ping & <@U0EVIL> now", OWNER, dt.date(2026, 12, 31), OWNER,
    )  # fmt: skip
    card = bot.wait("chat.postMessage")[0]
    assert card.params["channel"] == CHANNEL
    # Slack reads mentions in mrkdwn and in a message's text; plain_text (headers) is shown as typed.
    everything = "\n".join(_mrkdwn_and_text([reply, card.params, [c.params for c in bot.fake.calls]]))
    assert "&lt;!channel&gt;" in everything
    assert "<!channel>" not in everything and "<@U0EVIL>" not in everything
    assert "&lt;!channel&gt; ping &amp; &lt;@U0EVIL&gt; now" in blocks_text(card.params["blocks"])
    with bot.rt.sessions() as s:
        tracked = s.scalars(select(ActionMessage)).all()
    assert [(m.channel_id, m.ts) for m in tracked] == [(CHANNEL, card.response["ts"])]
    assert bot.wait("views.publish")[-1].params["user_id"] == OWNER


def test_show_and_change_by_command_updates_the_card_in_place(bot: Bot) -> None:
    ref = bot.create()
    ts = _post_card(bot, ref)
    bot.fake.reset()
    body, url = bot.command(f'action {ref} --status complete --note "Report to October meeting"')
    updates = bot.wait("chat.update")
    assert (updates[0].params["channel"], updates[0].params["ts"]) == (CHANNEL, ts)
    assert ":white_check_mark: complete" in blocks_text(updates[0].params["blocks"])
    thread = [c for c in bot.wait("chat.postMessage") if c.params.get("thread_ts") == ts]
    assert len(thread) == 1 and "status open → complete" in thread[0].params["text"]
    assert "Report to October meeting" in thread[0].params["text"]
    assert bot.fake.wait_for(lambda f: bool(f.posts_to(url)))
    h = bot.history(ref)
    assert [(x.field, x.old_value, x.new_value, x.changed_by, x.note) for x in h if x.field == "status"] == [
        ("status", "open", "complete", OWNER, "Report to October meeting")
    ]
    assert bot.action(ref).completed_on == bot.rt.clock.now().date()
    # /mo action shows the item with its history
    body, _ = bot.command(f"action {ref}", user=OTHER)
    shown = blocks_text(body["blocks"])
    assert "History" in shown and "status open → complete" in shown and "Report to October meeting" in shown
    # A refused transition: complete → held is not allowed, even for the chair, and says why.
    body, url = bot.command(f'action {ref} --status held --note "x"', user=CHAIR)
    assert bot.fake.wait_for(lambda f: bool(f.posts_to(url)))
    refused = bot.fake.posts_to(url)[-1].payload
    assert "can't be set to held" in blocks_text(refused["blocks"])
    assert bot.action(ref).status == "complete"


def test_achievements_lists_completed_by_pillar(bot: Bot) -> None:
    a = bot.create("Cautions victim views", pillar="detect")
    bot.create("Still open", pillar="detect")
    with bot.rt.sessions() as s:
        service.change_action(s, bot.force, Actor(OWNER), ActionChange(a, 1, status="complete"), bot.rt.clock)
        s.commit()
    body, _ = bot.command("achievements --since 2026-11-01")
    shown = blocks_text(body["blocks"])
    assert "Cautions victim views" in shown and "Still open" not in shown
    assert "*Detect Crime &amp; Create Confidence*" in shown


# ------------------------------------------------------------------------------------------------ buttons and menus
def test_overflow_status_change_from_a_list(bot: Bot) -> None:
    ref = bot.create()
    ts = _post_card(bot, ref)
    body, _ = bot.command("actions --owner me")
    item = next(b for b in body["blocks"] if b.get("block_id") == f"act:{ref}")
    values = [o["value"] for o in item["accessory"]["options"]]
    assert f"status:ongoing|suffolk|{ref}|1" in values
    bot.fake.reset()
    message = {"ts": "1.1", "text": body["text"], "blocks": body["blocks"]}
    url = bot.click(f"status:ongoing|suffolk|{ref}|1", message=message, ephemeral=True)
    assert bot.fake.wait_for(lambda f: bool(f.posts_to(url)))
    redrawn = bot.fake.posts_to(url)[-1].payload
    new_item = next(b for b in redrawn["blocks"] if b.get("block_id") == f"act:{ref}")
    assert ":large_blue_circle: ongoing" in new_item["text"]["text"]
    assert any(o["value"] == f"status:complete|suffolk|{ref}|2" for o in new_item["accessory"]["options"])
    assert bot.wait("chat.update")[0].params["ts"] == ts
    assert bot.wait("views.publish")[0].params["user_id"] == OWNER
    assert [(h.field, h.old_value, h.new_value, h.version) for h in bot.history(ref)][-1] == (
        "status", "open", "ongoing", 2
    )  # fmt: skip


def test_held_needs_a_note_in_the_modal(bot: Bot) -> None:
    ref = bot.create()
    bot.click(f"status:held|suffolk|{ref}|1")
    view = bot.last_view()
    assert view["callback_id"] == "mo_action_note" and json.loads(view["private_metadata"])["status"] == "held"
    # The edit modal lets a person choose held with no note: answered inline, nothing stored.
    bot.fake.reset()
    bot.click(f"edit|suffolk|{ref}|1")
    edit = bot.last_view()
    resp = bot.submit(edit, {"status": "held", "note": None})
    assert resp["response_action"] == "errors"
    assert "needs a note" in resp["errors"]["note"]
    assert bot.action(ref).status == "open"
    # With the note, through the note modal.
    resp = bot.submit(view, {"note": "awaiting MOJ EMS data"})
    assert resp.get("response_action") is None  # the modal closes
    assert bot.action(ref).status == "held"
    assert bot.history(ref)[-1].note == "awaiting MOJ EMS data"


def test_bad_due_date_in_the_add_modal(bot: Bot) -> None:
    bot.command("action add")
    view = bot.last_view()
    assert view["callback_id"] == "mo_action_add" and view["type"] == "modal"
    resp = bot.submit(view, {"title": "New thing", "pillar": "deliver", "due_on": "2020-01-31"})
    assert resp["response_action"] == "errors" and "already passed" in resp["errors"]["due_on"]
    resp = bot.submit(view, {"title": "New thing", "pillar": "deliver", "due_on": "2026-13-45"})
    assert resp["response_action"] == "errors" and "not a date" in resp["errors"]["due_on"]
    with bot.rt.sessions() as s:
        assert s.scalars(select(Action)).all() == []
    resp = bot.submit(view, {"title": "New thing", "pillar": "deliver", "due_on": "2027-01-31"})
    assert resp.get("response_action") is None
    a = bot.action("A-1")
    assert (a.title, a.pillar, a.due_on, a.owner_user_id) == ("New thing", "deliver", dt.date(2027, 1, 31), OWNER)
    # Added from the channel: the card is posted there and tracked.
    assert bot.wait("chat.postMessage")[0].params["channel"] == CHANNEL


def test_two_concurrent_edits(bot: Bot) -> None:
    ref = bot.create()
    bot.click(f"edit|suffolk|{ref}|1", user=OWNER)
    owners_form = bot.last_view()
    bot.fake.reset()
    bot.click(f"edit|suffolk|{ref}|1", user=CHAIR)
    chairs_form = bot.last_view()
    assert (
        bot.submit(owners_form, {"title": "Owner's title", "note": "renamed"}, user=OWNER).get("response_action")
        is None
    )
    resp = bot.submit(chairs_form, {"due_on": "2027-03-31"}, user=CHAIR)
    assert resp["response_action"] == "update"
    shown = blocks_text(resp["view"]["blocks"])
    assert "was changed by" in shown and OWNER in shown and "Changed since you looked" in shown
    assert "Owner's title" in shown
    a = bot.action(ref)
    assert (a.title, a.due_on, a.version) == ("Owner's title", None, 2)
    assert [h.changed_by for h in bot.history(ref)] == [CHAIR, OWNER]


def test_non_owner_is_refused_with_the_reason(bot: Bot) -> None:
    ref = bot.create()
    url = bot.click(f"status:complete|suffolk|{ref}|1", user=OTHER, ephemeral=True)
    assert bot.fake.wait_for(lambda f: bool(f.posts_to(url)))
    reply = bot.fake.posts_to(url)[-1].payload
    assert reply["response_type"] == "ephemeral" and reply["replace_original"] is False
    assert "only A-1's owner or an admin" in blocks_text(reply["blocks"])
    assert bot.action(ref).status == "open"
    with bot.rt.sessions() as s:
        refused = s.scalars(select(AuditEvent).where(AuditEvent.actor == OTHER, AuditEvent.outcome == "refused")).all()
    assert len(refused) == 1 and "not_allowed" in refused[0].detail
    # The chair may.
    bot.click(f"status:complete|suffolk|{ref}|1", user=CHAIR)
    assert bot.fake.wait_for(lambda f: bool(f.calls_to("views.publish")))
    assert bot.action(ref).status == "complete"


def test_owner_without_slack_mapping(bot: Bot) -> None:
    hh = bot.create("Secure data on RUI length", owner=None, owner_initials="HH")
    jm = bot.create("60 second brief on EM", owner=None, owner_initials="JM")  # JM → OTHER in the config
    body, _ = bot.command("actions")
    shown = blocks_text(body["blocks"])
    assert "HH _(not on Slack yet)_" in shown and f"<@{OTHER}>" in shown
    url = bot.click(f"status:ongoing|suffolk|{hh}|1", user=OWNER, ephemeral=True)
    assert bot.fake.wait_for(lambda f: bool(f.posts_to(url)))
    assert "HH, who has no Slack user mapped yet" in blocks_text(bot.fake.posts_to(url)[-1].payload["blocks"])
    assert bot.action(hh).status == "open"
    bot.click(f"status:ongoing|suffolk|{jm}|1", user=OTHER)
    assert bot.fake.wait_for(lambda f: bool(f.calls_to("views.publish")))
    assert bot.action(jm).status == "ongoing"


def test_turn_into_action_shortcut(bot: Bot) -> None:
    original = {
        "type": "message",
        "user": OTHER,
        "ts": "1763900000.000200",
        "text": "Can we get <!here> RUI data by district?\nthanks",
    }
    bot.fake.messages[(CHANNEL, original["ts"])] = original
    # Slack slow to give the message's link: the form opens first (its trigger_id lasts 3 s), the link follows.
    bot.fake.delay_next("chat.getPermalink", seconds=4)
    bot.shortcut(original)
    opened = bot.last_view()
    first = {b["block_id"]: b["element"] for b in opened["blocks"] if b["type"] == "input"}
    assert first["title"]["initial_value"] == "Can we get @here RUI data by district?"
    assert not first["source"].get("initial_value")
    [opening] = bot.fake.calls_to("views.open", include_failed=True)
    assert opening.ok, opening.response
    [update] = bot.wait("views.update")
    view = update.params["view"]
    assert update.params["view_id"] and update.params["hash"]
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert inputs["title"]["initial_value"] == "Can we get @here RUI data by district?"
    link = inputs["source"]["initial_value"]
    assert link.startswith("https://") and original["ts"].replace(".", "") in link
    bot.submit(view, {"pillar": "demonstrate"})
    a = bot.action("A-1")
    assert (a.title, a.source, a.pillar, a.created_by) == (
        "Can we get @here RUI data by district?", link, "demonstrate", OWNER
    )  # fmt: skip
    card = bot.wait("chat.postMessage")[0]
    assert card.params["channel"] == CHANNEL and card.params["thread_ts"] == original["ts"]
    assert "the Slack message" in blocks_text(card.params["blocks"])


def test_app_home_my_actions_overdue_first_and_overview(bot: Bot) -> None:
    later = bot.create("Later", due_on=dt.date(2026, 12, 20))
    soon = bot.create("Soon", due_on=dt.date(2026, 11, 24))
    bot.create("Someone else's", owner=OTHER)
    bot.rt.clock.advance(dt.timedelta(days=2))  # "Soon" is now overdue
    bot.home_opened(OWNER)
    view = bot.wait("views.publish")[0].params["view"]
    assert view["type"] == "home"
    items = [b["block_id"][4:] for b in view["blocks"] if b.get("block_id", "").startswith("act:")]
    assert items == [soon, later]
    shown = blocks_text(view["blocks"])
    assert ":warning: *overdue* 1 day" in shown
    assert "*Divert &amp; Deter*\n:white_circle: open 3 · :warning: 1 overdue" in shown
    # A change from App Home refreshes it.
    bot.fake.reset()
    bot.click(f"status:complete|suffolk|{soon}|1", home=True)
    view = bot.wait("views.publish")[0].params["view"]
    assert [b["block_id"][4:] for b in view["blocks"] if b.get("block_id", "").startswith("act:")] == [later]


# ---------------------------------------------------------------------------------------- reminders, digest, export
def test_reminders_dm_once_a_week_with_controls(bot: Bot) -> None:
    overdue = bot.create("Overdue one", due_on=dt.date(2026, 11, 25))
    soon = bot.create("Due soon", due_on=dt.date(2026, 12, 1))
    bot.create("Far off", due_on=dt.date(2027, 6, 1))
    bot.rt.clock.advance(dt.timedelta(days=3))
    run = send_reminders(bot.rt, make_client(bot.fake.token, bot.fake.base_url))
    assert (run.dms_sent, run.actions_listed) == (1, 2)
    assert bot.fake.calls_to("conversations.open")[0].params["users"] == OWNER
    dm = bot.fake.calls_to("chat.postMessage")[0]
    assert dm.params["channel"].startswith("D")
    refs = [b["block_id"][4:] for b in dm.params["blocks"] if b.get("block_id", "").startswith("act:")]
    assert refs == [overdue, soon]
    labels = [e["text"]["text"] for b in dm.params["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert labels[:3] == ["Done", "Update", "Remind me next week"]
    # Not repeated within the week.
    bot.rt.clock.advance(dt.timedelta(days=3))
    again = send_reminders(bot.rt, make_client(bot.fake.token, bot.fake.base_url))
    assert again.dms_sent == 0 and len(bot.fake.calls_to("chat.postMessage")) == 1
    # Done, from the DM: completed and the DM redrawn in place.
    msg = {"ts": dm.response["ts"], "text": dm.params["text"], "blocks": dm.params["blocks"]}
    bot.click(f"status:complete|suffolk|{overdue}|1", message=msg, channel=dm.params["channel"], overflow=False,
              action_id="mo_act_done")  # fmt: skip
    upd = bot.wait("chat.update")[0]
    assert upd.params["ts"] == dm.response["ts"] and f"{overdue} is complete" in blocks_text(upd.params["blocks"])
    assert bot.action(overdue).status == "complete"
    # Remind me next week: the next weekly run skips it.
    bot.click(
        f"snooze|suffolk|{soon}|1", message=msg, channel=dm.params["channel"], overflow=False, action_id="mo_act_snooze"
    )
    assert bot.fake.wait_for(lambda f: len(f.calls_to("chat.update")) >= 2)
    bot.rt.clock.advance(dt.timedelta(days=2))  # 8 days after the first DM, 2 after the snooze
    third = send_reminders(bot.rt, make_client(bot.fake.token, bot.fake.base_url))
    assert third.dms_sent == 0
    bot.rt.clock.advance(dt.timedelta(days=6))
    fourth = send_reminders(bot.rt, make_client(bot.fake.token, bot.fake.base_url))
    assert (fourth.dms_sent, fourth.actions_listed) == (1, 1)


def test_overdue_digest_is_for_the_chair(bot: Bot) -> None:
    a = bot.create("Late thing", due_on=dt.date(2026, 11, 24))
    bot.create("Not late", due_on=dt.date(2027, 1, 1))
    bot.rt.clock.advance(dt.timedelta(days=3))
    body, _ = bot.command("actions --overdue --share", user=OWNER)
    assert "`--share` is for admins" in blocks_text(body["blocks"])
    body, _ = bot.command("actions --overdue --share", user=CHAIR)
    assert body["response_type"] == "in_channel"
    shown = blocks_text(body["blocks"])
    assert "Overdue actions — 1" in shown and a in shown and "Not late" not in shown
    assert not any(b["type"] == "actions" or b.get("accessory") for b in body["blocks"])


def test_export_is_sent_by_dm(bot: Bot) -> None:
    bot.create("First", pillar="detect")
    bot.create("Second", pillar="deliver")
    _, url = bot.command("actions --export --format csv")
    assert bot.fake.wait_for(lambda f: bool(f.posts_to(url)))
    done = bot.wait("files.completeUploadExternal")[0]
    assert done.params["channel_id"].startswith("D")
    fid = done.params["files"][0]["id"]
    rows = list(csv.reader(io.StringIO(bot.fake.uploads[fid].decode("utf-8-sig"))))
    assert rows[0][:3] == ["Pillar", "Ref", "Action"]
    assert [r[0] for r in rows[1:]] == ["Detect Crime & Create Confidence", "Deliver a Quality Service"]
    assert "by DM" in blocks_text(bot.fake.posts_to(url)[-1].payload["blocks"])


def test_edit_modal_changes_owner_and_due_and_refreshes_both_homes(bot: Bot) -> None:
    ref = bot.create(due_on=dt.date(2026, 12, 1))
    bot.click(f"edit|suffolk|{ref}|1")
    form = bot.last_view()
    assert form["callback_id"] == "mo_action_edit" and json.loads(form["private_metadata"])["version"] == 1
    bot.fake.reset()
    resp = bot.submit(form, {"owner": OTHER, "due_on": "2027-02-28", "note": "handed over"})
    assert resp.get("response_action") is None
    rows = {h.field: (h.old_value, h.new_value, h.note) for h in bot.history(ref) if h.version == 2}
    assert rows == {
        "owner": ("JG", "JM", "handed over"),  # named as the log names them: OWNER is JG and OTHER JM here
        "due_on": ("2026-12-01", "2027-02-28", "handed over"),
    }
    homes = {c.params["user_id"] for c in bot.wait("views.publish", 2)}
    assert homes == {OWNER, OTHER}
    # The form saved again unchanged (with the new version) just closes; nothing is written.
    bot.click(f"edit|suffolk|{ref}|2", user=OTHER)
    again = bot.last_view()
    assert bot.submit(again, {}, user=OTHER).get("response_action") is None
    assert bot.action(ref).version == 2


def test_a_workspace_not_set_up_cannot_read_or_change(bot: Bot) -> None:
    ref = bot.create()
    body = bot._base("block_actions", OWNER)
    body["team"] = {"id": "T0STRANGER"}
    body["user"]["team_id"] = "T0STRANGER"
    url = bot.fake.new_response_url()
    body |= {
        "container": {"type": "message", "message_ts": "1.1", "channel_id": CHANNEL, "is_ephemeral": True},
        "channel": {"id": CHANNEL},
        "message": {"ts": "1.1", "text": "x", "blocks": []},
        "response_url": url,
        "actions": [
            {"type": "button", "action_id": "mo_act_done", "block_id": "b", "value": f"status:complete|suffolk|{ref}|1"}
        ],
    }
    assert post_signed(bot.url, {"payload": json.dumps(body)}).status == 200
    assert bot.fake.wait_for(lambda f: bool(f.posts_to(url)))
    assert "not set up for mo-bot" in blocks_text(bot.fake.posts_to(url)[-1].payload["blocks"])
    assert bot.action(ref).status == "open"
    with bot.rt.sessions() as s:
        ev = s.scalars(select(AuditEvent).where(AuditEvent.team_id == "T0STRANGER")).one()
    assert (ev.actor, ev.action, ev.outcome) == (OWNER, "interaction", "refused")


def test_a_long_reminder_fits_one_message_and_the_rest_follow(bot: Bot) -> None:
    refs = [bot.create(f"Item {i}", due_on=dt.date(2026, 11, 24)) for i in range(20)]
    bot.rt.clock.advance(dt.timedelta(days=2))
    client = make_client(bot.fake.token, bot.fake.base_url)
    first = send_reminders(bot.rt, client)
    assert (first.dms_sent, first.actions_listed) == (1, 15)
    dm = bot.fake.calls_to("chat.postMessage")[0].params
    assert len(dm["blocks"]) <= 50 and "…and 5 more" in blocks_text(dm["blocks"])
    listed = [b["block_id"][4:] for b in dm["blocks"] if b.get("block_id", "").startswith("act:")]
    assert listed == refs[:15]
    second = send_reminders(bot.rt, client)
    assert (second.dms_sent, second.actions_listed) == (1, 5)
    assert send_reminders(bot.rt, client).dms_sent == 0


# ------------------------------------------------------------------------ the log as the subgroup keeps it
def _import_seed(bot: Bot) -> None:
    with bot.rt.sessions() as s:
        request = ImportRequest("actions", SEED, force="suffolk", as_of=dt.date(2022, 7, 31))
        report = import_file(s, bot.rt.config, request, bot.rt.clock.now())
        s.commit()
    assert report.ok, report


def _answer(bot: Bot, text: str, user: str) -> str:
    """The text of the answer to `/mo <text>`: in the ack, or (deferred: an empty ack) posted to the response_url."""
    body, url = bot.command(text, user=user)
    if body:
        return blocks_text(body.get("blocks") or []) + body.get("text", "")
    assert bot.fake.wait_for(lambda f: bool(f.posts_to(url)))
    reply = bot.fake.posts_to(url)[-1].payload
    return blocks_text(reply.get("blocks") or []) + reply.get("text", "")


def _refs(body: dict[str, Any]) -> set[str]:
    return {b["block_id"][4:] for b in body["blocks"] if b.get("block_id", "").startswith("act:")}


def test_joint_owners_each_may_change_owner_filter_matches_either_and_both_are_reminded(bot: Bot) -> None:
    _import_seed(bot)  # A-6 is "(JM & JG) - HELD"; JM is OTHER and JG is OWNER in this workspace
    for who in ("JG", "JM"):
        body, _ = bot.command(f"actions --owner {who}", user=CHAIR)
        assert "A-6" in _refs(body), who
    body, _ = bot.command("actions --owner me", user=OWNER)
    assert _refs(body) == {"A-6"}
    assert f"<@{OTHER}> &amp; <@{OWNER}>" in blocks_text(body["blocks"])  # both owners shown
    # App Home: "My actions" of each owner lists it.
    for user in (OWNER, OTHER):
        bot.fake.reset()
        bot.home_opened(user)
        (home,) = bot.wait("views.publish")
        assert home.params["user_id"] == user and "act:A-6" in json.dumps(home.params["view"]), user
    # Either owner may change it; someone else may not.
    assert "Updated *A-6*" in _answer(bot, 'action A-6 --status ongoing --note "MOJ data in"', OWNER)
    assert "Updated *A-6*" in _answer(bot, 'action A-6 --note "process drafted"', OTHER)
    refused = _answer(bot, 'action A-6 --note "not mine"', "U0NOBODY9")
    assert "only A-6's owner or an admin" in refused
    assert [(h.field, h.changed_by) for h in bot.history("A-6")] == [("status", OWNER), ("note", OTHER)]
    # Both owners are reminded of it once it has a due date that passed.
    with bot.rt.sessions() as s:
        a6 = s.scalars(select(Action).where(Action.force == "suffolk", Action.reference == "A-6")).one()
        a6.due_on = bot.rt.clock.now().date() - dt.timedelta(days=2)
        s.commit()
    bot.fake.reset()
    run = send_reminders(bot.rt, make_client(bot.fake.token, bot.fake.base_url), [bot.force])
    dms = bot.fake.calls_to("chat.postMessage")
    assert run.dms_sent == 2 and len(dms) == 2
    assert all("A-6" in json.dumps(c.params["blocks"]) for c in dms)


def test_kinds_listed_apart_and_hmic_never_among_the_open_actions(bot: Bot) -> None:
    _import_seed(bot)
    body, _ = bot.command("actions --status all", user=CHAIR)
    everything = {a for a in _refs(body)}
    assert not everything & {f"A-{n}" for n in range(44, 57)}  # HMIC recommendations
    hmic, _ = bot.command("actions --kind hmic", user=CHAIR)
    hmic_cmd, _ = bot.command("hmic", user=CHAIR)
    open_hmic = {f"A-{n}" for n in range(44, 57)} - {"A-49", "A-52"}  # those two were closed by HMIC 2/22
    assert _refs(hmic) == _refs(hmic_cmd) == open_hmic
    achieved, _ = bot.command("achievements", user=CHAIR)
    shown = blocks_text(achieved["blocks"])
    # A-5's duplicate achievement (A-27) closed it: listed once, as A-5; HMIC closures are not achievements.
    assert "A-5" in shown and "A-27" not in shown and "A-49" not in shown
    assert bot.action("A-5").status == "complete" and bot.action("A-27").status == "cancelled"
    # Dates the achievements state in their text.
    assert bot.action("A-17").completed_on == dt.date(2021, 9, 13)  # "introduced on 13/9/21"
    assert bot.action("A-23").completed_on == dt.date(2021, 10, 1)  # "… Oct 21"
    assert bot.action("A-28").completed_on == dt.date(2021, 8, 1)  # "… Aug 2021"
    assert bot.action("A-49").completed_on == dt.date(2022, 2, 1)  # evidence "Closed by HMIC 2/22"


def test_on_dates_a_change_and_is_checked(bot: Bot) -> None:
    _import_seed(bot)
    today = bot.rt.clock.now().date()
    future = _answer(bot, f"action A-1 --status ongoing --on {today + dt.timedelta(days=2)}", CHAIR)
    assert "is in the future" in future
    before = _answer(bot, "action A-1 --status ongoing --on 2022-07-01", CHAIR)
    assert "before the action existed" in before and "2022-07-31" in before
    # A past due date without --on is refused; with --on (bringing the log up to date) it is kept, with a warning.
    refused = _answer(bot, "action A-1 --due 2023-01-31", CHAIR)
    assert "has already passed" in refused and bot.action("A-1").due_on is None
    done = _answer(bot, "action A-1 --status complete --due 2023-01-31 --on 2023-03-01", CHAIR)
    assert "dated 1 Mar 2023" in done and "has already passed" in done
    a1 = bot.action("A-1")
    assert (a1.status, a1.completed_on, a1.due_on) == ("complete", dt.date(2023, 3, 1), dt.date(2023, 1, 31))
    assert {h.effective_on for h in bot.history("A-1")} == {dt.date(2023, 3, 1)}


def test_recurring_actions_reopen_when_they_come_round(bot: Bot) -> None:
    _import_seed(bot)  # A-33 "Every 6 Months" and A-39 monthly audits, completed by the log of 31 Jul 2022
    send_reminders(bot.rt, make_client(bot.fake.token, bot.fake.base_url), [bot.force])
    a33, a39 = bot.action("A-33"), bot.action("A-39")
    # Today is 23 Nov 2026: each is due on the latest day it came round, not the first one years back (a monthly
    # audit due "31 Aug 2022" would read as overdue for four years).
    assert bot.rt.clock.now().date() == dt.date(2026, 11, 23)
    assert (a33.status, a33.due_on, a33.completed_on) == ("open", dt.date(2026, 7, 31), None)
    assert (a39.status, a39.due_on) == ("open", dt.date(2026, 10, 31))
    assert [(h.field, h.new_value, h.changed_by) for h in bot.history("A-33")] == [
        ("status", "open", "job:recurring"),
        ("due_on", "2026-07-31", "job:recurring"),
    ]
    assert bot.history("A-33")[0].note == (
        "recurs every 6 month(s): due again on 2026-07-31 (it first came round on 2023-01-31, since its completion "
        "on 2022-07-31)"
    )
    # Done again: it stays done until it comes round once more.
    done = _answer(bot, "action A-33 --status complete", CHAIR)
    assert "Updated *A-33* (completed, status)" in done and "completed_on" not in done  # field labels, not columns
    send_reminders(bot.rt, make_client(bot.fake.token, bot.fake.base_url), [bot.force])
    assert bot.action("A-33").status == "complete"


def test_paper_is_sent_by_dm_as_a_landscape_docx(bot: Bot) -> None:
    _import_seed(bot)
    _, url = bot.command("actions --paper", user=CHAIR)
    assert bot.fake.wait_for(lambda f: bool(f.posts_to(url)))
    done = bot.wait("files.completeUploadExternal")[0]
    assert done.params["channel_id"].startswith("D")
    doc = Document(io.BytesIO(bot.fake.uploads[done.params["files"][0]["id"]]))
    assert doc.sections[0].page_width > doc.sections[0].page_height
    assert "OFFICIAL" in doc.sections[0].header.paragraphs[0].text
    assert [p.text for p in doc.paragraphs if p.style.name == "Heading 1"][:3] == [
        "Actions",
        "Achievements",
        "HMIC Recommendations",
    ]
    said = blocks_text(bot.fake.posts_to(url)[-1].payload["blocks"])
    assert "by DM" in said and "13 HMIC Recommendations" in said
    assert "goes with `--paper`" in _answer(bot, "actions --export --format docx", CHAIR)


def test_a_co_owner_is_added_and_removed_from_slack_by_any_owner(bot: Bot) -> None:
    ref = bot.create("Review the IOM cohort", owner=OWNER)
    # Someone who is not an owner (nor an admin) may not add themselves.
    assert f"only {ref}'s owner or an admin" in _answer(bot, f"action {ref} --add-owner me", OTHER)
    assert bot.action(ref).version == 1
    # The owner adds OTHER: both are owners, each is found by --owner, and OTHER may now change it.
    said = _answer(bot, f"action {ref} --add-owner <@{OTHER}|other>", OWNER)
    assert f"Updated *{ref}* (owner)" in said
    with bot.rt.sessions() as s:
        owners = [o.user_id for o in s.scalars(select(Action).where(Action.reference == ref)).one().owners]
    assert owners == [OWNER, OTHER]
    # Found by their Slack users and by the initials the force maps to them (JG is OWNER, JM is OTHER): an owner
    # added by a mention is one the log's initials name, in the filters and on the export.
    for who in (f"<@{OWNER}|x>", f"<@{OTHER}|x>", "JG", "JM"):
        body, _ = bot.command(f"actions --owner {who}", user=CHAIR)
        assert ref in _refs(body), who
    with bot.rt.sessions() as s:
        exported = export_rows(s, bot.rt.config.force("suffolk"), Actor(CHAIR, "admin"), bot.rt.clock.now())
    assert [r.owner for r in exported if r.reference == ref] == ["JG & JM"]
    assert f"Updated *{ref}* (status)" in _answer(bot, f"action {ref} --status ongoing", OTHER)
    # One owner change at a time; the bad pair is named.
    both = _answer(bot, f"action {ref} --owner me --add-owner <@{OTHER}|other>", OWNER)
    assert "--owner and --add-owner can't be used together" in both
    # Taking off someone who is not an owner, or the last owner, is refused and changes nothing.
    assert f"HH is not an owner of {ref}" in _answer(bot, f"action {ref} --remove-owner HH", OWNER)
    # OTHER takes OWNER off: OTHER is the only owner, and the history says so.
    said = _answer(bot, f"action {ref} --remove-owner <@{OWNER}|owner>", OTHER)
    assert f"Updated *{ref}* (owner)" in said
    with bot.rt.sessions() as s:
        row = s.scalars(select(Action).where(Action.reference == ref)).one()
        assert ([o.user_id for o in row.owners], row.owner_user_id) == ([OTHER], OTHER)
    assert "would have no owner left" in _answer(bot, f"action {ref} --remove-owner me", OTHER)
    assert [(h.field, h.old_value, h.new_value) for h in bot.history(ref) if h.field == "owner"] == [
        ("owner", "JG", "JG & JM"),  # OWNER is JG, OTHER JM: named as the log names owners
        ("owner", "JG & JM", "JM"),
    ]
    # OWNER is no longer an owner, so may no longer change it.
    assert bot.action(ref).status == "ongoing"
    assert f"only {ref}'s owner or an admin" in _answer(bot, f"action {ref} --status held --note x", OWNER)
    assert bot.action(ref).status == "ongoing"


def test_a_joint_owner_of_the_seed_log_is_taken_off_by_initials(bot: Bot) -> None:
    _import_seed(bot)  # A-6 is JM (OTHER) & JG (OWNER), stored as initials mapped through the config
    assert "Updated *A-6* (owner)" in _answer(bot, "action A-6 --remove-owner JG", OTHER)
    with bot.rt.sessions() as s:
        a6 = s.scalars(select(Action).where(Action.reference == "A-6")).one()
        assert [(o.initials, o.user_id) for o in a6.owners] == [("JM", None)]
    body, _ = bot.command("actions --owner JG", user=CHAIR)
    assert "A-6" not in _refs(body)
    assert "only A-6's owner or an admin" in _answer(bot, "action A-6 --add-owner me", OWNER)  # no longer one
    assert "Updated *A-6* (owner)" in _answer(bot, f"action A-6 --add-owner <@{OWNER}|owner>", OTHER)
    body, _ = bot.command("actions --owner me", user=OWNER)
    assert "A-6" in _refs(body)


def test_a_completion_the_log_dates_by_month_shows_as_the_month_on_cards_and_achievements(bot: Bot) -> None:
    _import_seed(bot)  # A-23 "… Oct 21", A-28 "… Aug 2021", A-17 "introduced on 13/9/21", A-18 no date
    assert bot.action("A-23").completed_on == dt.date(2021, 10, 1)  # stored as the month's first day
    said = _answer(bot, "achievements", OWNER)
    line = {ln.split("*")[1]: ln for ln in said.splitlines() if ln.startswith("• *A-")}
    assert line["A-23"].endswith("— completed Oct 2021") and line["A-28"].endswith("— completed Aug 2021")
    # A-18's log states no date: it was done by the log's own date, which is not a day anybody gave.
    assert line["A-17"].endswith("— completed 13 Sep 2021") and line["A-18"].endswith("— completed by 31 Jul 2022")
    assert "1 Oct 2021" not in said and "1 Aug 2021" not in said
    card = _answer(bot, "action A-23", OWNER)
    assert "*Completed* Oct 2021" in card and "1 Oct 2021" not in card
    assert "*Completed* by 31 Jul 2022" in _answer(bot, "action A-18", OWNER)
    # Completed by a person on a day: the day is shown.
    with bot.rt.sessions() as s:
        res = service.change_action(s, bot.force, Actor(CHAIR, "admin"), ActionChange("A-9", bot.action("A-9").version,
                                    status="complete", on=dt.date(2022, 8, 1)), bot.rt.clock)  # fmt: skip
        s.commit()
    assert res.ok, res.refusal
    assert "*Completed* 1 Aug 2022" in _answer(bot, "action A-9", OWNER)
    # Completed by a person on the log's own date: the day they gave, not "by" it.
    with bot.rt.sessions() as s:
        a5 = bot.action("A-5")  # imported as complete; reopened by the chair, then completed again at the meeting
        for status in ("ongoing", "complete"):
            change = ActionChange("A-5", a5.version, status=status, on=dt.date(2022, 7, 31))
            res = service.change_action(s, bot.force, Actor(CHAIR, "admin"), change, bot.rt.clock)
            assert res.ok, res.refusal
            a5 = res.action
        s.commit()
    assert a5.completion_recorded
    assert "*Completed* 31 Jul 2022" in _answer(bot, "action A-5", OWNER)
