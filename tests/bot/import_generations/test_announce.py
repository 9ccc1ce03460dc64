"""An import announces its batches explicitly: this process's own answers know them when the commit returns — not
before, not at a savepoint, never after a rollback — and on PostgreSQL every other process hears them at commit.
SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.config import Config
from bot.db import make_engine
from bot.import_generations import poller
from bot.import_generations.announce import announce_imports
from bot.import_generations.batches import ImportedBatch
from bot.import_generations.sources import GenerationSource, generation_source, generation_watcher
from bot.import_generations.watcher import GenerationWatcher
from bot.importing.service import import_file
from bot.importing.types import ImportRequest
from bot.models import ImportBatch
from tests.support.database import IS_PG

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
AS_OF = dt.date(2026, 10, 31)
WANTED_HEADER = "reference,offence,district,reason,circulated_on,status"


@pytest.fixture
def source(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> GenerationSource:
    """The engine's source, with a first reading taken; on SQLite never read again during the test, so what it
    knows of an import it was told."""
    monkeypatch.setattr(poller, "POLL_S", 3600.0)
    found = generation_source(engine)
    assert found is not None
    if isinstance(found, GenerationWatcher):
        assert found.wait_ready(5)
    assert found.get("suffolk", "wanted") == 0  # a first reading: nothing imported yet
    return found


def _add_batch(s: Session, force: str, dataset: str) -> ImportedBatch:
    batch = ImportBatch(force=force, dataset=dataset, file_name="a.csv", file_sha256="4" * 64, as_of=AS_OF)
    s.add(batch)
    s.flush()
    return ImportedBatch(force, dataset, batch.id)


def _eventually(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.01)
    return check()


def test_this_process_knows_an_announced_import_when_its_commit_returns_not_at_a_savepoint(
    engine: Engine, source: GenerationSource
) -> None:
    with Session(engine) as s:
        batch = _add_batch(s, "suffolk", "wanted")
        announce_imports(s, [batch])
        assert source.get("suffolk", "wanted") == 0  # not committed: nobody knows
        with s.begin_nested():
            _add_batch(s, "suffolk", "bail")  # unannounced: nobody is told of it
        assert source.get("suffolk", "wanted") == 0  # a savepoint's release is no commit
        started = time.monotonic()
        s.commit()
        assert source.get("suffolk", "wanted") == batch.batch_id  # at once, no waiting here
        assert time.monotonic() - started < 1.0  # on PostgreSQL: its own notification came back
        assert source.get("suffolk", "bail") == 0


def test_a_rolled_back_or_abandoned_announcement_is_never_told(engine: Engine, source: GenerationSource) -> None:
    with Session(engine) as s:
        announce_imports(s, [_add_batch(s, "norfolk", "wanted")])
        s.rollback()
        later = _add_batch(s, "suffolk", "bail")
        announce_imports(s, [later])
        s.commit()  # the same session's next commit tells only what it announced…
        assert source.get("suffolk", "bail") == later.batch_id
        # …and on PostgreSQL, notifications come in commit order: a rolled-back one would have been heard first.
        assert source.get("norfolk", "wanted") == 0

    s = Session(engine)
    announce_imports(s, [_add_batch(s, "norfolk", "suspects")])
    s.close()  # abandoned: closed without a commit
    again = _add_batch(s, "suffolk", "suspects")
    announce_imports(s, [again])
    s.commit()
    s.close()
    assert source.get("suffolk", "suspects") == again.batch_id and source.get("norfolk", "suspects") == 0


def _export(tmp_path: Path, name: str, *rows: str) -> Path:
    path = tmp_path / name
    path.write_text("\n".join([WANTED_HEADER, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def other_engine(db_url: str) -> Iterator[Engine]:
    """A second engine on the database, as another process (a web worker beside `mo-bot import`) has."""
    engine = make_engine(db_url)
    try:
        yield engine
    finally:
        engine.dispose()


def test_the_import_service_announces_the_batches_it_imported_and_nothing_when_refused(
    engine: Engine, other_engine: Engine, source: GenerationSource, config: Config, tmp_path: Path
) -> None:
    elsewhere = generation_watcher(other_engine)  # PostgreSQL: another process's listener; SQLite: none
    if IS_PG:
        assert elsewhere is not None and elsewhere.wait_ready(5)

    good = _export(tmp_path, "good.csv", "W1,Theft,ipswich,never_arrested,2026-01-05,open")
    with Session(engine) as s:
        report = import_file(s, config, ImportRequest("wanted", good, as_of=AS_OF, actor="test"), NOW)
        assert report.ok and report.forces == ["suffolk"]
        s.commit()
    imported = report.batch_ids[0]
    assert source.get("suffolk", "wanted") == imported  # this process: when the commit returned
    if elsewhere is not None:
        assert _eventually(lambda: elsewhere.get("suffolk", "wanted") == imported)  # another: by its notification

    bad = _export(tmp_path, "bad.csv", "W2,Theft,Atlantis,never_arrested,2026-01-05,open")
    with Session(engine) as s:
        refused = import_file(s, config, ImportRequest("wanted", bad, as_of=AS_OF, actor="test"), NOW)
        assert not refused.ok and refused.batch_ids == []
        s.rollback()
        # A later, announced import of another dataset: heard after anything the refused one could have sent.
        marker = _add_batch(s, "suffolk", "bail")
        announce_imports(s, [marker])
        s.commit()
    assert source.get("suffolk", "wanted") == imported
    if elsewhere is not None:
        assert _eventually(lambda: elsewhere.get("suffolk", "bail") == marker.batch_id)
        assert elsewhere.get("suffolk", "wanted") == imported
