"""Migration 0011 (slack_file_import, watch) on a database that already holds data: the data stays, the table comes and
goes with its migration. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from alembic import command
from sqlalchemy import inspect, select, text

from bot.db import alembic_config, make_engine, make_session_factory
from bot.models import ImportBatch, SlackFileImport
from tests.support.database import IS_PG


def test_an_existing_database_migrates_and_keeps_its_data(fresh_url: str) -> None:
    cfg = alembic_config(fresh_url)
    command.upgrade(cfg, "0007")
    engine = make_engine(fresh_url)
    try:
        with engine.begin() as c:
            c.execute(
                text(
                    "INSERT INTO import_batch (force, dataset, file_name, file_sha256, as_of, snapshot, rows_in_file, "
                    "rows_added, rows_updated, rows_closed, rows_unchanged, imported_at, imported_by) VALUES "
                    "('suffolk', 'wanted', 'w.csv', 'ab', '2026-11-01', false, 3, 3, 0, 0, 0, :at, 'cli:x')"
                ),
                {"at": dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC) if IS_PG else "2026-11-01 09:00:00"},
            )
        assert "slack_file_import" not in inspect(engine).get_table_names()
        command.upgrade(cfg, "head")
        sessions = make_session_factory(engine)
        now = dt.datetime(2026, 11, 23, 10, tzinfo=dt.UTC)
        with sessions() as s, s.begin():
            s.add(
                SlackFileImport(
                    token="t1", kind="confirm", state="pending", team_id="T1", user_id="U1", force="suffolk",
                    channel_id="D1", thread_ts="1.2", file_id="F1", file_name="w.csv", file_url="https://x/y",
                    file_sha256="ab", dataset="wanted", as_of=None, snapshot=True, would_close=2, created_at=now,
                    expires_at=now + dt.timedelta(minutes=15),
                )
            )  # fmt: skip
        with sessions() as s:
            assert s.scalars(select(ImportBatch.file_name)).all() == ["w.csv"]
            assert s.scalars(select(SlackFileImport.token)).all() == ["t1"]
        engine.dispose()
        command.downgrade(cfg, "0007")
        assert {"slack_file_import", "watch"}.isdisjoint(inspect(engine).get_table_names())
        with sessions() as s:
            assert s.scalars(select(ImportBatch.file_name)).all() == ["w.csv"]
        engine.dispose()
        command.upgrade(cfg, "head")
        assert {"slack_file_import", "watch"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
