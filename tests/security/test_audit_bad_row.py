"""One request's audit row that cannot be written never fails another request's row.

The attack: ``/mo wanted --as-of %00`` (a NUL byte in the command text), sent among many legitimate requests.
Rows of concurrent answers are committed together (``GroupCommit``: one multi-row INSERT), and PostgreSQL text
cannot hold NUL, so the whole batch failed: 11.7 % of concurrent legitimate answers got "Sorry, something went
wrong" and had no audit row. A lone surrogate (``\\ud800``, which a JSON payload can carry) does the same on both
databases (it cannot be encoded as UTF-8), and an over-long identifier does on PostgreSQL (``varchar(32)``).

The promise: text is made storable before it reaches the database — NUL and the other control characters are
written as visible symbols (``␀``), a lone surrogate as U+FFFD, an over-long identifier cut to its column with
``…`` — and a batch that still fails (here: a count beyond the column's integer range) is written again row by
row, so only the row that cannot be written fails, and only its own request is told.

The batch is made deterministic: another connection holds the audit table's write lock while the requests
queue, so all of them are written by one leader as one INSERT (as under load)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from bot.audit import AuditEntry, GroupCommit, record_separately
from bot.models import AuditEvent
from tests.support.database import IS_PG

LEGITIMATE = 40


@contextmanager
def audit_table_locked(engine: Engine) -> Iterator[None]:
    """Hold the audit table's write lock from another connection: writers queue until the block ends."""
    with engine.connect() as c:
        if IS_PG:
            c.execute(text("LOCK TABLE audit_log IN EXCLUSIVE MODE"))
        else:
            c.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            c.rollback()


def _concurrently(gc: GroupCommit, engine: Engine, entries: list[AuditEntry]) -> dict[int, str]:
    """Append every entry from its own thread while the table is locked: the first is written alone, and all the
    others queue meanwhile and are written as the next batch, together; returns each entry's outcome."""
    outcomes: dict[int, str] = {}

    def worker(i: int, entry: AuditEntry) -> None:
        try:
            gc.append(entry)
            outcomes[i] = "committed"
        except Exception as e:
            outcomes[i] = f"{type(e).__name__}: {e}"

    def wait_for(done: Callable[[], bool]) -> None:
        deadline = time.monotonic() + 10
        while not done() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert done(), "the requests did not queue behind the lock"

    threads = [threading.Thread(target=worker, args=(i, e)) for i, e in enumerate(entries)]
    with audit_table_locked(engine):
        threads[0].start()  # the first leader: its own row, waiting on the lock
        wait_for(lambda: gc._writing and not gc._queue)
        for t in threads[1:]:
            t.start()
        wait_for(lambda: len(gc._queue) == len(entries) - 1)  # everyone else queued behind it: the next batch
    for t in threads:
        t.join(30)
    return outcomes


def _legit(i: int) -> AuditEntry:
    return AuditEntry(actor=f"U{i:08d}", action="command", outcome="ok", detail=f"wanted #{i}", force="suffolk")


@pytest.mark.parametrize(
    ("bad", "stored"),
    [
        (
            AuditEntry(actor="U0NULSEND", action="command", outcome="invalid", detail="wanted --as-of \x00"),
            ("U0NULSEND", "wanted --as-of \u2400", None),
        ),
        (
            AuditEntry(actor="U0CTRLSND", action="command", outcome="ok", detail="a\x1b[2Jb\rc\x7fd\x85e\tf\ng"),
            ("U0CTRLSND", "a\u241b[2Jb\u240dc\u2421d\ufffde\tf\ng", None),
        ),
        (
            AuditEntry(actor="U0SURROG8", action="command", outcome="ok", detail="wanted \ud800", channel_id="C\udfff"),
            ("U0SURROG8", "wanted \ufffd", "C\ufffd"),
        ),
        (
            AuditEntry(actor="U0LONGCHN", action="command", outcome="ok", detail="wanted", channel_id="C" * 200),
            ("U0LONGCHN", "wanted", "C" * 31 + "…"),
        ),
    ],
    ids=["nul", "controls", "surrogate", "overlong"],
)
def test_a_row_with_unstorable_text_is_stored_escaped_and_fails_no_other_row(
    engine: Engine, bad: AuditEntry, stored: tuple[str, str, str | None]
) -> None:
    gc = GroupCommit(engine)
    gc.append(_legit(-1))  # the writer's connection made before the batches below
    entries = [*map(_legit, range(LEGITIMATE // 2)), bad, *map(_legit, range(LEGITIMATE // 2, LEGITIMATE))]
    outcomes = _concurrently(gc, engine, entries)
    assert outcomes == {i: "committed" for i in range(len(entries))}
    with Session(engine) as s:
        rows = s.execute(select(AuditEvent.actor, AuditEvent.detail, AuditEvent.channel_id)).all()
    assert len(rows) == LEGITIMATE + 2
    assert stored in [tuple(r) for r in rows]


def test_a_row_that_still_cannot_be_written_fails_only_its_own_request(engine: Engine) -> None:
    """A count beyond the column's integer range is not text to escape: the batch fails, and is written again
    row by row, so the one request whose row cannot be written is told and every other row is committed."""
    too_big = 2**63 if not IS_PG else 2**31  # SQLite's INTEGER is 64-bit, PostgreSQL's integer 32-bit
    gc = GroupCommit(engine)
    gc.append(_legit(-1))
    bad = AuditEntry(actor="U0OVERFLW", action="command", outcome="ok", detail="list", records_disclosed=too_big)
    entries = [*map(_legit, range(LEGITIMATE // 2)), bad, *map(_legit, range(LEGITIMATE // 2, LEGITIMATE))]
    outcomes = _concurrently(gc, engine, entries)
    failed = {i: o for i, o in outcomes.items() if o != "committed"}
    assert list(failed) == [LEGITIMATE // 2], outcomes
    with Session(engine) as s:
        actors = s.scalars(select(AuditEvent.actor).order_by(AuditEvent.id)).all()
    assert sorted(actors) == sorted([_legit(i).actor for i in range(-1, LEGITIMATE)])
    gc.append(_legit(LEGITIMATE))  # the writer goes on as before
    assert gc.rows == LEGITIMATE + 2


def test_an_audit_row_written_in_a_transaction_is_made_storable_too(sessions) -> None:
    """The same text rules for the rows written with a change or on their own (not through the batch writer)."""
    record_separately(sessions, AuditEntry(actor="U0NULSEND", action="command", outcome="invalid", detail="x\x00y"))
    with sessions() as s:
        assert s.scalars(select(AuditEvent.detail)).one() == "x\u2400y"
