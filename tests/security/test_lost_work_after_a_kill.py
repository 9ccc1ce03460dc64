"""A killed `mo-bot serve` loses no acknowledged request: after a restart each is answered, once.

The attack (a fault): `mo-bot serve` is killed (SIGKILL to the whole process group, as when a container dies)
while deferred requests it acknowledged with "working on it" are being answered or wait their turn. Before, they
vanished: no answer, no audit row, changes not made (56 on SQLite, 1,139 on PostgreSQL under load in the campaign).
The promise: every accepted request has its ``accept`` audit row from before its acknowledgement; after a restart
each is answered through its own response_url exactly once (the DM'd export sent once, each note written once), its
answer audited, and nothing is left running.

Five case lists hold every thread of the listener executor — answered, and posting to their response_urls when
the kill comes (the fake Slack is slow to take those posts, and drops a post whose sender is gone) — and three
notes to the action log wait their turn behind them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.accepted_work import LEASE
from bot.demo.load import load_demo
from bot.models import AcceptedRequest, Action, ActionHistory, AuditEvent
from bot.runtime import Runtime
from commands.listeners.slash_mo import DEFERRED_THREADS
from tests.support import fakeslack
from tests.support.fakeslack import FakeSlack
from tests.support.slackutil import SIGNING_SECRET, get, post_signed, slash_command

fake_slack = fakeslack.fake_slack

MO_BOT = str(Path(sys.executable).parent / "mo-bot")
CHANNEL = "C0MOBOT01"
ADMIN = "U0CHAIR01"
LISTS = DEFERRED_THREADS  # the deferred answers' pool runs this many at a time: these hold every thread
NOTES = 3


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def config_file(path: Path, team_id: str) -> Path:
    path.write_text(
        f"""
[forces.suffolk]
name = "Suffolk Constabulary"
slack_team_ids = ["{team_id}"]
[forces.suffolk.districts.ipswich]
label = "Ipswich"
[forces.suffolk.districts.bury-st-edmunds]
label = "Bury St Edmunds"
[forces.suffolk.districts.lowestoft]
label = "Lowestoft"

[slack]
channels = ["{CHANNEL}"]
[slack.roles]
admin = ["{ADMIN}"]
""",
        encoding="utf-8",
    )
    return path


def answered_lists(s: Session) -> list[str]:
    return list(
        s.scalars(
            select(AuditEvent.detail).where(AuditEvent.action == "command", AuditEvent.detail.like("wanted --list%"))
        )
    )


class Serve:
    """`mo-bot serve` as its own process group (gunicorn master and worker), killable as a whole."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.log = log.open("ab")
        self.proc = subprocess.Popen(
            [MO_BOT, "serve"], env=env, stdout=self.log, stderr=self.log, start_new_session=True
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, log.read_text()[-2000:]
            try:
                if get(self.base + "/healthz", timeout=1).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError("mo-bot serve did not become healthy")

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.log.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        self.log.close()


def test_requests_accepted_before_a_kill_are_answered_once_after_the_restart(
    runtime: Runtime, db_url: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    load_demo(runtime, rows=200, workdir=tmp_path / "demo")
    fake_slack.users[ADMIN] = {"id": ADMIN, "name": "chair"}
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MO_", "WEB_", "THREADS"))}
    env.update(
        SLACK_BOT_TOKEN=fake_slack.token,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake_slack.base_url,
        DATABASE_URL=db_url,
        MO_CONFIG=str(config_file(tmp_path / "mo.toml", fake_slack.team_id)),
        PORT=str(port),
        WEB_CONCURRENCY="1",
        THREADS="8",
        LOG_LEVEL="warning",
    )
    lists = tuple(
        f"{d}{age}"
        for age in ("", " --older-than 30d", " --older-than 90d")
        for d in ("ipswich", "bury-st-edmunds", "lowestoft")
    )
    asks = [(f"wanted --list --district {d}", fake_slack.new_response_url()) for d in lists[:LISTS]]
    asks += [
        (f'action A-{i + 1} --note "checked after the kill {i}"', fake_slack.new_response_url()) for i in range(NOTES)
    ]

    serve = Serve(env, port, tmp_path / "serve.log")
    try:
        # Slack is slow to take the answers' posts: the lists are mid-flight, the notes queued behind them.
        fake_slack.delay_response_urls(seconds=60, times=LISTS)
        for text, url in asks:
            form = slash_command(text, user_id=ADMIN, team_id=fake_slack.team_id, channel_id=CHANNEL, response_url=url)
            r = post_signed(serve.base + "/slack/events", form)
            assert r.status == 200 and r.body == b"", r.text
        with runtime.sessions() as s:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and len(answered_lists(s)) < LISTS:
                time.sleep(0.1)
                s.rollback()
        # …and their posts have reached Slack (held there): a post still on its way when the process dies would
        # leave one of the delays to the restarted server's answers.
        assert fake_slack.wait_for(lambda f: f.response_url_delays_left() == 0, timeout=20)
        serve.kill()
    except BaseException:
        serve.stop()
        raise
    killed_at = time.monotonic()

    # Every acknowledged request was written down, with its audit row, before its acknowledgement; none answered.
    with runtime.sessions() as s:
        rows = list(s.scalars(select(AcceptedRequest).order_by(AcceptedRequest.id)))
        accepted = [e.detail for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "accept"))]
    assert [(r.text, r.status) for r in rows] == [(text, "running") for text, _ in asks]
    assert sorted(accepted) == sorted(text for text, _ in asks)
    assert all(fake_slack.posts_to(url) == [] for _, url in asks)

    serve = Serve(env, port, tmp_path / "serve.log")
    try:
        answered = fake_slack.wait_for(
            lambda f: all(len(f.posts_to(url)) >= 1 for _, url in asks), timeout=LEASE.total_seconds() + 40
        )
        assert answered, f"unanswered {time.monotonic() - killed_at:.0f} s after the kill"
        time.sleep(1)  # anything answered twice would show by now
    finally:
        serve.stop()

    # Each answered once, through its own response_url; each note written once.
    assert [len(fake_slack.posts_to(url)) for _, url in asks] == [1] * len(asks)
    for i, (_, url) in enumerate(asks[LISTS:]):
        assert f"A-{i + 1}" in fake_slack.posts_to(url)[0].payload["text"]
    with runtime.sessions() as s:
        notes = s.scalars(
            select(ActionHistory.note)
            .join(Action, Action.id == ActionHistory.action_id)
            .where(ActionHistory.note.like("checked after the kill%"))
        ).all()
        rows = list(s.scalars(select(AcceptedRequest).order_by(AcceptedRequest.id)))
        answers = s.execute(
            select(AuditEvent.detail, AuditEvent.outcome).where(
                AuditEvent.action == "command", AuditEvent.actor == ADMIN
            )
        ).all()
    assert sorted(notes) == sorted(f"checked after the kill {i}" for i in range(NOTES))
    assert [(r.status, r.outcome, r.attempts) for r in rows] == [("done", "ok", 2)] * len(asks)
    # Every answer audited: each list twice (answered before the kill, its post lost with the process, answered
    # again after), each note once.
    assert sorted(answers) == sorted(
        [(text, "ok") for text, _ in asks[:LISTS]] * 2 + [(t, "ok") for t, _ in asks[LISTS:]]
    )
