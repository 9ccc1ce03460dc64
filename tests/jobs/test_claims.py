"""The claim store: one holder per run, lease takeover, bounded retries — on SQLite and PostgreSQL, and racing
threads with separate engines (connection pools) on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import FixedClock
from bot.db import make_engine, make_session_factory
from jobs.claims import ABANDONED, CLAIMED, FAILED, POSTED, ClaimStore, RunKey
from tests.support.database import IS_PG

KEY = RunKey("monthly_summary", "2026-11", "suffolk", "C0SUMMARY")
AT = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def _store(
    sessions: sessionmaker[Session],
    clock: FixedClock,
    max_attempts: int = 5,
    retry_after: dt.timedelta = dt.timedelta(minutes=15),
) -> ClaimStore:
    return ClaimStore(
        sessions, clock, lease=dt.timedelta(minutes=10), max_attempts=max_attempts, retry_after=retry_after
    )


def test_one_holder_and_nothing_after_posted(sessions: sessionmaker[Session]) -> None:
    clock = FixedClock(AT)
    a, b = _store(sessions, clock), _store(sessions, clock)
    claim = a.claim(KEY, AT)
    assert claim is not None and claim.holder == a.holder != b.holder and claim.attempts == 1 and claim.steps_done == 0
    assert b.claim(KEY, AT) is None  # live lease
    assert a.claim(KEY, AT) is None  # not even the holder claims twice
    assert a.record_step(claim, 1, posted_ts="1.000100")
    assert a.finish(claim, "posted")
    clock.advance(dt.timedelta(days=1))
    assert b.claim(KEY, AT) is None  # posted is final
    row = a.get(KEY)
    assert row is not None
    assert (row.status, row.posted_ts, row.holder, row.attempts) == (POSTED, "1.000100", a.holder, 1)
    assert row.finished_at == AT


def test_expired_lease_is_taken_over_and_the_old_holder_is_fenced_off(sessions: sessionmaker[Session]) -> None:
    clock = FixedClock(AT)
    dead, alive = _store(sessions, clock), _store(sessions, clock)
    old = dead.claim(KEY, AT)
    assert old is not None
    assert dead.record_step(old, 1, posted_ts="1.000200")
    clock.advance(dt.timedelta(minutes=9))
    assert alive.claim(KEY, AT) is None  # lease (renewed by the step at +0) still live
    clock.advance(dt.timedelta(minutes=1, seconds=1))
    new = alive.claim(KEY, AT)
    assert new is not None and new.holder == alive.holder and new.attempts == 2
    # The takeover resumes where the dead holder stopped.
    assert (new.steps_done, new.posted_ts) == (1, "1.000200")
    # The old holder, if it was only slow, can no longer write.
    assert not dead.record_step(old, 2)
    assert not dead.finish(old, "late finish")
    assert alive.finish(new, "done")
    row = alive.get(KEY)
    assert row is not None and row.status == POSTED and row.detail == "done"


def test_failure_waits_then_retries_and_gives_up_after_max_attempts(sessions: sessionmaker[Session]) -> None:
    clock = FixedClock(AT)
    s = _store(sessions, clock, max_attempts=3, retry_after=dt.timedelta(minutes=15))
    c1 = s.claim(KEY, AT)
    assert c1 is not None
    out = s.fail(c1, "not_in_channel")
    assert out.will_retry and out.next_attempt_at == AT + dt.timedelta(minutes=15)
    row = s.get(KEY)
    assert row is not None and (row.status, row.last_error) == (FAILED, "not_in_channel")
    assert [r.id for r in s.due_for_retry()] == []
    clock.advance(dt.timedelta(minutes=14))
    assert s.claim(KEY, AT) is None  # still waiting
    clock.advance(dt.timedelta(minutes=1))
    assert [r.id for r in s.due_for_retry()] == [row.id]
    c2 = s.claim(KEY, AT)
    assert c2 is not None and c2.attempts == 2
    out2 = s.fail(c2, "http_503")
    assert out2.next_attempt_at == clock.now() + dt.timedelta(minutes=30)  # the wait doubles
    clock.advance(dt.timedelta(minutes=30))
    c3 = s.claim(KEY, AT)
    assert c3 is not None and c3.attempts == 3
    out3 = s.fail(c3, "http_503")
    assert not out3.will_retry and out3.next_attempt_at is None
    clock.advance(dt.timedelta(days=1))
    assert s.claim(KEY, AT) is None
    row = s.get(KEY)
    assert row is not None and row.status == ABANDONED and row.attempts == 3


def test_a_claim_whose_holder_died_on_its_last_attempt_is_abandoned_once(sessions: sessionmaker[Session]) -> None:
    clock = FixedClock(AT)
    s = _store(sessions, clock, max_attempts=1)
    c = s.claim(KEY, AT)
    assert c is not None
    clock.advance(dt.timedelta(minutes=11))
    assert s.claim(KEY, AT) is None  # no attempts left to take over with
    (stuck,) = s.stuck()
    assert s.abandon(stuck.id, "holder died")
    assert not s.abandon(stuck.id, "holder died")  # a second replica does not report it again
    row = s.get(KEY)
    assert row is not None and row.status == ABANDONED


def test_runs_are_unique_per_job_period_scope_and_channel(sessions: sessionmaker[Session]) -> None:
    clock = FixedClock(AT)
    s = _store(sessions, clock)
    keys = [
        KEY,
        RunKey(KEY.job, KEY.period, KEY.scope, "C0OTHER"),
        RunKey(KEY.job, KEY.period, "suffolk:ipswich", KEY.channel),
        RunKey(KEY.job, "2026-12", KEY.scope, KEY.channel),
        RunKey("bail_digest", KEY.period, KEY.scope, KEY.channel),
    ]
    claims = [s.claim(k, AT) for k in keys]
    assert all(c is not None for c in claims)
    assert len({c.id for c in claims if c}) == len(keys)
    assert s.existing(KEY.job, ["2026-11", "2026-12"]) == {
        ("2026-11", "suffolk", "C0SUMMARY"),
        ("2026-11", "suffolk", "C0OTHER"),
        ("2026-11", "suffolk:ipswich", "C0SUMMARY"),
        ("2026-12", "suffolk", "C0SUMMARY"),
    }
    assert {r.status for r in s.runs()} == {CLAIMED}


def _race(db_url: str, n: int, work: Callable[[ClaimStore], object]) -> list[object]:
    """Run ``work(store)`` in ``n`` threads at once, each with its own engine (as separate replicas would)."""
    engines: list[Engine] = [make_engine(db_url) for _ in range(n)]
    clock = FixedClock(AT + dt.timedelta(minutes=30))
    barrier = threading.Barrier(n)
    results: list[object] = [None] * n
    errors: list[BaseException] = []

    def go(i: int) -> None:
        try:
            store = _store(make_session_factory(engines[i]), clock)
            barrier.wait()
            results[i] = work(store)
        except BaseException as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for e in engines:
        e.dispose()
    assert not errors, errors
    return results


@pytest.mark.postgres_only
@pytest.mark.skipif(not IS_PG, reason="several replicas racing needs PostgreSQL (SQLite serves one process)")
def test_racing_replicas_on_postgresql_claim_exactly_once(db_url: str, sessions: sessionmaker[Session]) -> None:
    for round_ in range(5):
        key = RunKey("monthly_summary", f"2026-0{round_ + 1}", "suffolk", "C0SUMMARY")
        got = _race(db_url, 8, lambda store, k=key: store.claim(k, AT))
        assert sum(1 for c in got if c is not None) == 1, got
    # Takeover races: the lease of a dead holder expired; eight replicas try to take it over at once.
    clock = FixedClock(AT)
    dead = _store(sessions, clock)
    key = RunKey("bail_digest", "2026-12-01", "suffolk", "C0BAIL")
    assert dead.claim(key, AT) is not None
    got = _race(db_url, 8, lambda store: store.claim(key, AT))
    winners = [c for c in got if c is not None]
    assert len(winners) == 1 and winners[0].attempts == 2
