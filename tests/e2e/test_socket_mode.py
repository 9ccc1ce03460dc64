"""Socket Mode end to end, as Slack drives it: the bot's ``SocketModeHandler`` (built as ``mo-bot serve`` builds it)
calls ``apps.connections.open`` on the fake Slack with the app-level token, holds the fake's WebSocket, and answers
each envelope in its ack; ``/healthz`` follows the connection. Runs on SQLite and PostgreSQL (MO_TEST_DATABASE_URL).
``mo-bot serve`` itself in Socket Mode is driven in tests/e2e/test_serve.py."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import func, select

from bot.clock import today_in
from bot.demo.load import load_demo
from bot.figures import Filters, wanted_figures
from bot.models import Action, AuditEvent
from bot.runtime import Runtime
from bot.settings import Settings
from commands.web import WebApp, database_check, socket_check
from tests.support import bolt, fakeslack, fakesocket
from tests.support.fakeslack import FakeSlack
from tests.support.slackutil import LocalServer, Reply, blocks_text, get, post_signed, slash_command

fake_slack = fakeslack.fake_slack

CHANNEL = "C0MOBOT01"
VIEWER = "U0VIEWER1"
ANALYST = "U0ANALYST"
PING_INTERVAL = 10.0  # SocketModeHandler's default, which `mo-bot serve` runs with
# The client reconnects on its monitor's tick, every ping interval; the reconnect tests use a short one so they
# wait about a second, not ten. Four intervals without a pong count as stale, so 1 s still tolerates a busy machine.
FAST_PING_INTERVAL = 1.0


@dataclass
class SocketBot:
    rt: Runtime
    app: App
    fake: FakeSlack
    handler: SocketModeHandler
    health_url: str  # the Socket Mode health app's /healthz, as `mo-bot serve` serves it
    http_url: str  # the same Bolt app behind HTTP mode's /slack/events, to compare answers

    def form(self, text: str, *, user: str = VIEWER, channel: str = CHANNEL) -> dict[str, str]:
        return slash_command(
            text, user_id=user, team_id=self.fake.team_id, channel_id=channel, response_url=self.fake.new_response_url()
        )

    def ask(self, text: str, **kw: str) -> tuple[fakesocket.Ack, dict[str, str]]:
        """``/mo text`` over the socket; returns the client's ack and the form Slack sent."""
        form = self.form(text, **kw)
        return self.fake.socket_mode.wait_ack(self.fake.socket_mode.slash_command(form)), form

    def health(self) -> Reply:
        return get(self.health_url, timeout=5)

    def wait_health(self, status: int, timeout: float = 5.0) -> Reply:
        deadline = time.monotonic() + timeout
        while True:
            r = self.health()
            if r.status == status or time.monotonic() > deadline:
                return r
            time.sleep(0.02)

    def audit(self) -> list[AuditEvent]:
        with self.rt.sessions() as s:
            return list(s.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def settings_for(fake: FakeSlack, app_token: str | None = None) -> Settings:
    return bolt.settings_for(fake, app_token=app_token or fake.app_token)


def slack_runtime(runtime: Runtime, team_id: str) -> Runtime:
    """The test runtime with the fake workspace mapped to Suffolk, one allowed channel and one analyst."""
    cfg = runtime.config
    suffolk = replace(cfg.force("suffolk"), slack_team_ids=(team_id,))
    slack = replace(cfg.slack, channels=(CHANNEL,), roles={"analyst": (ANALYST,)})
    cfg = replace(cfg, forces={**cfg.forces, "suffolk": suffolk}, slack=slack)
    return Runtime(config=cfg, engine=runtime.engine, sessions=runtime.sessions, clock=runtime.clock)


@pytest.fixture
def start_bot(runtime: Runtime, fake_slack: FakeSlack) -> Iterator[Callable[..., SocketBot]]:
    """Builds the app and handler as ``serve_socket_mode`` does (with the fake's client) and connects."""
    rt = slack_runtime(runtime, fake_slack.team_id)
    stack = contextlib.ExitStack()
    handlers: list[SocketModeHandler] = []

    def start(ping_interval: float = PING_INTERVAL) -> SocketBot:
        settings = settings_for(fake_slack)
        app = bolt.app_for(rt, fake_slack, settings)
        handler = SocketModeHandler(app, settings.app_token, ping_interval=ping_interval)
        handlers.append(handler)
        checks = [database_check(rt.engine), socket_check(handler.client.is_connected)]
        health = stack.enter_context(LocalServer(WebApp(None, checks, mode="socket")))
        http = stack.enter_context(LocalServer(WebApp(app, [database_check(rt.engine)], mode="http")))
        handler.connect()
        bot = SocketBot(rt, app, fake_slack, handler, health.url + "/healthz", http.url + "/slack/events")
        fake_slack.socket_mode.wait_connected()
        return bot

    yield start
    # Close from Slack's side first (refusing reconnects), so close() need not wait out the client's 3 s receive.
    fake_slack.socket_mode.accepting = False
    fake_slack.socket_mode.drop()
    for h in handlers:
        h.close()
    stack.close()


@pytest.fixture
def bot(start_bot: Callable[..., SocketBot]) -> SocketBot:
    return start_bot()


# ------------------------------------------------------------------------------------------- commands and answers


def test_slash_command_over_the_socket_is_answered_in_its_ack(bot: SocketBot, tmp_path: Path) -> None:
    load_demo(bot.rt, rows=800, workdir=tmp_path)
    before = len(bot.audit())  # the demo import audits itself
    conn = bot.fake.socket_mode.open_connections()[-1]
    ack, form = bot.ask("wanted --district ipswich")
    assert ack.connection == conn.id
    payload = ack.payload
    assert payload is not None and payload["response_type"] == "ephemeral"
    force = bot.rt.config.force("suffolk")
    with bot.rt.sessions() as s:
        fig = wanted_figures(
            s,
            force,
            today_in(bot.rt.clock, force.timezone),
            Filters(district="ipswich"),
            review_days=bot.rt.config.wanted_review_days,
        )
    assert fig.open > 0  # the demo has Ipswich circulations, so the checks below are not vacuous
    shown = blocks_text(payload["blocks"])
    assert f"*{fig.open:,}* open wanted circulations" in shown
    assert f"{fig.open_a_month_ago:,}" in shown and f"*{fig.review_overdue:,}*" in shown
    assert "Ipswich" in shown and f"*{fig.open:,}*" in payload["text"]
    # One audited consultation, by the user who asked, in the channel they asked in.
    events = bot.audit()[before:]
    assert [(e.actor, e.action, e.outcome, e.detail, e.channel_id, e.team_id) for e in events] == [
        (VIEWER, "command", "ok", "wanted --district ipswich", CHANNEL, bot.fake.team_id)
    ]
    # The answer travelled in the ack: nothing on the response_url, no Web API call but opening the socket.
    assert bot.fake.posts_to(form["response_url"]) == []
    assert bot.fake.methods() == ["apps.connections.open"]
    # HTTP mode answers the same question with the same payload.
    r = post_signed(bot.http_url, bot.form("wanted --district ipswich"))
    assert r.status == 200 and r.json() == payload
    assert len(bot.audit()) == before + 2


def test_a_deferred_answer_is_acked_at_once_then_posted_to_the_response_url(bot: SocketBot, tmp_path: Path) -> None:
    load_demo(bot.rt, rows=800, workdir=tmp_path)
    before = len(bot.audit())
    ack, form = bot.ask("wanted --list --district ipswich", user=ANALYST)
    assert not ack.payload  # acked showing nothing: the answer through response_url is the one message
    url = form["response_url"]
    assert bot.fake.wait_for(lambda f: len(f.posts_to(url)) >= 1, timeout=10)
    # The lazy part audits before it responds, so once the post is seen the work is complete.
    post = bot.fake.posts_to(url)
    assert len(post) == 1 and "replace_original" not in post[0].payload and post[0].payload["blocks"]
    # The request accepted (written down before the ack), then its answer with the records it showed.
    events = bot.audit()[before:]
    assert [(e.action, e.actor, e.outcome) for e in events] == [("accept", ANALYST, "ok"), ("command", ANALYST, "ok")]
    assert events[0].records_disclosed == 0 and events[1].records_disclosed > 0


def test_refusals_and_mistakes_are_answered_in_the_ack_and_audited(bot: SocketBot) -> None:
    typo, _ = bot.ask("wantd --district ipswich")
    elsewhere, _ = bot.ask("wanted", channel="C0ELSEWHERE")
    assert typo.payload is not None and "wanted" in typo.payload["text"]  # "did you mean" names the sub-command
    assert elsewhere.payload is not None and elsewhere.payload["response_type"] == "ephemeral"
    assert [(e.outcome, e.channel_id) for e in bot.audit()] == [("invalid", CHANNEL), ("refused", "C0ELSEWHERE")]


def test_interactive_view_submission_answers_errors_in_the_ack(bot: SocketBot) -> None:
    ack, form = bot.ask("action add", user=ANALYST)
    assert ack.payload is not None and ack.payload["text"].startswith("Opening the form")
    assert bot.fake.wait_for(lambda f: bool(f.calls_to("views.open")))
    opened = bot.fake.calls_to("views.open")[0]
    assert opened.params["trigger_id"] == form["trigger_id"]
    view = opened.params["view"]
    assert view["callback_id"] == "mo_action_add"

    def submit(values: dict[str, str]) -> fakesocket.Ack:
        state: dict[str, dict] = {}
        for block in view["blocks"]:
            if block.get("type") != "input":
                continue
            el = block["element"]
            kind, value = el["type"], values.get(block["block_id"])
            if kind == "plain_text_input":
                state[block["block_id"]] = {el["action_id"]: {"type": kind, "value": value}}
            elif kind == "static_select":
                option = {"value": value} if value else None
                state[block["block_id"]] = {el["action_id"]: {"type": kind, "selected_option": option}}
            elif kind == "users_select":
                state[block["block_id"]] = {el["action_id"]: {"type": kind, "selected_user": value}}
            elif kind == "datepicker":
                state[block["block_id"]] = {el["action_id"]: {"type": kind, "selected_date": value}}
        body = {
            "type": "view_submission",
            "team": {"id": bot.fake.team_id, "domain": "fake"},
            "user": {"id": ANALYST, "team_id": bot.fake.team_id, "username": "someone"},
            "api_app_id": "A0MOBOT01",
            "trigger_id": "9.9.abc",
            "view": {
                "id": "V0SUBMIT1",
                "team_id": bot.fake.team_id,
                "type": "modal",
                "callback_id": view["callback_id"],
                "private_metadata": view.get("private_metadata", ""),
                "blocks": view["blocks"],
                "state": {"values": state},
                "hash": "h1",
            },
        }
        return bot.fake.socket_mode.wait_ack(bot.fake.socket_mode.interactive(body))

    bad = submit({"title": "New thing", "pillar": "deliver", "owner": ANALYST, "due_on": "2020-01-31"})
    assert bad.payload is not None and bad.payload["response_action"] == "errors"
    assert "already passed" in bad.payload["errors"]["due_on"]
    with bot.rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Action)) == 0
    good = submit({"title": "New thing", "pillar": "deliver", "owner": ANALYST, "due_on": "2027-01-31"})
    assert good.payload is None  # an empty ack closes the modal
    with bot.rt.sessions() as s:
        added = s.scalars(select(Action)).one()
    assert (added.title, added.pillar, added.owner_user_id) == ("New thing", "deliver", ANALYST)


def test_events_are_acked_and_a_redelivery_does_no_work(bot: SocketBot) -> None:
    event = {
        "token": "x",
        "team_id": bot.fake.team_id,
        "api_app_id": "A0MOBOT01",
        "type": "event_callback",
        "event_id": "Ev0SOCKET01",
        "event_time": int(time.time()),
        "event": {"type": "app_home_opened", "user": VIEWER, "channel": "D0VIEWER1", "tab": "home"},
    }
    first = bot.fake.socket_mode.wait_ack(bot.fake.socket_mode.event(event))
    assert first.payload is None  # events take no response payload
    # process_before_response: the listener ran before the ack, so its work is already visible.
    assert [c.params["user_id"] for c in bot.fake.calls_to("views.publish")] == [VIEWER]
    assert [(e.actor, e.detail) for e in bot.audit()] == [(VIEWER, "app home")]
    # Slack redelivers the same event_id when it thinks an ack was lost; the database claim stops it running twice.
    again = bot.fake.socket_mode.wait_ack(bot.fake.socket_mode.event(event, retry_attempt=1, retry_reason="timeout"))
    assert again.payload is None
    assert len(bot.fake.calls_to("views.publish")) == 1 and len(bot.audit()) == 1


# ------------------------------------------------------------------------------------------- the connection


@pytest.mark.parametrize("how", ["close-frame", "tcp-reset", "no-pongs"])
def test_healthz_follows_the_socket_down_and_up_again(start_bot: Callable[..., SocketBot], how: str) -> None:
    # A silent connection is noticed after four ping intervals without a pong: a shorter interval keeps this quick.
    bot = start_bot(ping_interval=FAST_PING_INTERVAL / 2 if how == "no-pongs" else FAST_PING_INTERVAL)
    sm = bot.fake.socket_mode
    r = bot.wait_health(200)
    assert (r.status, r.json()) == (
        200,
        {"status": "ok", "mode": "socket", "database": "ok", "slack_socket": "connected"},
    )
    assert sm.open_connections()[-1].pings >= 1  # the client pings; the fake pongs, so it never looks stale
    # Slack goes away and, for now, refuses new connections.
    sm.accepting = False
    if how == "no-pongs":
        sm.answer_pings = False
        r = bot.wait_health(503, timeout=10 * FAST_PING_INTERVAL)
        sm.answer_pings = True
    else:
        assert sm.drop(reset=how == "tcp-reset") == 1
        r = bot.wait_health(503)
    assert (r.status, r.json()) == (
        503,
        {"status": "unavailable", "mode": "socket", "database": "ok", "slack_socket": "disconnected"},
    )
    # The client keeps trying by itself (a new ticket each time); while refused it stays unhealthy.
    assert bot.fake.wait_for(lambda f: sm.tickets_issued >= 2 and sm.refused >= 1, timeout=5 * FAST_PING_INTERVAL)
    assert bot.health().status == 503
    sm.accepting = True
    r = bot.wait_health(200, timeout=5 * FAST_PING_INTERVAL)
    assert r.status == 200 and r.json()["slack_socket"] == "connected"
    # The new connection carries commands.
    new = sm.open_connections()
    assert len(new) == 1 and new[0].id == len(sm.connections) >= 2
    ack, _ = bot.ask("help")
    assert ack.connection == new[0].id and "/mo wanted" in blocks_text(ack.payload["blocks"])  # type: ignore[index]


def test_a_refresh_from_slack_moves_to_a_new_connection_without_going_unhealthy(bot: SocketBot) -> None:
    sm = bot.fake.socket_mode
    first = sm.open_connections()[-1]
    assert sm.request_refresh() == 1
    # The client opens the new connection before it closes the old one (which can take its 3 s receive timeout).
    assert bot.fake.wait_for(lambda f: len(sm.connections) == 2 and not first.is_open, timeout=10)
    assert bot.health().status == 200
    assert [c.method for c in bot.fake.calls if c.ok] == ["apps.connections.open"] * 2
    ack, _ = bot.ask("help")
    assert ack.connection == sm.connections[1].id and ack.payload is not None


# ------------------------------------------------------------------------------------------- tokens


def test_apps_connections_open_takes_only_the_app_level_token(runtime: Runtime, fake_slack: FakeSlack) -> None:
    web = WebClient(base_url=fake_slack.base_url)
    with pytest.raises(SlackApiError) as e:
        web.apps_connections_open(app_token=fake_slack.token)  # the bot token: the wrong kind
    assert e.value.response["error"] == "not_allowed_token_type"
    with pytest.raises(SlackApiError) as e:
        web.apps_connections_open(app_token="xapp-1-A0OTHER-9-revoked")
    assert e.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as e:  # the right token, but as a form field: Slack wants the Bearer header
        web.api_call("apps.connections.open", data={"token": fake_slack.app_token})
    assert e.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as e:  # and an app-level token calls nothing but apps.connections.open
        WebClient(token=fake_slack.app_token, base_url=fake_slack.base_url).chat_postMessage(channel=CHANNEL, text="x")
    assert e.value.response["error"] == "not_allowed_token_type"
    url = web.apps_connections_open(app_token=fake_slack.app_token)["url"]
    parts = urlsplit(url)
    assert (parts.scheme, parts.hostname, parts.port, parts.path) == ("ws", "127.0.0.1", fake_slack.port, "/link/")
    assert "ticket=" in parts.query
    # The bot's own handler, given the bot token as its app token, is refused the same way and never connects.
    rt = slack_runtime(runtime, fake_slack.team_id)
    settings = settings_for(fake_slack)
    app = bolt.app_for(rt, fake_slack, settings)
    handler = SocketModeHandler(app, fake_slack.token)
    try:
        with pytest.raises(SlackApiError) as e:
            handler.connect()
        assert e.value.response["error"] == "not_allowed_token_type"
        assert not handler.client.is_connected()
        assert fake_slack.socket_mode.connections == []
    finally:
        handler.close()


# ------------------------------------------------------------------------------------------- the fake's WebSocket


def _raw_handshake(fake: FakeSlack, path: str) -> tuple[socket.socket, bytes]:
    """A bare RFC 6455 client handshake; returns the socket and the HTTP response head."""
    sock = socket.create_connection(("127.0.0.1", fake.port), timeout=5)
    key = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455's example key
    sock.sendall(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        if not chunk:
            break
        head += chunk
    return sock, head


def test_the_fake_speaks_rfc6455_and_a_ticket_opens_one_connection(fake_slack: FakeSlack) -> None:
    url = WebClient(base_url=fake_slack.base_url).apps_connections_open(app_token=fake_slack.app_token)["url"]
    path = url.split(str(fake_slack.port), 1)[1]
    sock, head = _raw_handshake(fake_slack, path)
    with sock, sock.makefile("rb") as rfile:
        assert head.startswith(b"HTTP/1.1 101 ")
        assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in head  # RFC 6455 section 1.3's answer
        fin, opcode, masked, data = fakesocket.read_frame(rfile)  # type: ignore[misc]
        hello = json.loads(data)
        assert (fin, opcode, masked) == (True, fakesocket.OP_TEXT, False)  # a server never masks
        assert hello["type"] == "hello" and hello["num_connections"] == 1
        assert hello["connection_info"]["app_id"] == fake_slack.socket_mode.app_id
        sock.sendall(fakesocket.encode_frame(fakesocket.OP_PING, b"are you there", mask=b"\x01\x02\x03\x04"))
        assert fakesocket.read_frame(rfile) == (True, fakesocket.OP_PONG, False, b"are you there")
        # A large envelope (64-bit length) arrives whole, and a masked ack is recorded.
        eid = fake_slack.socket_mode.interactive({"type": "block_actions", "blob": "x" * 70_000})
        fin, opcode, _, data = fakesocket.read_frame(rfile)  # type: ignore[misc]
        assert json.loads(data)["payload"]["blob"] == "x" * 70_000
        ack = json.dumps({"envelope_id": eid, "payload": {"ok": 1}}).encode()
        sock.sendall(fakesocket.encode_frame(fakesocket.OP_TEXT, ack, mask=b"\x09\x08\x07\x06"))
        assert fake_slack.socket_mode.wait_ack(eid).payload == {"ok": 1}
        # The same ticket again is refused.
        again, head2 = _raw_handshake(fake_slack, path)
        again.close()
        assert head2.startswith(b"HTTP/1.1 401 ")
        # An unmasked client frame is a protocol error: the fake closes with 1002.
        sock.sendall(fakesocket.encode_frame(fakesocket.OP_TEXT, b"{}"))
        assert fakesocket.read_frame(rfile) == (True, fakesocket.OP_CLOSE, False, b"\x03\xeaprotocol error")
    conn = fake_slack.socket_mode.connections[0]
    assert fake_slack.wait_for(lambda f: not conn.is_open)
    assert conn.close_code == 1002 and conn.protocol_errors == ["unmasked client frame (opcode 1)"]


def test_nothing_personal_is_logged_at_info_over_the_socket(bot: SocketBot, caplog: pytest.LogCaptureFixture) -> None:
    """Socket Mode requests carry no signature and enter Bolt another way: still no user or question at INFO."""
    with caplog.at_level(logging.INFO):
        ack, _ = bot.ask("wanted --district ipswich --older-than 90d", user="U0PRIVATE9")
        assert ack.payload and ack.payload["blocks"]
    infos = [rec.getMessage() for rec in caplog.records if rec.levelno <= logging.INFO]
    for m in infos:
        assert "U0PRIVATE9" not in m and "older-than" not in m and "ipswich" not in m, m
