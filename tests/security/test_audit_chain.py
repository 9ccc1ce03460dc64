"""Tampering with the audit log shows: every row is sealed in a hash chain, `mo-bot audit verify` checks it, and
the daily `audit_check` job tells the admins when it breaks.

The attacks, replayed as SQL on the test database by someone the triggers do not stop — the tables' owner with
the triggers off (PostgreSQL: the superuser's replica mode; SQLite: the triggers dropped, as anyone with the file
can): a row's text changed, a row deleted, a row slipped in without a link, a link's hash changed, a link deleted.

The promises: `mo-bot audit verify` exits 0 on an intact log and prints its head link, and exits 1 naming the
first broken row otherwise (each kind of tampering named for what it is); the daily check DMs every admin with
the break and records a clean check quietly; the chain is right whoever writes the rows — the batch writer of
`/mo` answers, rows in a change's transaction, several processes and threads at once, a transaction committing
long after it wrote its row — and rows written before the chain existed (migration 0006) verify too."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from bot.audit import AuditEntry, append, group_commit, record, record_separately
from bot.audit_chain import GENESIS, verify_chain
from bot.clock import FixedClock
from bot.config import DEFAULTS, JOB_NAMES, _merge, build_config
from bot.db import alembic_config, make_engine, make_session_factory
from bot.models import AuditEvent, AuditSeal, JobRun
from bot.runtime import Runtime
from bot.slack.client import make_client
from commands.cli import main
from jobs.runner import JobRunner
from tests.support.database import IS_PG
from tests.support.fakeslack import FakeSlack, fake_slack  # noqa: F401 - the fixture

ADMIN = "UADMIN001"
NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)


def _entry(i: int, **kw: Any) -> AuditEntry:
    return AuditEntry(actor=f"U{i:08d}", action="command", outcome="ok", detail=f"wanted #{i}", **kw)


def _write_some(sessions, engine: Engine) -> None:
    """Rows the way the bot writes them: alone, with a change (ORM and Core), and batched."""
    record_separately(sessions, _entry(1, force="suffolk", team_id="T0SUFFOLK", channel_id="C0CHAN"))
    with sessions() as s, s.begin():
        record(s, _entry(2, records_disclosed=12, reference="ERR-7"))
        append(s, AuditEntry(actor="cli:dpo", action="export", outcome="ok", detail="née | 12:3 ~ ✓ 𝄞"))
    for i in range(3, 6):
        group_commit(engine).append(_entry(i), at=NOW + dt.timedelta(microseconds=i))


@contextmanager
def triggers_off(engine: Engine) -> Iterator[Any]:
    """A connection on which the audit tables' triggers do not fire (the owner's power), committed at the end."""
    with engine.begin() as c:
        if IS_PG:
            c.execute(text("SET LOCAL session_replication_role = replica"))
            yield c
            return
        kept = c.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ('audit_log', 'audit_seal')"
        ).all()
        for name, _ in kept:
            c.exec_driver_sql(f"DROP TRIGGER {name}")
        yield c
        for _, sql in kept:
            c.exec_driver_sql(sql)


@pytest.fixture
def cli_env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv("MO_CONFIG", raising=False)
    return db_url


def test_every_row_is_sealed_whoever_writes_it_and_verify_says_so(
    engine: Engine, sessions, cli_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_some(sessions, engine)
    if IS_PG:
        # A session in another time zone writes the same instant: the chain hashes UTC.
        with sessions() as s, s.begin():
            s.execute(text("SET LOCAL TIME ZONE 'Pacific/Chatham'"))
            record(s, _entry(6), at=dt.datetime(2026, 3, 29, 0, 30, 0, 1, tzinfo=dt.UTC))
    with sessions() as s:
        report = verify_chain(s)
        links = s.execute(select(AuditSeal.seq, AuditSeal.audit_id).order_by(AuditSeal.seq)).all()
        ids = s.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()
    assert report.ok, report.summary()
    assert [seq for seq, _ in links] == list(range(1, len(ids) + 1))
    assert sorted(a for _, a in links) == ids and report.rows == report.links == len(ids)
    assert report.head_hash != GENESIS

    assert main(["audit", "verify"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"audit log intact: {len(ids)} rows") and report.head_hash in out
    with sessions() as s:
        verified = s.scalars(select(AuditEvent).where(AuditEvent.action == "verify")).one()
        assert (verified.outcome, verified.detail) == ("ok", out.strip())
        assert verify_chain(s).ok  # the audit row of the check is sealed too


TAMPERING = {
    # name: (SQL as the owner with the triggers off, what verify names)
    "row changed": ("UPDATE audit_log SET detail = 'nothing to see' WHERE id = 3", "audit row 3 (link #3): the row or"),
    "row deleted": ("DELETE FROM audit_log WHERE id = 3", "audit row 3 (link #3): the row is gone (deleted)"),
    "row slipped in": (
        "INSERT INTO audit_log (id, at, actor, action, detail, outcome, records_disclosed) "
        "VALUES (99, '2026-11-23 10:00:00', 'U0FORGER1', 'command', 'alibi', 'ok', 0)",
        "audit row 99: the row is not in the chain",
    ),
    "link changed": (f"UPDATE audit_seal SET hash = '{'f' * 64}' WHERE seq = 3", "audit row 3 (link #3): the row or"),
    "link deleted": ("DELETE FROM audit_seal WHERE seq = 3", "link #3: the link is missing (the chain jumps to #4)"),
}


@pytest.mark.parametrize("kind", list(TAMPERING))
def test_verify_names_the_first_broken_row(
    engine: Engine, sessions, cli_env: str, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    _write_some(sessions, engine)
    assert main(["audit", "verify"]) == 0
    capsys.readouterr()
    sql, named = TAMPERING[kind]
    with triggers_off(engine) as c:
        c.exec_driver_sql(sql)
    group_commit(engine).append(_entry(7))  # the log goes on being written after the tampering

    assert main(["audit", "verify"]) == 1
    err = capsys.readouterr().err
    first = err.splitlines()[0] if not err.startswith("mo-bot: note") else err.splitlines()[1]
    assert first.startswith(f"mo-bot: audit log chain broken at {named}"), err
    with sessions() as s:
        report = verify_chain(s)
        failed = s.scalars(select(AuditEvent).where(AuditEvent.action == "verify", AuditEvent.outcome == "error")).one()
    assert not report.ok and failed.detail == report.summary()
    if kind == "link changed":
        assert report.break_count == 2  # its own link, and the next one, which hashes it


# ------------------------------------------------------------------------------------------------ concurrency

WRITER = """
import sys, threading
from bot.audit import AuditEntry, group_commit
from bot.db import make_engine
engine = make_engine(sys.argv[1])
gc = group_commit(engine)
def work(t):
    for i in range(int(sys.argv[3])):
        gc.append(AuditEntry(actor=f"P{sys.argv[2]}T{t}", action="command", outcome="ok", detail=f"#{i}"))
threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
for t in threads: t.start()
for t in threads: t.join()
engine.dispose()
"""


def test_processes_and_threads_writing_at_once_chain_every_row_exactly_once(
    engine: Engine, db_url: str, sessions
) -> None:
    """Three processes with four threads each (batched answers), threads of this process writing rows with a
    change, and one transaction that writes its row first and commits last, after hundreds of later ids."""
    per_thread = 40
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, db_url, str(p), str(per_thread)], stderr=subprocess.PIPE)
        for p in range(3)
    ]
    stop = threading.Event()
    errors: list[BaseException] = []

    def changes(t: int) -> None:
        try:
            own = make_session_factory(engine)
            i = 0
            while not stop.is_set() and i < 60:
                with own() as s, s.begin():
                    record(s, AuditEntry(actor=f"CHANGE{t}", action="change", outcome="ok", detail=f"#{i}"))
                i += 1
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=changes, args=(t,)) for t in range(2)]
    late = Session(engine)
    if IS_PG:  # SQLite has one writer: a transaction holding its row would hold every other writer back
        record(late, AuditEntry(actor="LATE", action="import", outcome="ok", detail="written first, committed last"))
    for t in threads:
        t.start()
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    stop.set()
    for t in threads:
        t.join(60)
    late.commit()
    late.close()
    assert errors == []

    with sessions() as s:
        report = verify_chain(s)
        rows = s.scalar(select(func.count()).select_from(AuditEvent))
        per_actor = dict(s.execute(select(AuditEvent.actor, func.count()).group_by(AuditEvent.actor)).all())
        if IS_PG:
            late_id, late_seq = s.execute(
                select(AuditEvent.id, AuditSeal.seq).join(AuditSeal, AuditSeal.audit_id == AuditEvent.id)
                .where(AuditEvent.actor == "LATE")
            ).one()  # fmt: skip
            # Chained when it committed — last — though hundreds of rows written after it have larger ids.
            assert late_seq == report.head_seq and late_id < s.scalar(select(func.max(AuditEvent.id))) - 100
    assert report.ok, report.summary()
    assert report.links == report.rows == rows
    assert all(per_actor[f"P{p}T{t}"] == per_thread for p in range(3) for t in range(4))


# ------------------------------------------------------------------------------------- rows before the chain


@pytest.mark.skipif(not IS_PG, reason="PostgreSQL's snapshot isolation levels; SQLite writes one at a time")
@pytest.mark.parametrize("level", ["REPEATABLE READ", "SERIALIZABLE"])
def test_an_audit_row_in_a_snapshot_transaction_is_refused_saying_why(sessions, level: str) -> None:
    """The seal reads the chain's last link at commit; a snapshot older than another writer's link would reuse its
    number and fail the commit only when someone else was audited meanwhile. Refused at once, every time."""
    record_separately(sessions, _entry(1))
    with sessions() as s:
        s.connection(execution_options={"isolation_level": level})
        with pytest.raises(DBAPIError) as refused:
            record(s, _entry(2))
        assert f"audit rows are written in READ COMMITTED transactions only, not {level}" in str(refused.value)
        s.rollback()
    with sessions() as s, s.begin():  # the same row in a transaction of the default isolation: written and sealed
        record(s, _entry(2))
    with sessions() as s:
        report = verify_chain(s)
        assert report.ok, report.summary()
        assert report.rows == report.links == 2


def test_rows_written_before_the_chain_existed_are_chained_by_the_migration(fresh_url: str) -> None:
    cfg = alembic_config(fresh_url)
    command.upgrade(cfg, "0005")
    engine = make_engine(fresh_url)
    try:
        with engine.begin() as c:
            for i, (at, detail, force) in enumerate(
                [
                    ("2026-01-01 09:00:00", "wanted", "suffolk"),  # how the batch writer stored instants on SQLite
                    ("2026-01-01 09:00:00.000001", "née | 12:3 ~ ✓ 𝄞", None),
                    ("2026-06-30 23:59:59.999999", "", "norfolk"),
                ],
                start=1,
            ):
                c.execute(
                    text(
                        "INSERT INTO audit_log (at, actor, team_id, channel_id, force, action, detail, outcome, "
                        "records_disclosed, reference) VALUES (:at, :actor, NULL, 'C1', :force, 'command', :detail, "
                        "'ok', :n, NULL)"
                    ),
                    {"at": at if not IS_PG else at + "+00", "actor": f"U{i}", "force": force, "detail": detail, "n": i},
                )
        command.upgrade(cfg, "head")
        sessions = make_session_factory(engine)
        with sessions() as s:
            before = verify_chain(s)
        record_separately(sessions, _entry(4))
        with sessions() as s:
            after = verify_chain(s)
            links = s.execute(select(AuditSeal.seq, AuditSeal.audit_id).order_by(AuditSeal.seq)).all()
        assert before.ok and before.links == before.rows == 3, before.summary()
        assert after.ok and links == [(1, 1), (2, 2), (3, 3), (4, 4)], after.summary()
        # And back: the chain goes with its migration, the log stays; up again, it is chained afresh.
        engine.dispose()
        command.downgrade(cfg, "0005")
        command.upgrade(cfg, "head")
        with sessions() as s:
            again = verify_chain(s)
        assert again.ok and again.links == 4 and again.head_hash == after.head_hash
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------------------------- the daily job


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def rt(db_url: str, engine: Engine, clock: FixedClock) -> Runtime:
    # The other jobs off: the retention purge, due earlier the same night, would add its own audit rows.
    others = {j: {"enabled": False} for j in JOB_NAMES if j != "audit_check"}
    raw = {"slack": {"roles": {"admin": [ADMIN]}}, "jobs": others}
    return Runtime.create(build_config(_merge(DEFAULTS, raw), "test", database_url=db_url), clock=clock, engine=engine)


def _client(fake: FakeSlack) -> Any:
    return make_client(fake.token, fake.base_url, sleep=lambda _s: None)


def test_the_daily_check_is_quiet_when_the_chain_is_intact(
    rt: Runtime,
    clock: FixedClock,
    fake_slack: FakeSlack,  # noqa: F811
) -> None:
    _write_some(rt.sessions, rt.engine)
    clock.set(dt.datetime(2026, 11, 24, 3, 45, tzinfo=dt.UTC))  # 03:45 in London (GMT): the scheduler's tick runs it
    (r,) = [r for r in JobRunner(rt, _client(fake_slack)).tick() if r.key.job == "audit_check"]
    with rt.sessions() as s:
        head = verify_chain(s)
        run = s.scalars(select(JobRun).where(JobRun.job == "audit_check")).one()
        checked = s.scalars(select(AuditEvent).where(AuditEvent.actor == "job:audit_check")).one()
    assert r.outcome == "done" and r.detail.startswith("intact: 6 rows; head #6 ")
    assert (run.period, run.status, run.detail) == ("2026-11-24", "posted", r.detail)
    assert (checked.action, checked.outcome) == ("verify", "ok") and head.head_seq == 7
    assert fake_slack.calls_to("chat.postMessage") == []


def test_the_daily_check_tells_every_admin_when_the_chain_breaks(rt: Runtime, fake_slack: FakeSlack) -> None:  # noqa: F811
    fake_slack.users[ADMIN] = {"id": ADMIN}
    _write_some(rt.sessions, rt.engine)
    with triggers_off(rt.engine) as c:
        c.exec_driver_sql("UPDATE audit_log SET actor = 'U0SOMEONE' WHERE id = 2")
    (r,) = JobRunner(rt, _client(fake_slack)).run_now("audit_check", "2026-11-23")
    assert (r.outcome, r.detail) == ("done", "chain broken at audit row 2 (link #2): the row or its link differs from "
                                     "what was sealed (changed); told 1 admin(s)")  # fmt: skip
    (dm,) = fake_slack.calls_to("chat.postMessage")
    assert dm.params["channel"] == "D" + ADMIN[1:]
    assert "audit row 2 (link #2)" in dm.params["text"] and "mo-bot audit verify" in dm.params["text"]
    with rt.sessions() as s:
        checked = s.scalars(select(AuditEvent).where(AuditEvent.actor == "job:audit_check")).one()
    assert checked.outcome == "error" and "audit row 2" in checked.detail


def test_a_break_nobody_can_be_told_of_fails_the_run(db_url: str, engine: Engine) -> None:
    rt = Runtime.create(build_config(DEFAULTS, "test", database_url=db_url), clock=FixedClock(NOW), engine=engine)
    _write_some(rt.sessions, engine)
    with triggers_off(engine) as c:
        c.exec_driver_sql("DELETE FROM audit_log WHERE id = 1")
    (r,) = JobRunner(rt, None).run_now("audit_check", "2026-11-23")
    assert r.outcome == "failed" and r.detail.startswith("chain broken at audit row 1 (link #1): the row is gone")


def test_the_same_break_is_told_once_and_a_new_one_again(rt: Runtime, fake_slack: FakeSlack) -> None:  # noqa: F811
    fake_slack.users[ADMIN] = {"id": ADMIN}
    _write_some(rt.sessions, rt.engine)
    with triggers_off(rt.engine) as c:
        c.exec_driver_sql("UPDATE audit_log SET actor = 'U0SOMEONE' WHERE id = 2")
    runner = JobRunner(rt, _client(fake_slack))
    (first,) = runner.run_now("audit_check", "2026-11-23")
    (second,) = runner.run_now("audit_check", "2026-11-24")
    assert first.detail.endswith("told 1 admin(s)")
    assert second.outcome == "done" and second.detail.endswith(
        "unchanged since the run of 2026-11-23, which told the admins: not told again"
    )
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    with triggers_off(rt.engine) as c:
        c.exec_driver_sql("DELETE FROM audit_log WHERE id = 4")
    (third,) = runner.run_now("audit_check", "2026-11-25")
    assert third.detail.startswith("chain broken at audit row 2") and "(2 breaks)" in third.detail
    assert third.detail.endswith("told 1 admin(s)")
    (_, dm) = fake_slack.calls_to("chat.postMessage")
    assert "audit row 4" in dm.params["text"] or "link #4" in dm.params["text"]
    with rt.sessions() as s:
        verdicts = s.scalars(
            select(AuditEvent.outcome).where(AuditEvent.actor == "job:audit_check").order_by(AuditEvent.id)
        ).all()
    assert verdicts == ["error", "error", "error"]  # every night's check is audited, told or not
