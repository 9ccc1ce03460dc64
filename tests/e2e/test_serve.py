"""`mo-bot serve`: settings validation, /healthz, the real gunicorn server driven over HTTP, and Socket Mode driven over
the fake Slack's WebSocket."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from bot.db import make_engine
from bot.models import AuditEvent
from bot.runtime import Runtime
from bot.settings import SettingsError, load_settings
from bot.slack.client import make_client
from commands.app import build_app
from commands.cli import main as cli_main
from commands.web import WebApp, database_check, socket_check
from tests.support import fakeslack
from tests.support.fakeslack import FakeSlack
from tests.support.slackutil import SIGNING_SECRET, LocalServer, Reply, blocks_text, get, post_signed, slash_command

fake_slack = fakeslack.fake_slack
MO_BOT = str(Path(sys.executable).parent / "mo-bot")  # the installed console script, as the Procfile runs it

GOOD_ENV = {
    "SLACK_BOT_TOKEN": "xoxb-1-2-abc",
    "SLACK_SIGNING_SECRET": SIGNING_SECRET,
}
ENV_NAMES = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "DATABASE_URL",
    "MO_CONFIG",
    "PORT",
    "WEB_CONCURRENCY",
    "THREADS",
)


# --------------------------------------------------------------------------------------------------- settings


def test_good_settings_and_defaults() -> None:
    s = load_settings({**GOOD_ENV, "SLACK_API_URL": "http://127.0.0.1:9/api"})
    assert (s.bot_token, s.port, s.socket_mode, s.api_url) == ("xoxb-1-2-abc", 3000, False, "http://127.0.0.1:9/api/")
    s = load_settings({**GOOD_ENV, "SLACK_APP_TOKEN": "xapp-1-A-1", "PORT": "8080", "THREADS": "16"})
    assert (s.socket_mode, s.port, s.threads) == (True, 8080, 16)


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        (
            "SLACK_BOT_TOKEN",
            "xoxp-user-token",
            "SLACK_BOT_TOKEN: must be a bot token starting with 'xoxb-' — this looks like a user token",
        ),
        ("SLACK_BOT_TOKEN", "", "SLACK_BOT_TOKEN: missing"),
        ("SLACK_SIGNING_SECRET", '"abc def"', "SLACK_SIGNING_SECRET: malformed"),
        ("SLACK_SIGNING_SECRET", "", "SLACK_SIGNING_SECRET: missing"),
        ("SLACK_APP_TOKEN", "xoxb-wrong-kind", "SLACK_APP_TOKEN: must be an app-level token starting with 'xapp-'"),
        ("SLACK_API_URL", "ftp://slack.example/api/", "SLACK_API_URL: expected an http(s) URL"),
        ("SLACK_API_URL", "https://proxy.example/api/?x=1", "SLACK_API_URL: must be a base URL without ?query"),
        ("DATABASE_URL", "mo-bot.db", "DATABASE_URL: expected a URL"),
        ("MO_CONFIG", "/nonexistent/mo.toml", "MO_CONFIG: file not found: /nonexistent/mo.toml"),
        ("PORT", "70000", "PORT: must be from 1 to 65535, got 70000"),
        ("PORT", "http", "PORT: expected a whole number from 1 to 65535, got 'http'"),
        ("WEB_CONCURRENCY", "0", "WEB_CONCURRENCY: must be from 1 to 64, got 0"),
        ("THREADS", "many", "THREADS: expected a whole number from 1 to 256, got 'many'"),
    ],
)
def test_each_malformed_setting_has_its_own_clear_line(name: str, value: str, says: str) -> None:
    with pytest.raises(SettingsError) as e:
        load_settings({**GOOD_ENV, name: value})
    assert len(e.value.problems) == 1
    assert e.value.problems[0].startswith(says)


def test_all_problems_are_reported_together_by_serve(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for n in ENV_NAMES:
        monkeypatch.delenv(n, raising=False)
    monkeypatch.setenv("SLACK_APP_TOKEN", "nope")
    monkeypatch.setenv("PORT", "0")
    with pytest.raises(SystemExit) as e:
        cli_main(["serve"])
    assert e.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert [line.split(":")[1].strip() for line in lines] == [
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "PORT",
    ]
    assert all(line.startswith("mo-bot serve: ") for line in lines)


# --------------------------------------------------------------------------------------------------- health


def test_healthz_200_when_the_database_answers(runtime: Runtime) -> None:
    with LocalServer(WebApp(None, [database_check(runtime.engine)], mode="http")) as srv:
        r = get(srv.url + "/healthz")
        assert r.status == 200 and r.json() == {"status": "ok", "mode": "http", "database": "ok"}
        assert r.headers["Content-Type"] == "application/json"
        assert get(srv.url + "/nothing-here").status == 404


def test_healthz_503_when_the_database_is_unreachable(tmp_path: Path, runtime: Runtime) -> None:
    if runtime.engine.dialect.name == "postgresql":
        url = "postgresql+psycopg://postgres@127.0.0.1:1/unreachable"  # nothing listens on port 1
    else:
        url = f"sqlite:///{tmp_path}/missing-dir/mo-bot.db"  # SQLite cannot create a file in a missing directory
    engine = make_engine(url)
    with LocalServer(WebApp(None, [database_check(engine)], mode="http")) as srv:
        r = get(srv.url + "/healthz")
    assert r.status == 503
    body = r.json()
    assert body["status"] == "unavailable" and body["database"].startswith("unreachable (")
    assert "127.0.0.1" not in r.text and str(tmp_path) not in r.text  # no connection details leak


def test_socket_mode_health_reflects_the_connection(runtime: Runtime, fake_slack: FakeSlack) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.settings import Settings

    settings = Settings(fake_slack.token, SIGNING_SECRET, "xapp-1-A0-1", fake_slack.base_url, None, None, 3000, 1, 1)
    app = build_app(runtime, client=make_client(fake_slack.token, fake_slack.base_url), settings=settings)
    handler = SocketModeHandler(app, settings.app_token)
    web = WebApp(None, [database_check(runtime.engine), socket_check(handler.client.is_connected)], mode="socket")
    with LocalServer(web) as srv:
        r = get(srv.url + "/healthz")
    assert r.status == 503
    assert r.json() == {"status": "unavailable", "mode": "socket", "database": "ok", "slack_socket": "disconnected"}
    # The same check passes while the connection is up.
    up = WebApp(None, [database_check(runtime.engine), socket_check(lambda: True)], mode="socket")
    assert up.health() == (200, {"status": "ok", "mode": "socket", "database": "ok", "slack_socket": "connected"})
    handler.close()


# --------------------------------------------------------------------------------------------------- the server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _config_file(path: Path, team_id: str, channel: str) -> Path:
    path.write_text(
        f"""
[forces.suffolk]
name = "Suffolk Constabulary"
slack_team_ids = ["{team_id}"]
[forces.suffolk.districts.ipswich]
label = "Ipswich"
aliases = ["south"]
[forces.suffolk.districts.bury-st-edmunds]
label = "Bury St Edmunds"
aliases = ["bury", "west"]
[forces.suffolk.districts.lowestoft]
label = "Lowestoft"
aliases = ["east"]

[slack]
channels = ["{channel}"]
""",
        encoding="utf-8",
    )
    return path


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"mo-bot serve exited early: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            if get(url, timeout=1).status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError("mo-bot serve did not become healthy")


def serve_env(fake: FakeSlack, db_url: str, config: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    env.update(
        SLACK_BOT_TOKEN=fake.token,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake.base_url,
        DATABASE_URL=db_url,
        MO_CONFIG=str(config),
        PORT=str(port),
        WEB_CONCURRENCY="2",
        THREADS="2",
        LOG_LEVEL="warning",
    )
    return env


def test_serve_check(db_url: str, fake_slack: FakeSlack, tmp_path: Path) -> None:
    env = serve_env(fake_slack, db_url, _config_file(tmp_path / "mo.toml", fake_slack.team_id, "C0MOBOT01"), 3000)
    r = subprocess.run([MO_BOT, "serve", "--check"], env=env, capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    assert b"would run HTTP on port 3000" in r.stdout


def test_mo_bot_serve_answers_signed_commands_under_gunicorn(
    db_url: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    port = _free_port()
    env = serve_env(fake_slack, db_url, _config_file(tmp_path / "mo.toml", fake_slack.team_id, "C0MOBOT01"), port)
    proc = subprocess.Popen([MO_BOT, "serve"], env=env, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base + "/healthz", proc)
        form = slash_command(
            "help",
            user_id="U0ANYONE1",
            team_id=fake_slack.team_id,
            channel_id="C0MOBOT01",
            response_url=fake_slack.new_response_url(),
        )
        r = post_signed(base + "/slack/events", form)
        assert r.status == 200
        assert "/mo wanted" in blocks_text(r.json()["blocks"])
        assert post_signed(base + "/slack/events", form, bad_signature=True).status == 401
        assert get(base + "/healthz").json()["database"] == "ok"
        # Bolt's own dev server is not what answers: gunicorn names itself.
        assert r.headers.get("Server", "").startswith("gunicorn")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert proc.returncode == 0


def test_socket_mode_with_a_refused_app_token_stops_with_one_line(
    db_url: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    env = serve_env(
        fake_slack, db_url, _config_file(tmp_path / "mo.toml", fake_slack.team_id, "C0MOBOT01"), _free_port()
    )
    env["SLACK_APP_TOKEN"] = "xapp-1-A0FAKE-revoked"
    r = subprocess.run([MO_BOT, "serve"], env=env, capture_output=True, timeout=60)
    assert r.returncode == 2
    assert "mo-bot serve: SLACK_APP_TOKEN: Slack refused it (invalid_auth)" in r.stderr.decode().splitlines()
    opened = fake_slack.calls_to("apps.connections.open", include_failed=True)
    assert len(opened) == 1 and opened[0].headers["authorization"] == "Bearer xapp-1-A0FAKE-revoked"


def test_socket_mode_with_slack_unreachable_stops_with_one_line(
    db_url: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    closed = _free_port()  # nothing listens there
    env = serve_env(
        fake_slack, db_url, _config_file(tmp_path / "mo.toml", fake_slack.team_id, "C0MOBOT01"), _free_port()
    )
    env["SLACK_APP_TOKEN"] = fake_slack.app_token
    env["SLACK_API_URL"] = f"http://127.0.0.1:{closed}/api/"
    r = subprocess.run([MO_BOT, "serve"], env=env, capture_output=True, timeout=120)
    assert r.returncode == 2
    err = r.stderr.decode()
    assert "Traceback" not in err
    assert [line for line in err.splitlines() if line.startswith("mo-bot serve:")] == [
        f"mo-bot serve: cannot reach Slack at http://127.0.0.1:{closed}/api/: [Errno 111] Connection refused"
    ]


def _wait_status(url: str, status: int, timeout: float = 10) -> Reply:
    deadline = time.monotonic() + timeout
    while True:
        r = get(url, timeout=2)
        if r.status == status or time.monotonic() > deadline:
            return r
        time.sleep(0.05)


def test_mo_bot_serve_in_socket_mode_answers_over_the_socket_and_healthz_follows_it(
    db_url: str, engine: Engine, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    port = _free_port()
    env = serve_env(fake_slack, db_url, _config_file(tmp_path / "mo.toml", fake_slack.team_id, "C0MOBOT01"), port)
    env["SLACK_APP_TOKEN"] = fake_slack.app_token
    proc = subprocess.Popen([MO_BOT, "serve"], env=env, stderr=subprocess.PIPE)
    health = f"http://127.0.0.1:{port}/healthz"
    sm = fake_slack.socket_mode

    def ask(text: str) -> tuple[dict, int]:
        form = slash_command(
            text,
            user_id="U0ANYONE1",
            team_id=fake_slack.team_id,
            channel_id="C0MOBOT01",
            response_url=fake_slack.new_response_url(),
        )
        ack = sm.wait_ack(sm.slash_command(form), timeout=10)
        assert ack.payload is not None
        return ack.payload, ack.connection

    try:
        _wait_healthy(health, proc)
        body = get(health).json()
        # The scheduler serve runs beside the app reports itself too (tests/e2e/test_serve_everything.py).
        assert str(body.pop("scheduler")).startswith(("starting", "running"))
        assert body == {"status": "ok", "mode": "socket", "database": "ok", "slack_socket": "connected"}
        opened = fake_slack.calls_to("apps.connections.open")
        assert [c.headers["authorization"] for c in opened] == [f"Bearer {fake_slack.app_token}"]
        first = sm.wait_connected()
        answer, on = ask("help")
        assert on == first.id and "/mo wanted" in blocks_text(answer["blocks"])
        # Slack's routine refresh: a new connection, the old one closed, healthy throughout.
        assert sm.request_refresh() == 1
        assert fake_slack.wait_for(lambda f: len(sm.connections) == 2 and not first.is_open, timeout=10)
        assert get(health).status == 200
        answer, on = ask("help")
        assert on == sm.connections[1].id and answer["blocks"]
        # Slack drops the connection and refuses new ones for now: /healthz says so.
        sm.accepting = False
        assert sm.drop() == 1
        r = _wait_status(health, 503)
        assert r.status == 503
        body = r.json()
        assert str(body.pop("scheduler")).startswith(("starting", "running"))
        assert body == {"status": "unavailable", "mode": "socket", "database": "ok", "slack_socket": "disconnected"}
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert proc.returncode == 0, proc.stderr.read().decode() if proc.stderr else ""
    # Each answer given over the socket was audited by the serving process.
    with engine.connect() as c:
        rows = c.execute(select(AuditEvent.actor, AuditEvent.detail, AuditEvent.channel_id).order_by(AuditEvent.id))
        # (The scheduler serve runs beside the app audits its own jobs, as job:<name>.)
        assert [tuple(r) for r in rows if not r.actor.startswith("job:")] == [("U0ANYONE1", "help", "C0MOBOT01")] * 2
