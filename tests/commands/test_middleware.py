"""Who is asking, resolved once per request by the app's middleware: what it puts into the Bolt context for a
slash command, an interaction, App Home, an unknown workspace and a refused channel, driven by signed HTTP
requests into the app as Slack sends them. Runs on SQLite and PostgreSQL (MO_TEST_DATABASE_URL)."""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware
from sqlalchemy import event, select, text

from bot.access import Requester
from bot.models import AuditEvent, SlackDelivery
from bot.runtime import Runtime
from bot.slack.user_groups import shared_user_groups
from commands.middleware import ASKED, Asked, asked, replay_key
from commands.web import WebApp, database_check
from tests.support import fakeslack
from tests.support.bolt import app_for
from tests.support.fakeslack import FakeSlack
from tests.support.slackutil import LocalServer, blocks_text, post_signed, slash_command

fake_slack = fakeslack.fake_slack

CHANNEL = "C0MOBOT01"
ELSEWHERE = "C0ELSEWHERE"
VIEWER = "U0VIEWER1"
ANALYST = "U0ANALYST"
GROUP_MEMBER = "U0GROUPIE"
ANALYST_GROUP = "S0ANALYSTS"
STRANGER_TEAM = "T0STRANGER"
_seq = itertools.count(1)


class Probe(Middleware):
    """Runs after the app's own middleware: records what it put into the context, and on which thread."""

    def __init__(self) -> None:
        self.seen: list[tuple[Asked, int]] = []

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse | None:
        self.seen.append((asked(req.context), threading.get_ident()))
        return next()

    @property
    def last(self) -> Asked:
        assert self.seen, "the middleware saw no request"
        return self.seen[-1][0]


@dataclass
class Bot:
    rt: Runtime
    app: App
    fake: FakeSlack
    url: str
    probe: Probe

    def command(self, text: str, *, user: str = VIEWER, channel: str = CHANNEL, team: str | None = None) -> Any:
        form = slash_command(
            text,
            user_id=user,
            team_id=team or self.fake.team_id,
            channel_id=channel,
            response_url=self.fake.new_response_url(),
        )
        r = post_signed(self.url, form)
        assert r.status == 200, r.text
        return r.json()

    def click(
        self, value: str, *, action_id: str = "mo_act_menu_0", channel: str = CHANNEL, team: str | None = None
    ) -> str:
        """A button on one of the bot's messages in ``channel``; returns its response_url."""
        team = team or self.fake.team_id
        n = next(_seq)
        response_url = self.fake.new_response_url()
        body = {
            "type": "block_actions",
            "token": "unused",
            "api_app_id": "A0MOBOT01",
            "team": {"id": team, "domain": "fake"},
            "user": {"id": VIEWER, "team_id": team, "username": "someone"},
            "trigger_id": f"{n}.{n * 3}.{n:032x}",
            "actions": [{"action_id": action_id, "block_id": "b", "type": "button", "value": value, "action_ts": "1"}],
            "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": channel},
            "channel": {"id": channel, "name": "x"},
            "message": {"ts": "1700000000.000100", "text": "x", "blocks": []},
            "response_url": response_url,
        }
        r = post_signed(self.url, {"payload": json.dumps(body)})
        assert r.status in (200, 404), r.text  # 404: no listener for the action (Bolt's answer)
        return response_url

    def home_opened(self, user: str = VIEWER, team: str | None = None) -> None:
        body = {
            "token": "x",
            "team_id": team or self.fake.team_id,
            "api_app_id": "A0MOBOT01",
            "type": "event_callback",
            "event_id": f"Ev0MW{next(_seq):06d}",
            "event_time": 1,
            "event": {"type": "app_home_opened", "user": user, "channel": "D" + user[1:], "tab": "home"},
        }
        assert post_signed(self.url, json_body=body).status == 200

    def audit(self) -> list[AuditEvent]:
        with self.rt.sessions() as s:
            return list(s.scalars(select(AuditEvent).order_by(AuditEvent.id)))


@pytest.fixture
def bot(runtime: Runtime, fake_slack: FakeSlack) -> Iterator[Bot]:
    cfg = runtime.config
    suffolk = replace(cfg.force("suffolk"), slack_team_ids=(fake_slack.team_id,))
    slack = replace(cfg.slack, channels=(CHANNEL,), roles={"analyst": (ANALYST, ANALYST_GROUP)})
    cfg = replace(cfg, forces={**cfg.forces, "suffolk": suffolk}, slack=slack)
    rt = Runtime(config=cfg, engine=runtime.engine, sessions=runtime.sessions, clock=runtime.clock)
    fake_slack.usergroups[ANALYST_GROUP] = [GROUP_MEMBER]
    app = app_for(rt, fake_slack)
    # The groups are read by the app's own thread as it starts, never during a request.
    assert shared_user_groups(rt, rt.config).wait_confirmed(5)
    probe = Probe()
    app.use(probe)
    with LocalServer(WebApp(app, [database_check(rt.engine)], mode="http")) as srv:
        yield Bot(rt, app, fake_slack, srv.url + "/slack/events", probe)


def test_slash_command_asker_is_the_workspace_force_and_the_users_role(bot: Bot) -> None:
    reply = bot.command("help", user=ANALYST)
    who = bot.probe.last
    assert who.rt is bot.rt
    assert who.asker.requester == Requester(user_id=ANALYST, team_id=bot.fake.team_id, channel_id=CHANNEL)
    assert (who.asker.force, who.asker.role) == (bot.rt.config.force("suffolk"), "analyst")
    assert (who.asker.refusal, who.asker.channel_refusal) == (None, None)
    assert reply["blocks"] and bot.audit()[-1].outcome == "ok"


def test_slash_command_from_a_dm_by_a_group_member(bot: Bot) -> None:
    bot.command("help", user=GROUP_MEMBER, channel="D0GROUPIE")
    asker = bot.probe.last.asker
    assert asker.requester.channel_is_dm and asker.requester.channel_id == "D0GROUPIE"
    assert (asker.requester.user_groups, asker.role, asker.command_refusal) == ((ANALYST_GROUP,), "analyst", None)
    bot.command("help", user=GROUP_MEMBER)
    assert len(bot.fake.calls_to("usergroups.users.list")) == 1  # read once, then cached


def test_refused_channel_is_a_channel_refusal_only(bot: Bot) -> None:
    reply = bot.command("help", channel=ELSEWHERE)
    asker = bot.probe.last.asker
    assert asker.force == bot.rt.config.force("suffolk") and asker.refusal is None
    assert asker.channel_refusal is not None and asker.channel_refusal.startswith("I don't answer in this channel.")
    assert reply["response_type"] == "ephemeral" and asker.channel_refusal.split(".")[0] in blocks_text(reply["blocks"])
    [ev] = bot.audit()
    assert (ev.outcome, ev.channel_id, ev.force, ev.actor) == ("refused", ELSEWHERE, "suffolk", VIEWER)


def test_interaction_asker_and_the_channel_rule_not_applied(bot: Bot) -> None:
    url = bot.click("view|suffolk|A-999|1", channel=ELSEWHERE)
    asker = bot.probe.last.asker
    assert asker.requester == Requester(user_id=VIEWER, team_id=bot.fake.team_id, channel_id=ELSEWHERE)
    assert asker.force == bot.rt.config.force("suffolk") and asker.refusal is None
    assert asker.channel_refusal is not None  # resolved, but an interaction on the bot's own message ignores it
    assert bot.fake.wait_for(lambda f: bool(f.posts_to(url)))
    shown = blocks_text(bot.fake.posts_to(url)[-1].payload["blocks"])
    assert "there is no action A-999" in shown and "not set up" not in shown
    assert [e for e in bot.audit() if e.outcome == "refused"] == []


def test_app_home_asker_comes_from_the_event(bot: Bot) -> None:
    bot.home_opened(VIEWER)
    asker = bot.probe.last.asker
    assert (asker.requester.user_id, asker.requester.team_id) == (VIEWER, bot.fake.team_id)
    assert asker.force == bot.rt.config.force("suffolk") and asker.refusal is None
    assert [c.params["user_id"] for c in bot.fake.calls_to("views.publish")] == [VIEWER]
    assert [(e.actor, e.action, e.outcome, e.detail, e.force) for e in bot.audit()] == [
        (VIEWER, "view", "ok", "app home", "suffolk")
    ]


def test_unknown_workspace_is_refused_and_audited_everywhere(bot: Bot) -> None:
    reply = bot.command("help", team=STRANGER_TEAM)
    asker = bot.probe.last.asker
    assert asker.force is None and asker.refusal is not None and "not set up" in asker.refusal
    assert "not set up" in blocks_text(reply["blocks"])
    bot.home_opened(VIEWER, team=STRANGER_TEAM)
    assert bot.probe.last.asker.force is None
    url = bot.click("view|A-1|1", team=STRANGER_TEAM)
    assert bot.fake.wait_for(lambda f: bool(f.posts_to(url)))
    assert "not set up" in blocks_text(bot.fake.posts_to(url)[-1].payload["blocks"])
    assert bot.fake.calls_to("views.publish") == []  # no data for a workspace that is not set up
    assert [(e.action, e.outcome, e.team_id, e.force) for e in bot.audit()] == [
        ("command", "refused", STRANGER_TEAM, None),
        ("view", "refused", STRANGER_TEAM, None),
        ("interaction", "refused", STRANGER_TEAM, None),
    ]
    assert bot.audit()[1].detail.startswith("app home: This Slack workspace is not set up")


def test_asker_is_resolved_without_a_database_statement_or_a_slack_call(bot: Bot) -> None:
    def request_threads_with_statements(send: Callable[[], object]) -> tuple[int, list[tuple[int, str]]]:
        """Send one request; the thread the middleware ran on, and (thread, SQL) of every statement executed."""
        statements: list[tuple[int, str]] = []

        def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            statements.append((threading.get_ident(), " ".join(statement.split())))

        event.listen(bot.rt.engine, "before_cursor_execute", count)
        try:
            send()
        finally:
            event.remove(bot.rt.engine, "before_cursor_execute", count)
        return bot.probe.seen[-1][1], statements

    bot.click("x", action_id="no_such_action")  # the user groups a role names are read once, then cached
    bot.fake.reset()
    # An action no listener handles: only the middleware runs on the request's thread. Its one statement is the
    # replay check's claim of the interaction's signature (on PostgreSQL after the claim's bound on waiting for a
    # lock, SET LOCAL lock_timeout); finding out who is asking adds none.
    thread, statements = request_threads_with_statements(lambda: bot.click("x", action_id="no_such_action"))
    on_thread = [sql for t, sql in statements if t == thread and not sql.startswith("SET LOCAL lock_timeout")]
    assert len(on_thread) == 1 and on_thread[0].startswith("INSERT INTO slack_delivery"), on_thread
    assert bot.fake.calls == []
    assert bot.probe.last.asker.requester.user_id == VIEWER and bot.probe.last.asker.force is not None
    # …while a handled click reads the action log on its request's thread (so the check above can fail).
    thread, statements = request_threads_with_statements(lambda: bot.click("view|suffolk|A-999|1"))
    assert any(t == thread and "FROM action" in sql for t, sql in statements)


def test_lazy_listeners_get_the_same_asked_not_a_copy(bot: Bot) -> None:
    bot.command("help")
    who = bot.probe.last
    # Bolt hands a lazy listener a deep copy of the context; the Runtime inside must stay the process's one.
    copied = copy.deepcopy(BoltContext({ASKED: who}).to_copyable())
    assert copied[ASKED] is who and asked(copied).rt.engine is bot.rt.engine


def test_a_context_without_the_middleware_is_a_clear_error() -> None:
    with pytest.raises(LookupError, match="build_app"):
        asked(BoltContext({}))


@pytest.mark.parametrize(
    ("body", "mode", "claimed"),
    [
        # /mo answered in the ack (read-only, the hot path): no claim; a copy is answered and audited again.
        ("command=%2Fmo&text=wanted+--district+ipswich", "http", False),
        ("command=%2Fmo&text=help", "http", False),
        ("command=%2Fmo&text=action+A-1", "http", False),
        # Anything answered through response_url — every change among them — is claimed.
        ("command=%2Fmo&text=action+A-1+--note+%22seen%22", "http", True),
        ("command=%2Fmo&text=action+add+%22x%22+--pillar+divert", "http", True),
        ("command=%2Fmo&text=actions+--export", "http", True),
        ("command=%2Fmo&text=summary+--post", "http", True),
        ("command=%2Fmo&text=" + "x" * 4001, "http", True),  # too long to parse here: claimed, not parsed
        # Every interaction is claimed; events have their event id; an options load is read-only.
        ({"type": "block_actions", "actions": []}, "http", True),
        ({"type": "view_submission", "view": {}}, "http", True),
        ({"type": "shortcut"}, "http", True),
        ({"type": "message_action"}, "http", True),
        ({"type": "block_suggestion"}, "http", False),
        ({"type": "event_callback", "event_id": "Ev1"}, "http", False),
        # Socket Mode is not signed: nothing to replay from outside.
        ({"type": "block_actions", "actions": []}, "socket_mode", False),
    ],
)
def test_which_requests_claim_their_signature(body: str | dict[str, Any], mode: str, claimed: bool) -> None:
    headers = {"x-slack-signature": "v0=" + "ab" * 32} if mode == "http" else {}
    if mode == "http" and isinstance(body, dict):
        # As Slack posts them: an event as JSON, an interaction as a form field holding JSON.
        events = body.get("type") == "event_callback"
        body = json.dumps(body) if events else urlencode({"payload": json.dumps(body)})
        headers["content-type"] = "application/json" if events else "application/x-www-form-urlencoded"
    key = replay_key(BoltRequest(body=body, headers=headers, mode=mode))
    assert key == ("sig:v0=" + "ab" * 32 if claimed else None)


def _hold_the_write_lock(rt: Runtime) -> Any:
    """Another transaction holding what claiming a delivery needs, as an import's merge does for tens of seconds
    (SQLite: the write lock; PostgreSQL: the claims table)."""
    s = rt.sessions()
    if rt.engine.dialect.name == "postgresql":
        s.execute(text("LOCK TABLE slack_delivery IN ACCESS EXCLUSIVE MODE"))
    else:
        s.connection().exec_driver_sql("INSERT INTO slack_delivery (key, received_at) VALUES ('lock', '2026-01-01')")
    return s


def test_an_event_that_cannot_be_claimed_in_a_second_is_left_for_slacks_retry(bot: Bot) -> None:
    body = {
        "token": "x",
        "team_id": bot.fake.team_id,
        "api_app_id": "A0MOBOT01",
        "type": "event_callback",
        "event_id": "Ev0BUSY0001",
        "event_time": 1,
        "event": {"type": "app_home_opened", "user": VIEWER, "channel": "D" + VIEWER[1:], "tab": "home"},
    }
    holder = _hold_the_write_lock(bot.rt)
    try:
        t0 = time.monotonic()
        busy = post_signed(bot.url, json_body=body)
        waited = time.monotonic() - t0
    finally:
        holder.rollback()
        holder.close()
    assert busy.status == 503 and waited < 2.5  # Slack waits 3 s; a non-2xx is delivered again later
    assert bot.fake.calls_to("views.publish") == []
    again = post_signed(bot.url, json_body=body, retry_num=1)
    assert again.status == 200
    assert bot.fake.wait_for(lambda f: len(f.calls_to("views.publish")) == 1, timeout=5)


def test_an_event_claimed_by_an_attempt_that_died_runs_on_slacks_retry(bot: Bot) -> None:
    """A process killed mid-delivery leaves its claim and never answers; Slack retries (after a minute, then five).
    A claim older than any live attempt is taken over by the retry, once; a recent one still drops the retry."""

    def envelope(event_id: str) -> dict[str, Any]:
        return {
            "token": "x",
            "team_id": bot.fake.team_id,
            "api_app_id": "A0MOBOT01",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": 1,
            "event": {"type": "app_home_opened", "user": VIEWER, "channel": "D" + VIEWER[1:], "tab": "home"},
        }

    now = bot.rt.clock.now()
    with bot.rt.sessions() as s, s.begin():
        s.add(SlackDelivery(key="event:Ev0DEAD0001", received_at=now - dt.timedelta(minutes=1)))  # the dead attempt's
        s.add(SlackDelivery(key="event:Ev0LIVE0001", received_at=now - dt.timedelta(seconds=2)))  # one still running
    assert post_signed(bot.url, json_body=envelope("Ev0LIVE0001"), retry_num=1).status == 200
    assert post_signed(bot.url, json_body=envelope("Ev0DEAD0001"), retry_num=1).status == 200
    assert bot.fake.wait_for(lambda f: len(f.calls_to("views.publish")) == 1, timeout=5)
    # The retry that took over holds the claim now: Slack's next retry of it is not run again.
    assert post_signed(bot.url, json_body=envelope("Ev0DEAD0001"), retry_num=2).status == 200
    time.sleep(0.3)
    assert len(bot.fake.calls_to("views.publish")) == 1
