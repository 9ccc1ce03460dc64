"""PostgreSQL: every process learns of an import from its notification (LISTEN/NOTIFY), not by asking the database
on every answer (bot.import_generations.watcher.GenerationWatcher). An import announces its batches explicitly
(bot.import_generations.announce, as the import service does); `mo-bot import` in a process of its own is covered by
test_import_while_serving.py. On SQLite the latest batches are polled; the hot-path tests cover that."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from bot.config import Config
from bot.db import make_engine, make_session_factory
from bot.import_generations import watcher as watching
from bot.import_generations.announce import announce_imports
from bot.import_generations.batches import ImportedBatch
from bot.import_generations.sources import generation_watcher
from bot.import_generations.watcher import GenerationWatcher
from bot.importing.service import import_file
from bot.importing.types import ImportRequest
from bot.models import ImportBatch
from bot.reads import Reads
from tests.support.database import IS_PG

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(not IS_PG, reason="import notifications are PostgreSQL's LISTEN/NOTIFY"),
]


NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)


def _eventually(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.01)
    return check()


@pytest.fixture
def two_engines(db_url: str) -> Iterator[tuple[Engine, Engine]]:
    """Two engines on one database, as two gunicorn workers (or a worker and `mo-bot import`) have."""
    engines = (make_engine(db_url), make_engine(db_url))
    try:
        yield engines
    finally:
        for e in engines:
            e.dispose()


def _ready_watcher(engine: Engine) -> GenerationWatcher:
    watcher = generation_watcher(engine)
    assert watcher is not None and watcher.wait_ready(5)
    return watcher


def _import(engine: Engine, force: str = "suffolk", dataset: str = "wanted", *, commit: bool = True) -> int:
    with Session(engine) as s:
        batch = ImportBatch(
            force=force, dataset=dataset, file_name="n.csv", file_sha256="3" * 64, as_of=dt.date.today()
        )
        s.add(batch)
        s.flush()
        batch_id = batch.id
        announce_imports(s, [ImportedBatch(force, dataset, batch_id)])  # as the import service does
        if commit:
            s.commit()
        else:
            s.rollback()
    return batch_id


def _latest_in_database(engine: Engine, force: str, dataset: str) -> int:
    with Session(engine) as s:
        return (
            s.scalar(select(func.max(ImportBatch.id)).where(ImportBatch.force == force, ImportBatch.dataset == dataset))
            or 0
        )


def test_an_import_committed_elsewhere_reaches_the_listener_and_a_rolled_back_one_does_not(
    two_engines: tuple[Engine, Engine],
) -> None:
    answering, importing = two_engines
    watcher = _ready_watcher(answering)
    assert watcher.get("suffolk", "wanted") == 0  # nothing imported yet

    first = _import(importing)
    assert _eventually(lambda: watcher.get("suffolk", "wanted") == first)
    assert watcher.get("suffolk", "bail") == 0 and watcher.get("norfolk", "wanted") == 0  # other keys untouched

    undone = _import(importing, "norfolk", "wanted", commit=False)
    later = _import(importing, "suffolk", "bail")
    # Notifications arrive in commit order: once the later import is known, the rolled-back one would have been.
    assert _eventually(lambda: watcher.get("suffolk", "bail") == later)
    assert watcher.get("norfolk", "wanted") == 0 and undone > 0
    assert watcher.get("suffolk", "wanted") == first == _latest_in_database(answering, "suffolk", "wanted")


def test_the_committing_process_knows_its_import_when_commit_returns(two_engines: tuple[Engine, Engine]) -> None:
    engine, _ = two_engines
    watcher = _ready_watcher(engine)
    for _ in range(5):
        batch_id = _import(engine)
        # No waiting here: the commit itself waited for its notification to come back.
        assert watcher.get("suffolk", "wanted") == batch_id


def test_answers_ask_the_database_while_the_listener_is_down_and_it_reconnects(
    two_engines: tuple[Engine, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    answering, importing = two_engines
    monkeypatch.setattr(watching, "RECONNECT_S", (0.3,))
    watcher = _ready_watcher(answering)
    reads = Reads(answering, make_session_factory(answering))
    before = _import(importing)
    assert _eventually(lambda: watcher.get("suffolk", "wanted") == before)

    # Cut the listener's connection, as a database restart or a killed backend would.
    with importing.connect() as c:
        c.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": watcher.backend_pid})
    assert _eventually(lambda: watcher.get("suffolk", "wanted") is None)  # not listening: it says so
    during = _import(importing)  # its notification goes to nobody in this process…
    assert reads.generation("suffolk", "wanted") == during  # …and the answer asked the database instead

    # Reconnected, it reads the ids again: the import it did not hear about is known.
    assert _eventually(lambda: watcher.get("suffolk", "wanted") == during)
    assert watcher.reconnects >= 1
    after = _import(importing)
    assert _eventually(lambda: watcher.get("suffolk", "wanted") == after)


def test_a_disposed_engine_stops_its_listener(db_url: str) -> None:
    engine = make_engine(db_url)
    watcher = _ready_watcher(engine)
    pid = watcher.backend_pid
    engine.dispose()
    watcher._thread.join(timeout=watching.WATCH_TIMEOUT_S + 3)
    assert not watcher._thread.is_alive()
    other = make_engine(db_url)
    try:
        with other.connect() as c:
            assert c.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"), {"p": pid}).scalar() == 0
    finally:
        other.dispose()


def _vacuums(engine: Engine, table: str) -> tuple[int, dt.datetime | None]:
    with engine.connect() as c:
        c.execute(text("SELECT pg_stat_clear_snapshot()"))
        row = c.execute(
            text("SELECT vacuum_count, last_vacuum FROM pg_stat_user_tables WHERE relname = :t"), {"t": table}
        ).one()
    return int(row[0]), row[1]


def test_an_import_is_announced_only_once_its_table_is_vacuumed(
    two_engines: tuple[Engine, Engine], config: Config, tmp_path: Path
) -> None:
    """Every process recomputes its answers when it hears of an import; rows just committed are dear to read until
    a VACUUM (no hint bits, pages not all-visible), so the import vacuums the table it changed before it tells."""
    answering, importing = two_engines
    watcher = _ready_watcher(answering)
    before, _ = _vacuums(importing, "wanted")
    export = tmp_path / "w.csv"
    export.write_text(
        "reference,offence,district,reason,circulated_on,status\nW1,Theft,ipswich,never_arrested,2026-01-05,open\n",
        encoding="utf-8",
    )
    with Session(importing) as s:
        report = import_file(s, config, ImportRequest("wanted", export, as_of=dt.date(2026, 10, 31), actor="t"), NOW)
        assert report.ok
        s.commit()
    assert _eventually(lambda: watcher.get("suffolk", "wanted") == report.batch_ids[0])
    heard_at = dt.datetime.now(dt.UTC)
    after, vacuumed_at = _vacuums(importing, "wanted")
    assert after == before + 1 and vacuumed_at is not None and vacuumed_at <= heard_at


def test_an_import_committed_but_never_announced_is_found_by_the_periodic_reread(
    two_engines: tuple[Engine, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The notification follows the commit (and the VACUUM): an importer killed in between is not heard, so the
    listener reads the ids again every REREAD_S whatever it hears."""
    monkeypatch.setattr(watching, "REREAD_S", 0.5)
    answering, importing = two_engines
    watcher = _ready_watcher(answering)
    with Session(importing) as s:
        batch = ImportBatch(
            force="suffolk", dataset="bail", file_name="k.csv", file_sha256="5" * 64, as_of=dt.date.today()
        )
        s.add(batch)
        s.commit()  # committed, never announced: the importer died before its NOTIFY
        killed = batch.id
    assert _eventually(lambda: watcher.get("suffolk", "bail") == killed, timeout=2 * watching.WATCH_TIMEOUT_S + 2)
