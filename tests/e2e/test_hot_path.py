"""The cached `/mo` path: answers reused until an import — including an import by another process — and every
request audited, with audit rows of concurrent requests committed together. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt import App, BoltRequest
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from bot import audit
from bot.audit import AuditEntry, GroupCommit, group_commit
from bot.clock import today_in
from bot.db import make_engine, make_session_factory
from bot.demo.load import load_demo
from bot.figures import Filters, wanted_figures
from bot.figures.cache import figures_cache
from bot.import_generations import poller, reader
from bot.import_generations.announce import announce_imports
from bot.import_generations.batches import ImportedBatch
from bot.import_generations.reader import generation_reader
from bot.import_generations.sources import generation_source
from bot.import_generations.watcher import GenerationWatcher
from bot.models import AuditEvent, ImportBatch, WantedCirculation
from bot.reads import Reads
from bot.runtime import Runtime
from bot.settings import Settings
from bot.slack.client import make_client
from commands.app import build_app
from tests.support.slackutil import SIGNING_SECRET, blocks_text

TEAM = "T0HOTPATH"
CHANNEL = "C0HOTPATH"
USER = "U0HOTPATH"


def _slack_runtime(runtime: Runtime, engine: Any) -> Runtime:
    cfg = runtime.config
    suffolk = replace(cfg.force("suffolk"), slack_team_ids=(TEAM,))
    cfg = replace(cfg, forces={**cfg.forces, "suffolk": suffolk}, slack=replace(cfg.slack, channels=(CHANNEL,)))
    return Runtime(config=cfg, engine=engine, sessions=make_session_factory(engine), clock=runtime.clock)


def _app(rt: Runtime) -> App:
    settings = Settings(
        bot_token="xoxb-hot-path",
        signing_secret=SIGNING_SECRET,
        app_token=None,
        api_url="http://127.0.0.1:9/api/",
        database_url=None,
        config_path=None,
        port=3000,
        web_concurrency=1,
        threads=1,
    )
    return build_app(rt, client=make_client("xoxb-hot-path", settings.api_url), settings=settings)


def _ask(app: App, text: str) -> str:
    """A signed `/mo` slash command dispatched through the Bolt app (no HTTP); the answer's text."""
    body = urlencode(
        {
            "team_id": TEAM,
            "channel_id": CHANNEL,
            "channel_name": "mo",
            "user_id": USER,
            "command": "/mo",
            "text": text,
            "response_url": "http://127.0.0.1:9/response/x",
            "trigger_id": "1.2.3",
        }
    )
    ts = str(int(time.time()))
    sig = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=ts, body=body)
    headers = {
        "content-type": ["application/x-www-form-urlencoded"],
        "x-slack-request-timestamp": [ts],
        "x-slack-signature": [sig],
    }
    resp = app.dispatch(BoltRequest(body=body, headers=headers))
    assert resp.status == 200, resp.body
    return blocks_text(json.loads(resp.body)["blocks"])


@pytest.fixture
def two_processes(runtime: Runtime, db_url: str, tmp_path: Path) -> Iterator[tuple[Runtime, Runtime]]:
    """Two runtimes on one database, each with its own engine and connection pool, as two gunicorn workers (or a
    worker and `mo-bot import`) have."""
    load_demo(runtime, rows=600, workdir=tmp_path)
    figures_cache.clear()
    engines = [make_engine(db_url), make_engine(db_url)]
    try:
        yield _slack_runtime(runtime, engines[0]), _slack_runtime(runtime, engines[1])
    finally:
        for e in engines:
            e.dispose()


def _import_one_more_wanted(rt: Runtime, as_of: dt.date) -> None:
    with rt.sessions() as s, s.begin():
        batch = ImportBatch(force="suffolk", dataset="wanted", file_name="more.csv", file_sha256="1" * 64, as_of=as_of)
        s.add(batch)
        s.flush()
        announce_imports(s, [ImportedBatch("suffolk", "wanted", batch.id)])  # as the import service does
        s.add(
            WantedCirculation(
                force="suffolk",
                reference="W-HOT-PATH-1",
                offence="Burglary",
                district="ipswich",
                reason="never_arrested",
                circulated_on=as_of,
                status="open",
                import_batch_id=batch.id,
            )
        )


def _open_ipswich(rt: Runtime, today: dt.date) -> int:
    force = rt.config.force("suffolk")
    with rt.sessions() as s:
        fig = wanted_figures(s, force, today, Filters(district="ipswich"), review_days=rt.config.wanted_review_days)
        return fig.open


def _audit(rt: Runtime) -> list[tuple[str, str, str, str | None, int]]:
    with rt.sessions() as s:
        rows = s.scalars(select(AuditEvent).where(AuditEvent.action == "command").order_by(AuditEvent.id))
        return [(e.actor, e.outcome, e.detail, e.channel_id, e.records_disclosed) for e in rows]


def test_an_import_by_another_process_is_seen_by_the_next_answer(two_processes: tuple[Runtime, Runtime]) -> None:
    a, b = two_processes
    app_a, app_b = _app(a), _app(b)
    today = today_in(a.clock, a.config.force("suffolk").timezone)
    before = _open_ipswich(a, today)
    assert before > 0
    question = "wanted --district ipswich"

    first = _ask(app_a, question)
    hits = figures_cache.stats.hits
    assert _ask(app_a, question) == first and _ask(app_b, question) == first
    assert figures_cache.stats.hits > hits  # the repeats were answered from the cache
    assert f"*{before:,}* open wanted circulations" in first

    _import_one_more_wanted(b, today)  # committed through the other runtime's engine
    expected = f"*{before + 1:,}* open wanted circulations"
    # The runtime that imported answers from the new data at once; the other one as soon as it hears of the
    # import (PostgreSQL: its notification, a millisecond or so later; SQLite: its next read of the batches).
    after_b = _ask(app_b, question)
    assert expected in after_b
    deadline, polls = time.monotonic() + 5, 1
    while expected not in (after_a := _ask(app_a, question)) and time.monotonic() < deadline:
        time.sleep(0.01)
        polls += 1
    assert after_a == after_b
    figures_cache.clear()  # …and it is what a process with nothing cached answers
    assert _ask(app_a, question) == after_a
    # Every request was audited, cached or not: who, what, outcome, where, records disclosed.
    assert _audit(a) == [(USER, "ok", question, CHANNEL, 0)] * (5 + polls)


def test_cached_answers_audit_every_request_under_concurrency(two_processes: tuple[Runtime, Runtime]) -> None:
    a, _ = two_processes
    app = _app(a)
    questions = ["wanted", "suspects", "bail --district ipswich", "rui", "wanted --district lowestoft"]
    for q in questions:
        _ask(app, q)  # computed once
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def worker(i: int) -> None:
        try:
            start.wait()
            for k in range(10):
                text = _ask(app, questions[(i + k) % len(questions)])
                assert text.strip(), "empty answer"
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    events = _audit(a)
    assert len(events) == len(questions) + 80
    assert {e[1] for e in events} == {"ok"} and {e[2] for e in events} == set(questions)


def test_group_commit_returns_only_once_the_row_is_committed(engine: Any) -> None:
    gc = GroupCommit(engine)
    other = make_session_factory(engine)
    seen_late: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(12)

    def worker(i: int) -> None:
        try:
            start.wait()
            for k in range(15):
                detail = f"gc-{i}-{k}"
                gc.append(AuditEntry(actor=f"U{i}", action="command", outcome="ok", detail=detail))
                with other() as s:  # a separate connection sees it at once: it was committed before append returned
                    n = s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.detail == detail))
                if n != 1:
                    seen_late.append(detail)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and seen_late == []
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == 180
    assert gc.rows == 180 and 1 <= gc.batches <= 180
    assert group_commit(engine) is group_commit(engine)


def test_a_failed_group_commit_raises_in_every_request_of_the_batch_and_the_next_one_works(tmp_path: Path) -> None:
    # A database without the audit table: every commit fails.
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    gc = GroupCommit(engine)
    outcomes: list[str] = []

    def worker() -> None:
        try:
            gc.append(AuditEntry(actor="U1", action="command", outcome="ok"))
            outcomes.append("returned")
        except Exception as e:
            outcomes.append(type(e).__name__)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert outcomes == ["OperationalError"] * 6
    with pytest.raises(ValueError):
        gc.append(AuditEntry(actor="U1", action="command", outcome="maybe"))  # checked before it is queued
    AuditEvent.__table__.create(engine)
    gc.append(AuditEntry(actor="U1", action="command", outcome="ok"))  # no leader left stuck by the failures
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == 1
    engine.dispose()


def test_generation_reader_survives_a_cut_connection_and_pings_after_idle(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    read = generation_reader(runtime.engine)
    assert read("suffolk", "wanted") == 0
    with runtime.sessions() as s, s.begin():
        s.add(
            ImportBatch(
                force="suffolk", dataset="wanted", file_name="a.csv", file_sha256="2" * 64, as_of=dt.date(2026, 11, 1)
            )
        )
    first = read("suffolk", "wanted")
    assert first > 0
    read._local.conn.close()  # cut behind its back (a database restart, a killed backend)
    assert read("suffolk", "wanted") == first  # read again on a new connection
    monkeypatch.setattr(reader, "IDLE_PING_S", -1.0)  # every use now counts as after an idle spell: pinged first
    kept = read._local.conn
    assert read("suffolk", "wanted") == first and read._local.conn is kept


def test_group_commit_replaces_a_cut_connection(engine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    gc = GroupCommit(engine)
    gc.append(AuditEntry(actor="U1", action="command", outcome="ok", detail="one"))
    gc._conn.close()
    with pytest.raises(Exception):  # noqa: B017 — whatever the driver raises for a closed connection
        gc.append(AuditEntry(actor="U1", action="command", outcome="ok", detail="lost"))
    gc.append(AuditEntry(actor="U1", action="command", outcome="ok", detail="two"))
    monkeypatch.setattr(audit, "IDLE_PING_S", -1.0)
    gc.append(AuditEntry(actor="U1", action="command", outcome="ok", detail="three"))  # pinged, then written
    with Session(engine) as s:
        assert list(s.scalars(select(AuditEvent.detail).order_by(AuditEvent.id))) == ["one", "two", "three"]


def test_count_answers_commit_without_waiting_for_the_flush_and_disclosures_wait_for_it(engine: Any) -> None:
    """PostgreSQL: a batch of count answers commits with synchronous_commit off (committed before the answer,
    flushed within the WAL writer's rounds); a batch that discloses case records waits for its flush."""
    gc = GroupCommit(engine)

    def flush_mode() -> str | None:
        if engine.dialect.name != "postgresql":
            return None  # SQLite: synchronous=NORMAL for every write (bot.db)
        cur = gc._conn.cursor()
        cur.execute("SHOW synchronous_commit")
        mode = cur.fetchone()[0]
        cur.close()
        return mode

    pg = engine.dialect.name == "postgresql"
    gc.append(AuditEntry(actor="U1", action="command", outcome="ok", detail="wanted"))
    assert flush_mode() == ("off" if pg else None)
    gc.append(AuditEntry(actor="U1", action="command", outcome="ok", detail="wanted --list", records_disclosed=12))
    assert flush_mode() == ("on" if pg else None)
    gc.append(AuditEntry(actor="U1", action="command", outcome="ok", detail="bail"))
    assert flush_mode() == ("off" if pg else None)
    with Session(engine) as s:
        rows = s.execute(select(AuditEvent.detail, AuditEvent.records_disclosed).order_by(AuditEvent.id)).all()
    assert [tuple(r) for r in rows] == [("wanted", 0), ("wanted --list", 12), ("bail", 0)]


def test_answers_learn_of_imports_without_a_read_per_answer(
    two_processes: tuple[Runtime, Runtime], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each process keeps the latest import batches in memory (SQLite: read again at most every POLL_S;
    PostgreSQL: pushed): its own import is known when the commit returns, another's shortly after, and when the
    memory has nothing to say the answer reads the database itself."""
    monkeypatch.setattr(poller, "POLL_S", 0.05)
    a, b = two_processes
    today = today_in(a.clock, a.config.force("suffolk").timezone)
    source_a, source_b = generation_source(a.engine), generation_source(b.engine)
    assert source_a is not None and source_b is not None
    if isinstance(source_a, GenerationWatcher):
        assert source_a.wait_ready(5) and source_b.wait_ready(5)
    before = source_a.get("suffolk", "wanted")
    assert before is not None and before > 0  # the demo's import

    _import_one_more_wanted(b, today)
    with b.sessions() as s:
        latest = s.scalar(select(func.max(ImportBatch.id)).where(ImportBatch.dataset == "wanted"))
    assert latest > before
    assert source_b.get("suffolk", "wanted") == latest  # the importing process: at once
    deadline = time.monotonic() + 5
    while source_a.get("suffolk", "wanted") != latest and time.monotonic() < deadline:
        time.sleep(0.01)
    assert source_a.get("suffolk", "wanted") == latest  # the other: within a poll, or a notification

    # Nothing known (a failed poll, a listener reconnecting): the answer reads the database itself.
    monkeypatch.setattr(type(source_a), "get", lambda self, force, dataset: None)
    assert Reads(a.engine, a.sessions).generation("suffolk", "wanted") == latest
