"""Migration 0015 (the per-day changes of each import's revisions) on a database that already holds revised rows:
it starts empty and untrusted, so the figures at past dates read the rows as before and do not change; the next
import of the dataset builds every import's changes, and from then the figures read them — still unchanged.
SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from alembic import command
from sqlalchemy import func, select

from bot.config import Config
from bot.db import alembic_config, make_engine, make_session_factory
from bot.figures import bail_figures, monthly_series
from bot.figures.revisions import deltas_current
from bot.importing.service import import_file
from bot.importing.types import ImportRequest
from bot.models import RevisionDelta

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
HEADER = "reference,offence,district,kind,started_on,bail_end_on,ended_on,outcome\n"
FILES = [
    (dt.date(2024, 3, 10), "B1,theft,ipswich,bail,2024-01-02,2024-03-01,,\nB2,theft,ipswich,rui,2024-01-05,,,\n"),
    (dt.date(2024, 3, 20), "B1,theft,ipswich,bail,2024-01-02,2024-06-01,,\nB2,theft,ipswich,rui,2024-01-05,,,\n"),
    (dt.date(2024, 4, 2), "B1,theft,ipswich,bail,2024-01-02,2024-06-01,2024-04-01,charged\n"),
]


def test_an_existing_database_answers_the_same_before_and_after_its_first_import_since(
    fresh_url: str, config: Config, tmp_path: Path
) -> None:
    cfg = alembic_config(fresh_url)
    command.upgrade(cfg, "head")
    engine = make_engine(fresh_url)
    sessions = make_session_factory(engine)
    force = config.force("suffolk")

    def load(i: int) -> None:
        as_of, rows = FILES[i]
        path = tmp_path / f"bail-{i}.csv"
        path.write_text(HEADER + rows)
        with sessions() as s:
            assert import_file(s, config, ImportRequest(dataset="bail", path=path, as_of=as_of), NOW).ok
            s.commit()

    def figures() -> list[object]:
        with sessions() as s:
            out: list[object] = []
            for d in (dt.date(2024, 3, 15), dt.date(2024, 3, 31), dt.date(2024, 4, 1), dt.date(2024, 4, 2)):
                fig = bail_figures(s, force, d, ending_within_days=14)
                out.append(dataclasses.replace(fig, data_as_of=None))  # the import time moves with each import
            out.append(monthly_series(s, "bail", force, dt.date(2024, 4, 1), 3, kind="bail"))
            return out

    try:
        load(0)
        load(1)
        before = figures()
        engine.dispose()
        # The database as it was before 0015: no changes kept. Upgraded, it answers from the rows.
        command.downgrade(cfg, "0014")
        command.upgrade(cfg, "head")
        with sessions() as s:
            assert not deltas_current(s, "suffolk", "bail", config.wanted_review_days)
            assert s.scalar(select(func.count()).select_from(RevisionDelta)) == 0
        assert figures() == before
        load(2)  # the next import builds every import's changes, not only its own
        with sessions() as s:
            assert deltas_current(s, "suffolk", "bail", config.wanted_review_days)
            revised_on = set(s.scalars(select(RevisionDelta.revised_on)))
        assert revised_on == {dt.date(2024, 3, 20), dt.date(2024, 4, 2)}
        after = figures()
        # Before the new import's date the figures are as known then, unchanged (on 1 April the bail was not yet
        # known to have ended that day); from its date on they see it.
        assert after[:3] == before[:3] and after[4] == before[4]
        assert (before[3].active_bail, after[3].active_bail) == (1, 0)
    finally:
        engine.dispose()
