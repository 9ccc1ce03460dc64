"""Migration 0023 (the rows naming a person beside the people of each group and day) on a database whose
aggregates were counted without them: it empties and unstamps them, so the answers read the rows — "2 people on the
3 with a person reference", not "none" from a column nobody counted — until the dataset's next import counts them
whole again. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from alembic import command
from sqlalchemy import func, select

from bot.config import Config
from bot.db import alembic_config, make_engine, make_session_factory
from bot.figures import wanted_figures
from bot.figures.outcomes import with_outcomes
from bot.figures.people_ahead import people_from_aggregate
from bot.figures.types import Filters, People
from bot.importing.service import import_file
from bot.importing.types import ImportRequest
from bot.models import AheadState, PeopleAhead

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
AS_OF = dt.date(2026, 11, 20)
HEADER = "reference,person_ref,offence,district,reason,circulated_on,closed_on,status\n"
ROWS = (
    "W1,P1,theft,ipswich,never_arrested,2026-09-01,,open\n"
    "W2,P1,theft,ipswich,never_arrested,2026-10-01,,open\n"
    "W3,P2,burglary,lowestoft,bail_breach,2026-10-02,,open\n"
    "W4,,theft,ipswich,never_arrested,2026-10-03,,open\n"  # names nobody
)


def test_aggregates_counted_without_named_rows_are_recounted_not_read(
    fresh_url: str, config: Config, tmp_path: Path
) -> None:
    cfg = alembic_config(fresh_url)
    command.upgrade(cfg, "head")
    engine = make_engine(fresh_url)
    sessions = make_session_factory(engine)
    force = config.force("suffolk")

    def load(name: str, rows: str) -> None:
        path = tmp_path / name
        path.write_text(HEADER + rows)
        with sessions() as s:
            assert import_file(s, config, ImportRequest(dataset="wanted", path=path, as_of=AS_OF), NOW).ok
            s.commit()

    def answer() -> tuple[int | None, int | None, People | None]:
        with sessions() as s:
            fig = with_outcomes(s, wanted_figures(s, force, AS_OF), force, Filters())
            return fig.people, fig.named_rows, people_from_aggregate(s, "wanted", "suffolk", AS_OF, Filters())

    try:
        load("first.csv", ROWS)
        assert answer() == (2, 3, People(2, 3))
        engine.dispose()
        # The database as it was before 0023: people counted, no named rows. Upgraded, the rows answer.
        command.downgrade(cfg, "0022")
        command.upgrade(cfg, "head")
        with sessions() as s:
            assert s.scalar(select(func.count()).select_from(PeopleAhead)) == 0
            assert s.scalar(select(func.count()).select_from(AheadState)) == 0
        assert answer() == (2, 3, None)
        load("second.csv", ROWS + "W5,P3,theft,ipswich,never_arrested,2026-11-01,,open\n")
        assert answer() == (3, 4, People(3, 4))  # counted whole again by the import
    finally:
        engine.dispose()
