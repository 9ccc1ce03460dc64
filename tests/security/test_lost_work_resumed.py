"""Acknowledged work is never lost: what a stopped process accepted is answered by another, once.

The attack (a fault): `mo-bot serve` stops — deployed over, crashed, killed — after acknowledging deferred
requests with "working on it" and before answering them. They used to vanish: no answer and no audit row. The
promise: a deferred request is written down (with an ``accept`` audit row) before it is acknowledged; a process
that stops leaves it held under a lease nobody renews; another process takes it up once the lease lapses and answers
it through its response_url — exactly once however many processes look — while Slack still takes an answer there
(30 minutes), and past that records it as expired, in the audit log. A request that cannot be written down in time
is not acknowledged as accepted: the user is told, and nothing is done.

These drive the real Bolt app over signed HTTP and the Resumer each `mo-bot serve` process runs, with the injected
clock moving the leases; ``test_lost_work_after_a_kill`` kills a real `mo-bot serve`.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot.accepted_work import ANSWER_WINDOW, LEASE, AcceptedWork, NewRequest
from bot.audit import AuditEntry
from bot.clock import FixedClock
from bot.db import make_engine, make_session_factory
from bot.demo.load import load_demo
from bot.models import AcceptedRequest, AuditEvent
from bot.runtime import Runtime
from bot.slack.client import make_client
from commands.listeners.slash_mo import NOT_TAKEN, Resumer
from commands.web import WebApp, database_check
from tests.support import fakeslack
from tests.support.bolt import app_for
from tests.support.database import IS_PG
from tests.support.fakeslack import FakeSlack
from tests.support.slackutil import LocalServer, Reply, blocks_text, post_signed, slash_command

fake_slack = fakeslack.fake_slack

CHANNEL = "C0MOBOT01"
ANALYST = "U0ANALYST"
QUESTION = "wanted --list --district ipswich"


@dataclass
class Bot:
    rt: Runtime
    fake: FakeSlack
    url: str

    def ask(self, text: str, response_url: str | None = None) -> tuple[Reply, str]:
        url = response_url or self.fake.new_response_url()
        form = slash_command(text, user_id=ANALYST, team_id=self.fake.team_id, channel_id=CHANNEL, response_url=url)
        return post_signed(self.url, form), url

    def rows(self) -> list[AcceptedRequest]:
        with self.rt.sessions() as s:
            return list(s.scalars(select(AcceptedRequest).order_by(AcceptedRequest.id)))

    def audit(self, actor: str = ANALYST) -> list[AuditEvent]:
        with self.rt.sessions() as s:
            return list(s.scalars(select(AuditEvent).where(AuditEvent.actor == actor).order_by(AuditEvent.id)))

    def resumer(self) -> Resumer:
        """The Resumer of another `mo-bot serve` process (its own holder), pointed at the fake Slack."""
        r = Resumer(self.rt, make_client(self.fake.token, self.fake.base_url))
        r.work = AcceptedWork(self.rt.sessions, self.rt.clock)
        return r

    @property
    def clock(self) -> FixedClock:
        assert isinstance(self.rt.clock, FixedClock)
        return self.rt.clock


@pytest.fixture
def bot(runtime: Runtime, fake_slack: FakeSlack, tmp_path: Path) -> Iterator[Bot]:
    cfg = runtime.config
    suffolk = replace(cfg.force("suffolk"), slack_team_ids=(fake_slack.team_id,))
    slack = replace(cfg.slack, channels=(CHANNEL,), roles={"analyst": (ANALYST,)})
    rt = Runtime(
        config=replace(cfg, forces={**cfg.forces, "suffolk": suffolk}, slack=slack),
        engine=runtime.engine,
        sessions=runtime.sessions,
        clock=runtime.clock,
    )
    load_demo(rt, rows=400, workdir=tmp_path / "demo")
    with LocalServer(WebApp(app_for(rt, fake_slack), [database_check(rt.engine)], mode="http")) as srv:
        yield Bot(rt, fake_slack, srv.url + "/slack/events")


def accepted_by_a_process_that_stops(
    bot: Bot, response_url: str, trigger: str = "1.2.dead", text: str = QUESTION
) -> AcceptedWork:
    """What a `mo-bot serve` process leaves when it stops right after acknowledging: the request written down,
    held under its lease, never answered (its AcceptedWork, i.e. its holder, is never heard of again)."""
    dead = AcceptedWork(bot.rt.sessions, bot.rt.clock)
    dead.accept(
        NewRequest(
            trigger_id=trigger,
            user_id=ANALYST,
            team_id=bot.fake.team_id,
            channel_id=CHANNEL,
            channel_is_dm=False,
            text=text,
            response_url=response_url,
            force="suffolk",
        ),
        AuditEntry(actor=ANALYST, action="accept", outcome="ok", detail=text, force="suffolk", channel_id=CHANNEL),
    )
    return dead


def test_a_deferred_request_is_written_down_before_the_ack_and_marked_done(bot: Bot) -> None:
    r, url = bot.ask(QUESTION)
    assert r.body == b""
    assert bot.fake.wait_for(lambda f: len(f.posts_to(url)) == 1, timeout=10)
    (row,) = bot.rows()
    assert (row.text, row.user_id, row.channel_id, row.force) == (QUESTION, ANALYST, CHANNEL, "suffolk")
    deadline = time.monotonic() + 5
    while bot.rows()[0].status != "done" and time.monotonic() < deadline:
        time.sleep(0.05)
    (row,) = bot.rows()
    assert (row.status, row.outcome, row.response_url, row.attempts) == ("done", "ok", None, 1)
    assert [(e.action, e.outcome) for e in bot.audit()] == [("accept", "ok"), ("command", "ok")]


def test_a_stopped_process_s_request_is_answered_once_by_the_next(bot: Bot) -> None:
    url = bot.fake.new_response_url()
    accepted_by_a_process_that_stops(bot, url)
    assert [(e.action, e.outcome) for e in bot.audit()] == [("accept", "ok")]

    # While the holder's lease runs, nobody else answers (it may only be slow).
    survivor, another = bot.resumer(), bot.resumer()
    assert survivor.run_once() == []
    assert bot.fake.posts_to(url) == []
    # The lease lapses: one process takes it up and answers through the response_url; the other finds nothing.
    bot.clock.advance(LEASE + dt.timedelta(seconds=1))
    (taken,) = survivor.run_once()
    assert another.run_once() == []
    (post,) = bot.fake.posts_to(url)
    assert "replace_original" not in post.payload and "Ipswich" in blocks_text(post.payload["blocks"])
    (row,) = bot.rows()
    assert (row.id, row.status, row.outcome, row.attempts, row.holder) == (
        taken.id,
        "done",
        "ok",
        2,
        survivor.work.holder,
    )
    events = bot.audit()
    assert [(e.action, e.outcome, e.detail) for e in events] == [
        ("accept", "ok", QUESTION),
        ("command", "ok", QUESTION),
    ]
    assert events[1].records_disclosed > 0
    # Later rounds answer nothing more.
    bot.clock.advance(LEASE * 3)
    assert survivor.run_once() == [] and another.run_once() == []
    assert len(bot.fake.posts_to(url)) == 1


def test_past_slack_s_answer_window_it_is_recorded_expired(bot: Bot) -> None:
    url = bot.fake.new_response_url()
    accepted_by_a_process_that_stops(bot, url)
    bot.clock.advance(ANSWER_WINDOW + dt.timedelta(seconds=1))
    assert bot.resumer().run_once() == []
    assert bot.fake.posts_to(url) == []  # Slack would refuse it by now
    (row,) = bot.rows()
    assert (row.status, row.outcome, row.response_url) == ("expired", "expired", None)
    accept, expiry = bot.audit()
    assert (accept.action, expiry.action, expiry.outcome, expiry.channel_id) == ("accept", "command", "error", CHANNEL)
    assert expiry.detail.startswith(QUESTION) and "not answered" in expiry.detail
    assert bot.resumer().run_once() == [] and len(bot.audit()) == 2  # recorded once


def test_an_expired_reference_query_is_recorded_without_the_reference(bot: Bot) -> None:
    """The expiry's audit row repeats the request's text: a `--reference` value in it is withheld, as in the
    acceptance's row (the work row holding the text to answer it is deleted a day after it finished)."""
    url = bot.fake.new_response_url()
    accepted_by_a_process_that_stops(bot, url, text="audit --since 2026-11-01 --reference SUW00001")
    bot.clock.advance(ANSWER_WINDOW + dt.timedelta(seconds=1))
    assert bot.resumer().run_once() == []
    expiry = bot.audit()[-1]
    assert expiry.detail.startswith("audit --since 2026-11-01 --reference <withheld> — accepted at")
    assert "SUW00001" not in expiry.detail


def test_processes_racing_for_left_requests_take_each_once(bot: Bot, db_url: str) -> None:
    urls = [bot.fake.new_response_url() for _ in range(12)]
    for i, url in enumerate(urls):
        accepted_by_a_process_that_stops(bot, url, trigger=f"race.{i}")
    bot.clock.advance(LEASE + dt.timedelta(seconds=1))
    # Four processes, each with its own engine (its own connections), look at the same moment.
    engines: list[Engine] = [make_engine(db_url) for _ in range(4)]
    taken: list[list[int]] = [[] for _ in engines]
    start = threading.Barrier(len(engines))

    def look(i: int) -> None:
        work = AcceptedWork(make_session_factory(engines[i]), bot.rt.clock)
        start.wait()
        taken[i] = [a.id for a in work.take_unfinished()]

    threads = [threading.Thread(target=look, args=(i,)) for i in range(len(engines))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for e in engines:
        e.dispose()
    everything = sorted(i for ids in taken for i in ids)
    assert everything == sorted(r.id for r in bot.rows())  # every request taken, none twice
    assert {r.attempts for r in bot.rows()} == {2}


def hold_the_accept_lock(sessions: sessionmaker[Session]) -> Session:
    """Another transaction holding what writing a request down needs: SQLite's write lock (an import's merge holds
    it for seconds), or on PostgreSQL a lock on the table."""
    s = sessions()
    if IS_PG:
        s.execute(text("LOCK TABLE accepted_request IN ACCESS EXCLUSIVE MODE"))
    else:
        s.connection().exec_driver_sql("INSERT INTO slack_delivery (key, received_at) VALUES ('lock', '2026-01-01')")
    return s


def test_writing_a_request_down_waits_at_most_a_second(bot: Bot) -> None:
    work = AcceptedWork(bot.rt.sessions, bot.rt.clock)
    holder = hold_the_accept_lock(bot.rt.sessions)
    try:
        t0 = time.monotonic()
        with pytest.raises(OperationalError):
            work.accept(
                NewRequest("1.2.busy", ANALYST, bot.fake.team_id, CHANNEL, False, QUESTION, "http://x/response/1"),
                AuditEntry(actor=ANALYST, action="accept", outcome="ok", detail=QUESTION),
            )
        waited = time.monotonic() - t0
    finally:
        holder.rollback()
        holder.close()
    assert 0.9 < waited < 2.0
    assert bot.rows() == [] and bot.audit() == [] and work.answering() == []


def test_a_request_that_cannot_be_written_down_is_not_acknowledged_as_accepted(bot: Bot) -> None:
    holder = hold_the_accept_lock(bot.rt.sessions)
    try:
        r, url = bot.ask(QUESTION)
    finally:
        holder.rollback()
        holder.close()
    assert r.status == 200 and r.seconds < 2.5  # inside Slack's 3 seconds
    assert r.json() == {"text": NOT_TAKEN, "response_type": "ephemeral"}
    assert bot.rows() == []
    assert not bot.fake.wait_for(lambda f: len(f.posts_to(url)) > 0, timeout=1)  # nothing done
    deadline = time.monotonic() + 5
    while not bot.audit() and time.monotonic() < deadline:
        time.sleep(0.05)
    (refusal,) = bot.audit()
    assert (refusal.action, refusal.outcome) == ("accept", "refused") and QUESTION in refusal.detail
    # Once the lock is free, the same question is accepted and answered.
    r, url = bot.ask(QUESTION)
    assert r.body == b""
    assert bot.fake.wait_for(lambda f: len(f.posts_to(url)) == 1, timeout=10)
