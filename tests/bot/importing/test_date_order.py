"""An export older than one already imported for its force and dataset is refused and changes nothing: merged, it
would make the older values current again (closed cases open, extended bail lapsed) and lose the newer ones."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.action_log import service
from bot.action_log.types import ActionChange, Actor
from bot.clock import FixedClock
from bot.config import Config
from bot.demo.exports import write_exports
from bot.figures.wanted import wanted_figures
from bot.importing.types import ImportReport
from bot.models import Action, ActionHistory, ImportBatch, WantedCirculation
from tests.bot.importing.test_unchanged import AS_OF, NOW, WANTED_HEADER, no_merge, run, state

EARLIER = AS_OF - dt.timedelta(days=7)


def _wanted(tmp: Path, name: str, rows: list[str], header: str = WANTED_HEADER) -> Path:
    p = tmp / name
    p.write_text("\n".join([header, *rows]) + "\n")
    return p


@pytest.mark.parametrize("dataset", ["wanted", "suspects", "bail"])
def test_an_older_export_of_both_forces_is_refused_when_staged_and_changes_nothing(
    session: Session, config: Config, tmp_path: Path, dataset: str
) -> None:
    newer = write_exports(tmp_path / "newer", rows=300, end=AS_OF)[dataset]
    older = write_exports(tmp_path / "older", rows=300, end=EARLIER)[dataset]
    assert run(session, config, dataset, newer, NOW, as_of=AS_OF).ok
    before = state(session, config, AS_OF)
    batches = session.scalar(select(func.count()).select_from(ImportBatch))

    report = run(session, config, dataset, older, NOW, as_of=EARLIER)  # forces from the file's force column

    assert report.refused is not None
    assert report.refused.startswith(f"{older.name} is an export as of 24 Oct 2026, ")
    assert f"from a later one: {newer.name}, as of 31 Oct 2026" in report.refused
    assert "overwrite newer values" in report.refused and "--as-of YYYY-MM-DD" in report.refused
    assert state(session, config, AS_OF) == before
    assert session.scalar(select(func.count()).select_from(ImportBatch)) == batches
    # The same as-of date is a correction of that day's export, and a later one is the next export: both import.
    assert run(session, config, dataset, older, NOW, as_of=AS_OF).ok
    assert run(session, config, dataset, newer, NOW, as_of=AS_OF + dt.timedelta(days=1)).ok


def test_with_the_force_given_the_file_is_refused_before_it_is_read(
    session: Session, config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    newer = _wanted(tmp_path, "dec.csv", [
        "W1,theft,ipswich,never_arrested,2026-09-01,,open",
        "W2,theft,ipswich,never_arrested,2026-09-02,2026-10-30,closed",
    ])  # fmt: skip
    older = _wanted(tmp_path, "nov.csv", [
        "W1,theft,ipswich,never_arrested,2026-09-01,,open",
        "W2,theft,ipswich,never_arrested,2026-09-02,,open",
    ])  # fmt: skip
    assert run(session, config, "wanted", newer, NOW, as_of=AS_OF, force="suffolk").ok
    suffolk = config.force("suffolk")
    assert wanted_figures(session, suffolk, AS_OF).open == 1
    before = state(session, config, AS_OF)

    no_merge(monkeypatch)  # neither staged nor loaded
    report = run(session, config, "wanted", older, NOW, as_of=EARLIER, force="suffolk")

    assert report.refused and "from a later one: dec.csv" in report.refused
    assert report.rows_in_file == 0
    assert state(session, config, AS_OF) == before
    # W2 stays closed: the older export's "open" did not come back.
    assert wanted_figures(session, suffolk, AS_OF).open == 1


def test_another_forces_or_datasets_later_export_does_not_refuse_one(
    session: Session, config: Config, tmp_path: Path
) -> None:
    rows = ["W1,theft,ipswich,never_arrested,2026-09-01,,open"]
    assert run(session, config, "wanted", _wanted(tmp_path, "s.csv", rows), NOW, as_of=AS_OF, force="suffolk").ok
    norfolk = _wanted(tmp_path, "n.csv", ["W1,theft,norwich,never_arrested,2026-09-01,,open"])
    assert run(session, config, "wanted", norfolk, NOW, as_of=EARLIER, force="norfolk").ok
    suspects = tmp_path / "sus.csv"
    suspects.write_text("reference,offence,district,identified_on\nS1,theft,ipswich,2026-09-01\n")
    assert run(session, config, "suspects", suspects, NOW, as_of=EARLIER, force="suffolk").ok


def test_an_older_export_into_an_empty_table_is_refused_too(session: Session, config: Config, tmp_path: Path) -> None:
    """A table can be empty after a later import, its rows all past retention: the initial-load path checks as
    well."""
    gone = _wanted(tmp_path, "old-closed.csv", ["W9,theft,ipswich,never_arrested,2015-01-01,2015-02-01,closed"])
    report = run(session, config, "wanted", gone, NOW, as_of=AS_OF)
    assert report.ok and report.past_retention == 1
    assert session.scalar(select(func.count()).select_from(WantedCirculation)) == 0
    before = state(session, config, AS_OF)

    older = _wanted(tmp_path, "older.csv", ["W1,theft,ipswich,never_arrested,2026-09-01,,open"])
    report = run(session, config, "wanted", older, NOW, as_of=EARLIER)  # no --force: the default force

    assert report.refused and "from a later one: old-closed.csv" in report.refused
    assert state(session, config, AS_OF) == before


LOG = "reference,pillar,title,owner,status\nA-1,divert,Warrants data,HH,ongoing\nA-2,detect,Bail app,JM,open\n"
CHAIR = Actor("UCHAIR", role="admin")


def _log(session: Session, config: Config, path: Path, now: dt.datetime, as_of: dt.date | None) -> ImportReport:
    return run(session, config, "actions", path, now, as_of=as_of, force="suffolk")


def test_an_action_log_that_would_undo_a_change_made_in_the_bot_later_is_refused_and_undoes_nothing(
    session: Session, config: Config, tmp_path: Path
) -> None:
    """Owners keep the log in the bot: the file of 31 Oct re-imported after A-1 was completed in Slack on 23 Nov
    would make A-1 ongoing again in the chair's paper."""
    path = tmp_path / "log.csv"
    path.write_text(LOG)
    assert _log(session, config, path, NOW, AS_OF).ok
    # The same log again changes nothing and is no conflict: an import's own history rows do not count.
    assert _log(session, config, path, NOW, AS_OF).ok
    clock = FixedClock(NOW)
    suffolk = config.force("suffolk")
    for ref, change in (("A-1", {"status": "complete"}), ("A-2", {"note": "data at next meeting"})):
        seen = service.load_action(session, suffolk, ref)
        assert seen is not None
        assert service.change_action(session, suffolk, CHAIR, ActionChange(ref, seen.version, **change), clock).ok
    session.commit()
    history = session.scalar(select(func.count()).select_from(ActionHistory))

    report = _log(session, config, path, NOW + dt.timedelta(hours=1), AS_OF)

    assert report.refused == (
        "log.csv is a log as of 31 Oct 2026, but it would undo changes made in the bot since: "
        "A-1 status (23 Nov 2026), A-1 completed_on (23 Nov 2026). Export the log from "
        "the bot (`/mo actions --export`, or `mo-bot actions export`) and edit that, or, if this file already holds "
        "those changes, give its date with --as-of YYYY-MM-DD"
    )
    assert session.scalars(select(Action.status).where(Action.reference == "A-1")).one() == "complete"
    assert session.scalar(select(func.count()).select_from(ActionHistory)) == history
    # A note (A-2) is not undone by an import: a file that agrees with A-1's change imports, as of the old date.
    agreeing = tmp_path / "agreeing.csv"
    agreeing.write_text(LOG.replace("HH,ongoing", "HH,complete"))
    report = _log(session, config, agreeing, NOW + dt.timedelta(hours=1), AS_OF)
    assert report.ok, report.refused
    # A file made on the day of the change (or later) is taken to hold it: imported, as any log is.
    assert _log(session, config, path, NOW + dt.timedelta(hours=2), NOW.date()).ok
    assert session.scalars(select(Action.status).where(Action.reference == "A-1")).one() == "ongoing"


def test_an_action_log_older_than_the_latest_log_import_is_refused(
    session: Session, config: Config, tmp_path: Path
) -> None:
    path = tmp_path / "log.csv"
    path.write_text(LOG)
    assert _log(session, config, path, NOW, AS_OF).ok
    older = tmp_path / "older.csv"
    older.write_text(LOG.replace("ongoing", "open"))
    report = _log(session, config, older, NOW, EARLIER)
    assert report.refused and "the suffolk action log already comes from a later one: log.csv" in report.refused
    assert session.scalars(select(Action.status).where(Action.reference == "A-1")).one() == "ongoing"


def test_an_export_dated_after_today_is_refused_and_the_real_one_still_imports(
    session: Session, config: Config, tmp_path: Path
) -> None:
    """A mistyped year (2027 for 2026) would stand as the latest export: every real one after it would be refused
    as older, for months, with no way round it."""
    future_row = _wanted(tmp_path, "typo.csv", ["F1,theft,ipswich,never_arrested,2027-05-01,,open"])
    real = _wanted(tmp_path, "real.csv", ["W1,theft,ipswich,never_arrested,2026-09-01,,open"])
    before = state(session, config, AS_OF)
    today = NOW.date()

    report = run(session, config, "wanted", future_row, NOW, as_of=dt.date(2027, 6, 1), force="suffolk")

    assert report.refused == (
        "the as-of date 1 Jun 2027 is after today (23 Nov 2026): an export is dated the day it was made, never "
        "later; give that date"
    )
    assert state(session, config, AS_OF) == before
    assert session.scalar(select(func.count()).select_from(ImportBatch)) == 0
    # Today itself is the latest an export can be dated, and a later real export is not blocked.
    assert run(session, config, "wanted", real, NOW, as_of=today, force="suffolk").ok
    assert wanted_figures(session, config.force("suffolk"), today).open == 1
