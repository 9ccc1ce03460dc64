"""Coverage: an import covers from its as-of date, or from the earlier date it declares (--covers-from); a
dataset is complete from the earliest of them but never before the latest retention purge; figures before it
give no number. Rows already past retention are never loaded. And an existing database migrates to the schema
that records this, keeping its data."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from alembic import command
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from bot.config import Config, Force, load_config
from bot.coverage import covered_from, is_covered
from bot.db import alembic_config, make_engine, make_session_factory
from bot.figures import figures_to_json, wanted_figures
from bot.importing.service import import_file
from bot.importing.types import ImportReport, ImportRequest
from bot.models import SINCE_EVER, MonthFlow, WantedCirculation
from bot.retention import purge_force
from commands.cli.import_cmd import render

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
HEADER = "reference,offence,district,reason,circulated_on,closed_on,status"


def export(tmp_path: Path, name: str = "w.csv") -> Path:
    p = tmp_path / name
    p.write_text(
        f"{HEADER}\nW1,burglary,ipswich,never_arrested,2026-03-02,,open\n"
        "W2,theft,ipswich,never_arrested,2026-01-10,2026-02-01,closed\n"
    )
    return p


def run(session: Session, config: Config, path: Path, **kw) -> ImportReport:
    report = import_file(session, config, ImportRequest(dataset="wanted", path=path, force="suffolk", **kw), NOW)
    if report.ok:
        session.commit()
    else:
        session.rollback()
    return report


def test_an_import_covers_from_its_as_of_date_unless_it_declares_more(
    session: Session, config: Config, tmp_path: Path
) -> None:
    assert covered_from(session, "suffolk", "wanted") is None
    plain = run(session, config, export(tmp_path), as_of=dt.date(2026, 10, 31))
    assert plain.ok and plain.covered_from == [dt.date(2026, 10, 31)]
    assert "covers from its as-of date 2026-10-31 on" in render(plain)
    assert "--covers-from YYYY-MM-DD" in render(plain)

    declared = run(session, config, export(tmp_path), as_of=dt.date(2026, 11, 20), covers_from=dt.date(2026, 1, 1))
    assert declared.ok and declared.covered_from == [dt.date(2026, 1, 1)]
    assert "covers every case open on or after 2026-01-01 (--covers-from)" in render(declared)
    assert "suffolk wanted figures are complete from 2026-01-01" in render(declared)
    assert covered_from(session, "suffolk", "wanted") == dt.date(2026, 1, 1)
    assert covered_from(session, "norfolk", "wanted") is None  # one force's coverage is its own

    force = config.force("suffolk")
    before = figures_to_json(wanted_figures(session, force, dt.date(2025, 12, 31)))
    assert before["covered"] is False and "open" not in before
    assert before["covered_from"] == "2026-01-01"
    on = figures_to_json(wanted_figures(session, force, dt.date(2026, 1, 1)))
    assert on["covered"] is True and on["open"] == 0
    assert figures_to_json(wanted_figures(session, force, dt.date(2026, 3, 2)))["open"] == 1


def test_covers_from_after_the_as_of_date_is_refused(session: Session, config: Config, tmp_path: Path) -> None:
    report = run(session, config, export(tmp_path), as_of=dt.date(2026, 10, 31), covers_from=dt.date(2026, 11, 1))
    assert not report.ok
    assert report.refused is not None and "--covers-from 2026-11-01 is after" in report.refused
    assert covered_from(session, "suffolk", "wanted") is None


def test_a_retention_purge_moves_coverage_forward(session: Session, config: Config, tmp_path: Path) -> None:
    run(session, config, export(tmp_path), as_of=dt.date(2026, 10, 31), covers_from=dt.date(2026, 1, 1))
    purge_force(session, "suffolk", dt.date(2026, 3, 1), "job:retention", NOW)
    session.commit()
    # W2 (closed 1 Feb) is gone, so a figure for January would miss it: coverage starts at the cutoff.
    assert covered_from(session, "suffolk", "wanted") == dt.date(2026, 3, 1)
    assert not is_covered(dt.date(2026, 3, 1), dt.date(2026, 2, 28))
    purge_force(session, "suffolk", dt.date(2026, 2, 1), "job:retention", NOW)  # an older cutoff never moves it back
    session.commit()
    assert covered_from(session, "suffolk", "wanted") == dt.date(2026, 3, 1)


def _force() -> Force:
    return load_config().force("suffolk")


def test_an_existing_database_migrates_and_keeps_its_data(fresh_url: str) -> None:
    cfg = alembic_config(fresh_url)
    command.upgrade(cfg, "0007")
    engine = make_engine(fresh_url)
    try:
        with engine.begin() as c:
            c.execute(
                text(
                    "INSERT INTO import_batch (force, dataset, file_name, file_sha256, as_of, snapshot, rows_in_file,"
                    " rows_added, rows_updated, rows_closed, rows_unchanged, imported_at, imported_by) VALUES "
                    "('suffolk', 'wanted', 'w.csv', :sha, :as_of, :f, 1, 1, 0, 0, 0, :at, 'cli')"
                ),
                {"sha": "0" * 64, "as_of": dt.date(2026, 6, 30), "f": False, "at": NOW},
            )
            c.execute(
                text(
                    "INSERT INTO wanted (force, reference, offence, district, reason, circulated_on, status, "
                    "import_batch_id) VALUES ('suffolk', 'W1', 'burglary', 'ipswich', 'never_arrested', :d, "
                    "'open', 1)"
                ),
                {"d": dt.date(2026, 3, 2)},
            )
        command.upgrade(cfg, "head")
        sessions = make_session_factory(engine)
        with sessions() as s:
            assert s.execute(text("SELECT reference FROM wanted")).scalars().all() == ["W1"]
            # An import from before coverage was recorded covers from its as-of date.
            assert covered_from(s, "suffolk", "wanted") == dt.date(2026, 6, 30)
            # Its rows are their own first version: the history starts at the migration.
            assert s.execute(text("SELECT valid_from FROM wanted")).scalar() in (SINCE_EVER, SINCE_EVER.isoformat())
            assert s.execute(text("SELECT count(*) FROM wanted_history")).scalar() == 0
            assert wanted_figures(s, _force(), dt.date(2026, 7, 1)).open == 1
        engine.dispose()
        command.downgrade(cfg, "0007")
        command.upgrade(cfg, "head")
        with sessions() as s:
            assert s.execute(text("SELECT count(*) FROM wanted")).scalar() == 1
            assert covered_from(s, "suffolk", "wanted") == dt.date(2026, 6, 30)
    finally:
        engine.dispose()


def test_rows_past_retention_are_never_loaded(session: Session, config: Config, tmp_path: Path) -> None:
    """The purge deletes rows closed longer ago than retention_days; the next import must not add them back."""
    old_close = (NOW.date() - dt.timedelta(days=config.retention_days + 1)).isoformat()
    recent_close = (NOW.date() - dt.timedelta(days=config.retention_days - 1)).isoformat()
    p = tmp_path / "r.csv"
    p.write_text(
        f"{HEADER}\nW1,burglary,ipswich,never_arrested,2015-03-02,{old_close},closed\n"
        f"W2,theft,ipswich,never_arrested,2015-01-10,{recent_close},closed\n"
        "W3,theft,ipswich,never_arrested,2026-01-10,,open\n"
    )
    first = run(session, config, p, as_of=dt.date(2026, 11, 20))  # an initial load, straight into the table
    assert first.ok and (first.added, first.past_retention) == (2, 1)
    assert "1 rows past the retention period (closed more than 2190 days ago), not loaded" in render(first)
    refs = lambda: sorted(session.scalars(select(WantedCirculation.reference)))  # noqa: E731
    assert refs() == ["W2", "W3"]
    again = run(session, config, p, as_of=dt.date(2026, 11, 21))  # the staged merge into a table with rows
    assert again.ok and (again.added, again.updated, again.unchanged, again.past_retention) == (0, 0, 2, 1)
    assert refs() == ["W2", "W3"]
    # A stored open case the export now shows closed past retention goes too, as the purge would take it.
    p.write_text(f"{HEADER}\nW3,theft,ipswich,never_arrested,2015-01-10,{old_close},closed\n")
    last = run(session, config, p, as_of=dt.date(2026, 11, 22))
    assert last.ok and last.past_retention == 1 and refs() == ["W2"]
    month_flows = session.scalar(select(func.sum(MonthFlow.opened)).where(MonthFlow.series == "wanted"))
    assert month_flows == 1
