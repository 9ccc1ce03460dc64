"""No force sees or changes another force's action log, driven as Slack drives the bot: two forces' workspaces
(Suffolk and Norfolk) on one app, signed slash commands, ``block_actions`` and ``view_submission`` payloads over
HTTP into the WSGI app, the fake Slack answering ``users.info`` with each user's workspace (``user.team_id``, as
Slack's own answer has it).

The attack, as reproduced: a Suffolk admin makes a Norfolk user the owner of Suffolk's A-1 (``--owner <@U…>``);
the Suffolk action then shows in that Norfolk user's App Home and weekly reminder DM; and when they press Done
there, the button's value (``status:complete|A-1|2``) is resolved against *their* force — Norfolk's A-1 is
completed. Promises checked here:

- an owner must belong to the action's force: refused (and nothing stored) from ``/mo action add|A-n --owner``
  and from the add and edit modals, accepted for someone Slack places in the force's workspace;
- every control and form names its force; one naming another force, or none (a message from before controls
  named it), is refused and audited before anything is read or changed — never resolved against the clicker's;
- App Home and reminder DMs never put one force's actions in front of someone of another force, even for an
  owner recorded before owners were checked.

Runs on SQLite and PostgreSQL (MO_TEST_DATABASE_URL).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from sqlalchemy import select

from bot.config import DEFAULTS, ConfigError, build_config
from bot.models import Action, ActionHistory, ActionOwner, AuditEvent
from bot.runtime import Runtime
from bot.slack.client import make_client
from commands.web import WebApp, database_check
from jobs.reminders import send_reminders
from tests.support import fakeslack
from tests.support.bolt import app_for
from tests.support.fakeslack import FakeSlack
from tests.support.slackutil import LocalServer, blocks_text, post_signed, slash_command

fake_slack = fakeslack.fake_slack

NORFOLK_TEAM = "T0NORFOLK"
CHANNEL = "C0MOSHARED"  # a channel both workspaces are in (Slack Connect)
SUFFOLK_ADMIN = "U0SUFADM1"
SUFFOLK_USER = "U0SUFUSR2"
NORFOLK_ADMIN = "U0NORADM3"
_seq = itertools.count(1)


@dataclass
class Slack:
    rt: Runtime
    fake: FakeSlack
    url: str
    acks: dict[str, dict[str, Any]] = field(default_factory=dict)

    def team_of(self, user: str) -> str:
        return NORFOLK_TEAM if user == NORFOLK_ADMIN else self.fake.team_id

    def command(self, text: str, user: str) -> str:
        """A signed `/mo` from ``user`` in their own workspace; returns the response_url (answers land there)."""
        url = self.fake.new_response_url()
        form = slash_command(text, user_id=user, team_id=self.team_of(user), channel_id=CHANNEL, response_url=url)
        r = post_signed(self.url, form)
        assert r.status == 200, r.text
        self.acks[url] = r.json() if r.body else {}
        return url

    def answer(self, url: str) -> dict[str, Any]:
        """A command's answer: in its ack, or (a deferred one, acked empty) posted to its response_url."""
        ack = self.acks[url]
        if ack:
            return ack
        assert self.fake.wait_for(lambda f: bool(f.posts_to(url))), self.fake.methods()
        return self.fake.posts_to(url)[-1].payload

    def _base(self, kind: str, user: str) -> dict[str, Any]:
        n = next(_seq)
        team = self.team_of(user)
        return {
            "type": kind,
            "token": "unused",
            "api_app_id": "A0MOBOT01",
            "team": {"id": team, "domain": "x"},
            "user": {"id": user, "team_id": team, "username": "someone"},
            "trigger_id": f"{n}.{n * 3}.{n:032x}",
        }

    def click(self, value: str, user: str, *, channel: str = CHANNEL, action_id: str = "mo_act_done") -> str:
        """``user`` presses a button whose value is ``value`` on a message in ``channel``; returns its response_url."""
        body = self._base("block_actions", user)
        url = self.fake.new_response_url()
        msg = {"ts": "1700000000.000100", "text": "x", "blocks": []}
        body |= {
            "actions": [{"type": "button", "action_id": action_id, "block_id": "b", "value": value, "action_ts": "1"}],
            "container": {"type": "message", "message_ts": msg["ts"], "channel_id": channel, "is_ephemeral": False},
            "channel": {"id": channel, "name": "x"},
            "message": msg,
            "response_url": url,
        }
        r = post_signed(self.url, {"payload": json.dumps(body)})
        assert r.status == 200, r.text
        return url

    def submit(self, view: dict[str, Any], values: dict[str, Any], user: str) -> dict[str, Any]:
        """``user`` submits ``view`` (as views.open received it) with ``values`` by input block id."""
        state: dict[str, Any] = {}
        for block in view["blocks"]:
            if block.get("type") != "input":
                continue
            bid, el = block["block_id"], block["element"]
            aid, kind = el["action_id"], el["type"]
            v = values.get(bid)
            if kind == "plain_text_input":
                state[bid] = {aid: {"type": kind, "value": v}}
            elif kind == "static_select":
                v = v or (el.get("initial_option") or {}).get("value")
                state[bid] = {aid: {"type": kind, "selected_option": {"value": v} if v else None}}
            elif kind == "users_select":
                state[bid] = {aid: {"type": kind, "selected_user": v}}
            elif kind == "datepicker":
                state[bid] = {aid: {"type": kind, "selected_date": v}}
        body = self._base("view_submission", user)
        body["view"] = {
            "id": f"V{next(_seq):08d}",
            "team_id": self.team_of(user),
            "type": "modal",
            "callback_id": view["callback_id"],
            "private_metadata": view.get("private_metadata", ""),
            "blocks": view["blocks"],
            "state": {"values": state},
            "hash": f"h{next(_seq)}",
        }
        r = post_signed(self.url, {"payload": json.dumps(body)})
        assert r.status == 200, r.text
        return r.json() if r.body else {}

    def button(self, force_admin: str, label: str) -> str:
        """The value of the button ``label`` on A-1's card, as ``/mo action A-1`` shows it to ``force_admin``."""
        card = self.answer(self.command("action A-1", force_admin))["blocks"]
        return next(
            e["value"] for b in card if b["type"] == "actions" for e in b["elements"] if e["text"]["text"] == label
        )

    def last_view(self) -> dict[str, Any]:
        assert self.fake.wait_for(lambda f: bool(f.calls_to("views.open")))
        return self.fake.calls_to("views.open")[-1].params["view"]

    def action(self, force: str, ref: str = "A-1") -> Action | None:
        with self.rt.sessions() as s:
            return s.scalars(select(Action).where(Action.force == force, Action.reference == ref)).one_or_none()

    def history(self, force: str, ref: str = "A-1") -> list[tuple[str, str | None]]:
        with self.rt.sessions() as s:
            rows = s.scalars(
                select(ActionHistory).join(Action).where(Action.force == force, Action.reference == ref)
            ).all()
            return [(h.field, h.new_value) for h in rows]

    def refusals(self, actor: str) -> list[AuditEvent]:
        with self.rt.sessions() as s:
            return list(
                s.scalars(
                    select(AuditEvent)
                    .where(AuditEvent.actor == actor, AuditEvent.outcome == "refused")
                    .order_by(AuditEvent.id)
                )
            )

    def legacy_action(self, force: str, ref: str, owner: str, due: dt.date | None = None) -> None:
        """An action stored before owners were checked (straight into the table, as old data is, with its owner
        row as the migration that introduced owner rows wrote it)."""
        now = self.rt.clock.now()
        with self.rt.sessions() as s:
            s.add(
                Action(force=force, reference=ref, pillar="divert", title=f"{force} work", owner_user_id=owner,
                       status="open", due_on=due, created_by="import", created_at=now, updated_at=now, version=1,
                       owners=[ActionOwner(position=0, user_id=owner)])
            )  # fmt: skip
            s.commit()


@pytest.fixture
def slack(runtime: Runtime, fake_slack: FakeSlack) -> Iterator[Slack]:
    cfg = runtime.config
    suffolk = replace(cfg.force("suffolk"), slack_team_ids=(fake_slack.team_id,), owners={})
    norfolk = replace(cfg.force("norfolk"), slack_team_ids=(NORFOLK_TEAM,), owners={})
    roles = {"admin": (SUFFOLK_ADMIN, NORFOLK_ADMIN)}
    cfg = replace(cfg, forces={**cfg.forces, "suffolk": suffolk, "norfolk": norfolk},
                  slack=replace(cfg.slack, channels=(CHANNEL,), roles=roles))  # fmt: skip
    rt = Runtime(config=cfg, engine=runtime.engine, sessions=runtime.sessions, clock=runtime.clock)
    fake_slack.add_channel(CHANNEL)
    # users.info as Slack answers it: each user's own workspace in user.team_id.
    for user in (SUFFOLK_ADMIN, SUFFOLK_USER):
        fake_slack.users[user] = {"name": user.lower(), "team_id": fake_slack.team_id, "deleted": False}
    fake_slack.users[NORFOLK_ADMIN] = {"name": "nadmin", "team_id": NORFOLK_TEAM, "deleted": False}
    app = app_for(rt, fake_slack)
    with LocalServer(WebApp(app, [database_check(rt.engine)], mode="http")) as srv:
        yield Slack(rt, fake_slack, srv.url + "/slack/events")


# ------------------------------------------------------------------------------------ owners belong to the force
def test_a_user_of_another_forces_workspace_cannot_be_made_an_owner_by_command(slack: Slack) -> None:
    url = slack.command(f'action add "Suffolk deep dive" --pillar divert --owner <@{NORFOLK_ADMIN}|nadmin>',
                        SUFFOLK_ADMIN)  # fmt: skip
    refused = blocks_text(slack.answer(url)["blocks"])
    assert f"{NORFOLK_ADMIN} is not a member of Suffolk Constabulary's Slack workspace" in refused
    assert slack.action("suffolk") is None
    # An existing action: not re-assigned either.
    slack.command('action add "Suffolk deep dive" --pillar divert', SUFFOLK_ADMIN)
    assert slack.fake.wait_for(lambda f: slack.action("suffolk") is not None)
    url = slack.command(f"action A-1 --owner <@{NORFOLK_ADMIN}|nadmin>", SUFFOLK_ADMIN)
    assert "is not a member of Suffolk Constabulary's Slack workspace" in blocks_text(slack.answer(url)["blocks"])
    a = slack.action("suffolk")
    assert a is not None and (a.owner_user_id, a.version) == (SUFFOLK_ADMIN, 1)
    # Someone Slack places in Suffolk's workspace may be given it.
    url = slack.command(f"action A-1 --owner <@{SUFFOLK_USER}|suser>", SUFFOLK_ADMIN)
    assert "Updated *A-1*" in blocks_text(slack.answer(url)["blocks"])
    a = slack.action("suffolk")
    assert a is not None and a.owner_user_id == SUFFOLK_USER
    assert {c.params["user"] for c in slack.fake.calls_to("users.info")} >= {NORFOLK_ADMIN, SUFFOLK_USER}
    assert [e.detail for e in slack.refusals(SUFFOLK_ADMIN) if e.action == "change"] == [
        f"create action: not_allowed: {NORFOLK_ADMIN} is not a member of Suffolk Constabulary's Slack workspace, "
        "so they can't own its actions; choose someone from the force",
        f"change A-1: not_allowed: {NORFOLK_ADMIN} is not a member of Suffolk Constabulary's Slack workspace, "
        "so they can't own its actions; choose someone from the force",
    ]


def test_a_user_of_another_forces_workspace_cannot_be_added_as_a_co_owner(slack: Slack) -> None:
    slack.command('action add "Suffolk deep dive" --pillar divert', SUFFOLK_ADMIN)
    assert slack.fake.wait_for(lambda f: slack.action("suffolk") is not None)
    url = slack.command(f"action A-1 --add-owner <@{NORFOLK_ADMIN}|nadmin>", SUFFOLK_ADMIN)
    assert "is not a member of Suffolk Constabulary's Slack workspace" in blocks_text(slack.answer(url)["blocks"])
    a = slack.action("suffolk")
    assert a is not None and a.version == 1 and [o.user_id for o in a.owners] == [SUFFOLK_ADMIN]
    url = slack.command(f"action A-1 --add-owner <@{SUFFOLK_USER}|suser>", SUFFOLK_ADMIN)
    assert "Updated *A-1*" in blocks_text(slack.answer(url)["blocks"])
    a = slack.action("suffolk")
    assert a is not None and [o.user_id for o in a.owners] == [SUFFOLK_ADMIN, SUFFOLK_USER]


def test_a_user_of_another_forces_workspace_cannot_be_picked_in_the_forms(slack: Slack) -> None:
    slack.command("action add", SUFFOLK_ADMIN)
    form = slack.last_view()
    resp = slack.submit(form, {"title": "Suffolk deep dive", "pillar": "divert", "owner": NORFOLK_ADMIN},
                        SUFFOLK_ADMIN)  # fmt: skip
    assert resp["response_action"] == "errors" and "not a member of Suffolk" in resp["errors"]["owner"]
    assert slack.action("suffolk") is None
    resp = slack.submit(form, {"title": "Suffolk deep dive", "pillar": "divert", "owner": SUFFOLK_USER}, SUFFOLK_ADMIN)
    assert resp.get("response_action") is None
    a = slack.action("suffolk")
    assert a is not None and a.owner_user_id == SUFFOLK_USER
    # The edit form: re-assigning it to Norfolk's admin is refused next to the owner field.
    edit_button = slack.button(SUFFOLK_ADMIN, "Edit")
    slack.fake.reset()
    slack.click(edit_button, SUFFOLK_ADMIN, action_id="mo_act_edit")
    edit = slack.last_view()
    resp = slack.submit(edit, {"title": "Suffolk deep dive", "owner": NORFOLK_ADMIN}, SUFFOLK_ADMIN)
    assert resp["response_action"] == "errors" and "not a member of Suffolk" in resp["errors"]["owner"]
    a = slack.action("suffolk")
    assert a is not None and (a.owner_user_id, a.version) == (SUFFOLK_USER, 1)


# ------------------------------------------------------------------------- controls name the force they act on
def test_done_on_another_forces_action_changes_neither_force(slack: Slack) -> None:
    # Each force has its own A-1; the Suffolk one reached Norfolk's admin (a shared channel, or an owner recorded
    # before owners were checked).
    slack.command('action add "Suffolk work" --pillar divert', SUFFOLK_ADMIN)
    slack.command('action add "Norfolk work" --pillar divert', NORFOLK_ADMIN)
    assert slack.fake.wait_for(lambda f: slack.action("suffolk") is not None and slack.action("norfolk") is not None)
    done = slack.button(SUFFOLK_ADMIN, "Done")

    def neither_changed() -> None:
        # A click's change is written before its ack returns, so this is the state it left.
        for force in ("suffolk", "norfolk"):
            a = slack.action(force)
            assert a is not None and (a.status, a.version) == ("open", 1), force
            assert slack.history(force) == [("created", "open")]

    # Norfolk's admin presses Done on the Suffolk card: refused, audited, and neither A-1 is touched.
    url = slack.click(done, NORFOLK_ADMIN)
    neither_changed()
    assert slack.fake.wait_for(lambda f: bool(f.posts_to(url)))
    assert "another force's action log" in blocks_text(slack.fake.posts_to(url)[-1].payload["blocks"])
    # A button from a message posted before controls named their force: never resolved against Norfolk's log.
    url = slack.click("status:complete|A-1|1", NORFOLK_ADMIN)
    neither_changed()
    assert slack.fake.wait_for(lambda f: bool(f.posts_to(url)))
    assert "can't tell which force's log" in blocks_text(slack.fake.posts_to(url)[-1].payload["blocks"])
    refused = [(e.force, e.action, e.detail) for e in slack.refusals(NORFOLK_ADMIN)]
    done_on = "control 'status:complete' on 'A-1'"
    assert refused == [
        ("norfolk", "interaction", f"{done_on}: names force 'suffolk', the clicker's is 'norfolk'"),
        ("norfolk", "interaction", f"{done_on}: names no force"),
    ]
    # Suffolk's own admin still can.
    slack.click(done, SUFFOLK_ADMIN)
    assert slack.fake.wait_for(lambda f: (a := slack.action("suffolk")) is not None and a.status == "complete")
    norfolk = slack.action("norfolk")
    assert norfolk is not None and norfolk.status == "open"


def test_another_forces_form_and_page_are_refused_before_anything_is_read(slack: Slack) -> None:
    slack.command('action add "Suffolk work" --pillar divert', SUFFOLK_ADMIN)
    slack.command('action add "Norfolk work" --pillar divert', NORFOLK_ADMIN)
    assert slack.fake.wait_for(lambda f: slack.action("suffolk") is not None and slack.action("norfolk") is not None)
    # A Suffolk note form submitted by Norfolk's admin (a form names its force in its metadata).
    note_button = slack.button(SUFFOLK_ADMIN, "Add a note")
    slack.click(note_button, SUFFOLK_ADMIN, action_id="mo_act_note")
    note_form = slack.last_view()
    resp = slack.submit(note_form, {"note": "written from Norfolk"}, NORFOLK_ADMIN)
    assert resp["response_action"] == "update"
    assert "another force's action log" in blocks_text(resp["view"]["blocks"])
    # Norfolk's own add form submitted by Suffolk's admin.
    slack.fake.reset()
    slack.command("action add", NORFOLK_ADMIN)
    add_form = slack.last_view()
    resp = slack.submit(add_form, {"title": "planted", "pillar": "detect"}, SUFFOLK_ADMIN)
    assert resp["response_action"] == "update"
    for force in ("suffolk", "norfolk"):
        assert slack.history(force) == [("created", "open")], force
    with slack.rt.sessions() as s:
        assert len(s.scalars(select(Action)).all()) == 2
    # A Suffolk list's page button pressed by Norfolk's admin.
    page = json.dumps({"f": "suffolk", "o": None, "s": [], "p": None, "od": False, "dw": None, "page": 2})
    url = slack.click(page, NORFOLK_ADMIN, action_id="mo_act_page_next")
    assert slack.fake.wait_for(lambda f: bool(f.posts_to(url)))
    assert "another force's action log" in blocks_text(slack.fake.posts_to(url)[-1].payload["blocks"])
    assert [e.detail for e in slack.refusals(NORFOLK_ADMIN)] == [
        "form 'mo_action_note': names force 'suffolk', the clicker's is 'norfolk'",
        "page button: names force 'suffolk', the clicker's is 'norfolk'",
    ]
    assert [e.detail for e in slack.refusals(SUFFOLK_ADMIN)] == [
        "form 'mo_action_add': names force 'norfolk', the clicker's is 'suffolk'"
    ]


# ------------------------------------------------------------------- App Home and reminders stay in the force
def test_reminders_and_app_home_never_show_a_force_its_neighbours_actions(slack: Slack) -> None:
    # Suffolk's A-1 owned by Norfolk's admin, as stored before owners were checked; due tomorrow.
    slack.legacy_action("suffolk", "A-1", NORFOLK_ADMIN, due=dt.date(2026, 11, 24))
    slack.legacy_action("norfolk", "A-1", NORFOLK_ADMIN, due=dt.date(2026, 11, 25))
    run = send_reminders(slack.rt, make_client(slack.fake.token, slack.fake.base_url))
    # Norfolk's admin is reminded of Norfolk's A-1 only; the Suffolk action is reported, not DMed.
    dms = slack.fake.calls_to("chat.postMessage")
    assert len(dms) == 1 and "norfolk work" in blocks_text(dms[0].params["blocks"])
    assert "suffolk work" not in json.dumps([c.params for c in slack.fake.calls])
    buttons = [e["value"] for b in dms[0].params["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert buttons[0] == "status:complete|norfolk|A-1|1"
    assert (run.dms_sent, run.not_in_force) == (1, ["suffolk:A-1"])
    # A change to the Suffolk action refreshes App Homes: not Norfolk's admin's with Suffolk's log.
    slack.fake.reset()
    url = slack.command('action A-1 --note "checked"', SUFFOLK_ADMIN)
    assert "Updated *A-1*" in blocks_text(slack.answer(url)["blocks"])
    homes = slack.fake.calls_to("views.publish")
    assert [c.params["user_id"] for c in homes] == [SUFFOLK_ADMIN]
    assert "suffolk work" not in json.dumps([c.params for c in homes if c.params["user_id"] == NORFOLK_ADMIN])
    # Norfolk's admin opening App Home sees Norfolk's log, with controls naming Norfolk.
    slack.fake.reset()
    event = {
        "token": "x", "team_id": NORFOLK_TEAM, "api_app_id": "A0MOBOT01", "type": "event_callback",
        "event_id": f"Ev{next(_seq):08d}", "event_time": 1,
        "event": {"type": "app_home_opened", "user": NORFOLK_ADMIN, "channel": "D0NORADM3", "tab": "home"},
    }  # fmt: skip
    assert post_signed(slack.url, json_body=event).status == 200
    home = slack.fake.calls_to("views.publish")[0].params["view"]
    shown = json.dumps(home)
    assert "norfolk work" in shown and "suffolk work" not in shown and "|suffolk|" not in shown


def test_a_config_naming_one_slack_user_as_an_owner_in_two_forces_is_refused() -> None:
    """The owner maps are the first rule of who may own a force's actions: a user in both would own, see and be
    reminded of the other force's log."""
    first, second = list(DEFAULTS["forces"])[:2]

    def with_owners(owners: dict[str, dict[str, str]]) -> dict[str, Any]:
        forces = {slug: {**f, "owners": owners.get(slug, {})} for slug, f in DEFAULTS["forces"].items()}
        return {**DEFAULTS, "forces": forces}

    twice = with_owners({first: {"HH": "U0SAME001"}, second: {"JM": "U0SAME001"}})
    with pytest.raises(
        ConfigError, match=rf"forces\.{second}\.owners\.JM: U0SAME001 is already an owner in force '{first}'"
    ):
        build_config(twice, "test")
    # The same person under two sets of initials in one force is fine (initials are how the log was written).
    ok = build_config(with_owners({first: {"HH": "U0SAME001", "HJH": "U0SAME001"}}), "test")
    assert ok.forces[first].owners == {"HH": "U0SAME001", "HJH": "U0SAME001"}
