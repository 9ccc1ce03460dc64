"""An unchanged export imported again records its new as-of date without staging or merging a row — and leaves
the store, the figures and the month flows exactly as a full re-merge of it would."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from bot.config import Config
from bot.demo.exports import write_exports
from bot.figures import cache as fc
from bot.figures.bail import bail_figures
from bot.figures.day_counts import current_state
from bot.figures.json import figures_to_json
from bot.figures.month_flow import flows_current
from bot.figures.revisions import deltas_current
from bot.figures.series import monthly_series
from bot.figures.suspects import suspect_figures
from bot.figures.wanted import wanted_figures
from bot.freshness import dataset_freshness, latest_import
from bot.import_generations import poller
from bot.import_generations.sources import generation_source
from bot.import_generations.watcher import GenerationWatcher
from bot.importing import direct, service, staging, unchanged
from bot.importing.columns import TABLES
from bot.importing.merge import HISTORY
from bot.importing.service import import_file
from bot.importing.types import ImportReport, ImportRequest
from bot.models import AuditEvent, Base, MonthFlowState, WantedCirculation
from bot.retention import purge_force
from commands.cli import main

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
AS_OF = dt.date(2026, 10, 31)
LATER = NOW + dt.timedelta(days=7)
LATER_AS_OF = AS_OF + dt.timedelta(days=7)
WANTED_HEADER = "reference,offence,district,reason,circulated_on,closed_on,status"


def run(session: Session, config: Config, dataset: str, path: Path, now: dt.datetime, **kw: Any) -> ImportReport:
    kw.setdefault("actor", "U_ANALYST")
    report = import_file(session, config, ImportRequest(dataset=dataset, path=path, **kw), now)
    if report.ok:
        session.commit()
    else:
        session.rollback()
    return report


def state(session: Session, config: Config, as_of: dt.date, *, ids: bool = True) -> dict[str, Any]:
    """What a re-import may change: the case rows, their history, the month flows (and whether the series trusts
    them), every force's figures and monthly series at ``as_of``, and each dataset's freshness. Without ``ids``
    the rows' ids and batch ids are left out: a PostgreSQL sequence does not roll back, so rows added by a merge
    that was rolled back and by one that was not differ in them alone."""
    out: dict[str, Any] = {}
    for name in [*TABLES.values(), *HISTORY.values(), "month_flow", "revision_delta", "revision_checkpoint",
                 "count_day", "count_checkpoint"]:  # fmt: skip
        table = Base.metadata.tables[name]
        cols = [c for c in table.columns if ids or c.name not in ("id", "case_id", "import_batch_id")]
        rows = (tuple(r) for r in session.execute(select(*cols)))
        if name == "count_day":  # a merge may leave a day whose moves cancelled out
            rows = (r for r in rows if any(r[7:]))
        out[name] = sorted(rows, key=repr)
    for force in config.forces.values():
        f = force.slug
        out[f"{f} figures"] = [
            figures_to_json(wanted_figures(session, force, as_of)),
            figures_to_json(suspect_figures(session, force, as_of)),
            figures_to_json(bail_figures(session, force, as_of, ending_within_days=14)),
        ]
        out[f"{f} series"] = [
            monthly_series(session, d, force, as_of, 12, kind=k)
            for d, k in (("wanted", None), ("suspects", None), ("bail", "bail"), ("bail", "rui"))
        ]
        out[f"{f} flows current"] = [flows_current(session, f, d) for d in ("wanted", "suspects", "bail")]
        out[f"{f} deltas current"] = [
            deltas_current(session, f, d, config.wanted_review_days) for d in ("wanted", "suspects", "bail")
        ]
        out[f"{f} freshness"] = dataset_freshness(session, config, force, LATER)
        # Whether current, and up to which day (the batch id may differ: PostgreSQL does not roll sequences back).
        states = [current_state(session, f, d, config.wanted_review_days) for d in ("wanted", "suspects", "bail")]
        out[f"{f} day counts"] = [s and (s.review_days, s.first_day, s.anchor) for s in states]
    return out


def full_then_short(
    session: Session, config: Config, dataset: str, path: Path, now: dt.datetime, monkeypatch: pytest.MonkeyPatch,
    ids: bool = True, **kw: Any,
) -> tuple[ImportReport, dict[str, Any], ImportReport, dict[str, Any]]:  # fmt: skip
    """The same import twice from the same state: merged in full (then rolled back), and as import_file takes it
    (committed). Each report with the state it left."""
    with monkeypatch.context() as m:
        m.setattr(unchanged, "find_repeat", lambda *a, **k: None)
        full = import_file(session, config, ImportRequest(dataset=dataset, path=path, actor="U_ANALYST", **kw), now)
        assert full.ok, full
        assert full.unchanged_since is None
        full_state = state(session, config, kw["as_of"], ids=ids)
        session.rollback()
    report = run(session, config, dataset, path, now, **kw)
    assert report.ok, report
    return full, full_state, report, state(session, config, kw["as_of"], ids=ids)


def no_merge(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make staging or loading a row fail: an import that still succeeds read none."""

    def fail(*a: object, **k: object) -> None:
        raise AssertionError("the unchanged file was staged or loaded")

    monkeypatch.setattr(staging, "create_stage", fail)
    monkeypatch.setattr(direct, "load_into_empty_table", fail)


@pytest.fixture
def exports(tmp_path: Path) -> dict[str, Path]:
    """The demo's three exports: two forces, header aliases, UK dates in the suspects file."""
    return write_exports(tmp_path / "demo", rows=400, end=AS_OF)


@pytest.mark.parametrize("dataset", ["wanted", "suspects", "bail"])
@pytest.mark.parametrize("snapshot", [False, True])
def test_an_unchanged_file_records_its_new_as_of_date_and_the_figures_are_a_full_merges(
    session, config, exports, monkeypatch, dataset: str, snapshot: bool
) -> None:
    first = run(session, config, dataset, exports[dataset], NOW, as_of=AS_OF, snapshot=snapshot)
    assert first.ok and first.added > 0 and first.unchanged_since is None
    full, full_state, report, short_state = full_then_short(
        session, config, dataset, exports[dataset], LATER, monkeypatch, as_of=LATER_AS_OF, snapshot=snapshot
    )
    assert (full.added, full.updated, full.closed) == (0, 0, 0)
    assert report.unchanged_since == AS_OF
    assert (report.added, report.updated, report.closed) == (0, 0, 0)
    assert (report.rows_in_file, report.unchanged, report.past_retention) == (
        full.rows_in_file,
        full.unchanged,
        full.past_retention,
    )
    assert report.forces == full.forces == first.forces and len(report.forces) == 2
    assert report.covered_from == full.covered_from
    assert short_state == full_state
    assert all(flows_current(session, f, dataset) for f in report.forces)
    assert all(deltas_current(session, f, dataset, config.wanted_review_days) for f in report.forces)
    for force in report.forces:
        latest = latest_import(session, force, dataset)
        assert latest is not None and latest.id in report.batch_ids
        assert (latest.as_of, latest.imported_at, latest.rows_added, latest.rows_updated) == (LATER_AS_OF, LATER, 0, 0)
        fresh = {f.dataset: f for f in dataset_freshness(session, config, config.force(force), LATER)}[dataset]
        assert (fresh.file_as_of, fresh.imported_at) == (LATER_AS_OF, LATER)
    audit = session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "import")).all()
    assert len(audit) == 4 and all(f"unchanged since the import of {AS_OF}" in d for d in audit[2:])

    # A third time, from the batches the shortcut recorded: no row is read at all.
    with monkeypatch.context() as m:
        no_merge(m)
        again = run(session, config, dataset, exports[dataset], LATER + dt.timedelta(days=1), as_of=LATER_AS_OF)
    assert again.ok and again.unchanged_since == LATER_AS_OF
    rows = [*TABLES.values(), *HISTORY.values(), "month_flow"]
    after = state(session, config, LATER_AS_OF)
    assert {k: after[k] for k in rows} == {k: short_state[k] for k in rows}
    assert all(flows_current(session, f, dataset) for f in again.forces)


def test_a_changed_file_is_merged_in_full(session, config, tmp_path) -> None:
    path = tmp_path / "w.csv"
    path.write_text(f"{WANTED_HEADER}\nW1,Theft,ipswich,never_arrested,2026-01-05,,open\n", encoding="utf-8")
    assert run(session, config, "wanted", path, NOW, as_of=AS_OF).added == 1
    path.write_text(
        f"{WANTED_HEADER}\nW1,Theft,ipswich,never_arrested,2026-01-05,2026-10-01,closed\n", encoding="utf-8"
    )
    report = run(session, config, "wanted", path, LATER, as_of=LATER_AS_OF)
    assert (report.unchanged_since, report.updated) == (None, 1)
    assert session.scalars(select(WantedCirculation.closed_on)).one() == dt.date(2026, 10, 1)


def test_other_settings_an_earlier_as_of_or_a_new_snapshot_merge_in_full(session, config, tmp_path) -> None:
    path = tmp_path / "w.csv"
    path.write_text(f"{WANTED_HEADER}\nW1,Theft,south,never_arrested,2026-01-05,,open\n", encoding="utf-8")
    assert run(session, config, "wanted", path, NOW, as_of=AS_OF).ok
    # --force given where it was not: the same rows here, but read under other settings.
    assert run(session, config, "wanted", path, LATER, as_of=AS_OF, force="suffolk").unchanged_since is None
    assert run(session, config, "wanted", path, LATER, as_of=AS_OF, force="suffolk").unchanged_since == AS_OF
    # An earlier as-of date than the latest import's: not the shortcut, and refused (an older export).
    earlier = run(session, config, "wanted", path, LATER, as_of=AS_OF - dt.timedelta(days=1), force="suffolk")
    assert earlier.refused and "from a later one" in earlier.refused and earlier.unchanged_since is None
    # --snapshot after imports that were not: a re-merge closes the open rows the file lacks.
    snap = run(session, config, "wanted", path, LATER, as_of=AS_OF, force="suffolk", snapshot=True)
    assert snap.ok and snap.unchanged_since is None
    # Another retention period: a re-merge drops other rows.
    longer = dataclasses.replace(config, retention_days=config.retention_days + 1)
    assert run(session, longer, "wanted", path, LATER, as_of=AS_OF, force="suffolk").unchanged_since is None
    # The site moved the alias "south" to another district: the same cell now means Lowestoft.
    suffolk = config.force("suffolk")
    moved = tuple(
        dataclasses.replace(
            d, aliases=tuple(a for a in d.aliases if a != "south") + (("south",) if d.slug == "lowestoft" else ())
        )
        for d in suffolk.districts
    )
    other = dataclasses.replace(
        config, forces={**config.forces, "suffolk": dataclasses.replace(suffolk, districts=moved)}
    )
    report = run(session, other, "wanted", path, LATER, as_of=AS_OF, force="suffolk")
    assert (report.unchanged_since, report.updated) == (None, 1)
    assert session.scalars(select(WantedCirculation.district)).one() == "lowestoft"


def test_a_row_opened_after_the_earlier_snapshot_is_closed_by_a_full_merge(
    session, config, tmp_path, monkeypatch
) -> None:
    """A later export added W2 (opened 5 Nov); the file imported next as a snapshot is as of 31 Oct, so W2 stays
    open. The same file again as of 7 Nov must close W2: a full merge, not the shortcut. An older export is refused
    now (bot/importing/date_order.py); a database whose imports came out of date order before that may still hold
    such a row, so the first two imports here are made with that refusal switched off."""
    later = tmp_path / "later.csv"
    later.write_text(f"{WANTED_HEADER}\nW2,Theft,ipswich,never_arrested,2026-11-05,,open\n", encoding="utf-8")
    assert run(session, config, "wanted", later, NOW, as_of=dt.date(2026, 11, 6), force="suffolk").added == 1
    path = tmp_path / "w.csv"
    path.write_text(f"{WANTED_HEADER}\nW1,Theft,ipswich,never_arrested,2026-01-05,,open\n", encoding="utf-8")
    kw: dict[str, Any] = {"force": "suffolk", "snapshot": True}
    with monkeypatch.context() as m:
        m.setattr(service, "older_export_refusal", lambda *a, **k: None)
        first = run(session, config, "wanted", path, NOW, as_of=AS_OF, **kw)
    assert (first.added, first.closed) == (1, 0)
    full, full_state, report, short_state = full_then_short(
        session, config, "wanted", path, LATER, monkeypatch, ids=False, as_of=LATER_AS_OF, **kw
    )
    assert report.unchanged_since is None and report.closed == full.closed == 1
    assert short_state == full_state
    w2 = session.scalars(select(WantedCirculation).where(WantedCirculation.reference == "W2")).one()
    assert (w2.closed_on, w2.status) == (LATER_AS_OF, "closed")


def _retention_file(tmp_path: Path) -> Path:
    path = tmp_path / "r.csv"
    rows = [
        "R1,Theft,ipswich,never_arrested,2025-12-01,2026-01-20,closed",  # past retention on the first day already
        "R2,Theft,ipswich,never_arrested,2025-12-01,2026-01-28,closed",  # passes retention a few days later
        "R3,Theft,ipswich,never_arrested,2026-03-01,2026-05-01,closed",
        "R4,Theft,ipswich,never_arrested,2026-03-01,,open",
    ]
    path.write_text("\n".join([WANTED_HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def _refs(session: Session) -> list[str]:
    return sorted(session.scalars(select(WantedCirculation.reference)))


def test_a_row_passing_retention_since_is_deleted_by_a_full_merge(session, config, tmp_path, monkeypatch) -> None:
    config = dataclasses.replace(config, retention_days=300)  # the cutoff on 23 Nov 2026: 27 Jan 2026
    path = _retention_file(tmp_path)
    first = run(session, config, "wanted", path, NOW, as_of=AS_OF)
    assert (first.added, first.past_retention, _refs(session)) == (3, 1, ["R2", "R3", "R4"])
    # A week later the cutoff is 3 Feb: R2, stored, is now past retention, and a re-merge deletes it.
    full, full_state, report, short_state = full_then_short(
        session, config, "wanted", path, LATER, monkeypatch, as_of=LATER_AS_OF
    )
    assert report.unchanged_since is None and report.past_retention == full.past_retention == 2
    assert short_state == full_state and _refs(session) == ["R3", "R4"]
    # Imported again the same day: nothing left to drop, so the shortcut, with the same count.
    again = run(session, config, "wanted", path, LATER, as_of=LATER_AS_OF)
    assert (again.unchanged_since, again.past_retention, again.unchanged) == (LATER_AS_OF, 2, 2)


def test_a_purge_past_todays_cutoff_makes_a_full_merge_add_rows_back(session, config, tmp_path, monkeypatch) -> None:
    config = dataclasses.replace(config, retention_days=300)
    path = _retention_file(tmp_path)
    assert run(session, config, "wanted", path, NOW, as_of=AS_OF).added == 3
    # A purge with a later cutoff than the re-import's (run by a clock ahead of it) took R2.
    purge_force(session, "suffolk", dt.date(2026, 2, 10), "test", NOW)
    session.commit()
    assert _refs(session) == ["R3", "R4"]
    tomorrow = NOW + dt.timedelta(days=1)  # cutoff 28 Jan: R2 is within retention, and a re-merge adds it back
    full, full_state, report, short_state = full_then_short(
        session, config, "wanted", path, tomorrow, monkeypatch, ids=False, as_of=AS_OF
    )
    assert report.unchanged_since is None and report.added == full.added == 1
    assert short_state == full_state and _refs(session) == ["R2", "R3", "R4"]


def test_an_import_dated_before_the_earlier_one_adds_back_what_that_one_left_out(
    session, config, tmp_path, monkeypatch
) -> None:
    """The earlier import ran on a later day (its cutoff, 3 Feb, dropped R2); imported again with the clock a week
    earlier (cutoff 27 Jan), a full merge adds R2."""
    config = dataclasses.replace(config, retention_days=300)
    path = _retention_file(tmp_path)
    assert run(session, config, "wanted", path, LATER, as_of=AS_OF).past_retention == 2
    full, full_state, report, short_state = full_then_short(
        session, config, "wanted", path, NOW, monkeypatch, ids=False, as_of=AS_OF
    )
    assert report.unchanged_since is None and report.added == full.added == 1
    assert short_state == full_state and _refs(session) == ["R2", "R3", "R4"]


def test_after_the_nightly_purge_the_shortcut_leaves_what_a_full_merge_leaves(
    session, config, tmp_path, monkeypatch
) -> None:
    config = dataclasses.replace(config, retention_days=300)
    path = _retention_file(tmp_path)
    assert run(session, config, "wanted", path, NOW, as_of=AS_OF).added == 3
    # The purge on the morning of the re-import, with that day's cutoff (3 Feb): it takes R2.
    purge_force(session, "suffolk", dt.date(2026, 2, 3), "job:retention", LATER)
    session.commit()
    full, full_state, report, short_state = full_then_short(
        session, config, "wanted", path, LATER, monkeypatch, as_of=LATER_AS_OF
    )
    assert report.unchanged_since == AS_OF and short_state == full_state
    # The one figure carried over rather than counted: the file's rows past retention, as the first import
    # counted them (R1); a full merge counts R2 too, which the purge deleted meanwhile.
    assert (report.past_retention, full.past_retention) == (1, 2)


def test_flows_that_were_not_current_are_rebuilt(session, config, exports) -> None:
    assert run(session, config, "wanted", exports["wanted"], NOW, as_of=AS_OF).ok
    flows = session.execute(text("SELECT * FROM month_flow ORDER BY 1, 2, 3, 4, 5, 6")).all()
    session.execute(MonthFlowState.__table__.delete())
    session.execute(text("DELETE FROM month_flow"))
    session.commit()
    report = run(session, config, "wanted", exports["wanted"], LATER, as_of=LATER_AS_OF)
    assert report.unchanged_since == AS_OF
    assert all(flows_current(session, f, "wanted") for f in report.forces)
    assert session.execute(text("SELECT * FROM month_flow ORDER BY 1, 2, 3, 4, 5, 6")).all() != []
    assert len(session.execute(text("SELECT * FROM month_flow")).all()) == len(flows)


def test_cli_says_unchanged_since(db_url, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv("MO_CONFIG", raising=False)
    path = tmp_path / "w.csv"
    path.write_text(f"{WANTED_HEADER},Team\nW1,Theft,ipswich,never_arrested,2026-01-05,,open,A\n", encoding="utf-8")
    assert main(["import", "wanted", str(path), "--as-of", "2026-10-31"]) == 0
    assert "added 1, updated 0" in capsys.readouterr().out
    assert main(["import", "wanted", str(path), "--as-of", "2026-11-07", "--json"]) == 0
    out = capsys.readouterr().out
    assert "unchanged since the import of 2026-10-31: 0 added, 0 updated, 0 closed, 1 unchanged" in out
    assert "ignored columns: Team" in out
    data = json.loads(out[out.index("{") :])
    assert (data["unchanged_since"], data["as_of"], data["added"], data["unchanged"]) == (
        "2026-10-31",
        "2026-11-07",
        0,
        1,
    )


def test_cached_figures_and_this_process_follow_the_unchanged_import(
    session, config, engine, exports, monkeypatch
) -> None:
    """The figures cache is keyed on the latest batch: the repeat's batch is a new key, so no answer keeps the
    earlier import's "as of"; and the process that imported knows the batch when its commit returns."""
    monkeypatch.setattr(poller, "POLL_S", 3600.0)  # on SQLite: what the source knows, it was told
    source = generation_source(engine)
    assert source is not None
    if isinstance(source, GenerationWatcher):
        assert source.wait_ready(5)
    first = run(session, config, "wanted", exports["wanted"], NOW, as_of=AS_OF)
    force = config.force("suffolk")
    before = fc.wanted(session, force, LATER_AS_OF)
    assert before.data_as_of == NOW and fc.wanted(session, force, LATER_AS_OF) is before
    session.commit()
    report = run(session, config, "wanted", exports["wanted"], LATER, as_of=LATER_AS_OF)
    assert report.unchanged_since == AS_OF
    assert source.get("suffolk", "wanted") == report.batch_ids[report.forces.index("suffolk")]
    assert source.get("suffolk", "wanted") != first.batch_ids[first.forces.index("suffolk")]
    after = fc.wanted(session, force, LATER_AS_OF)
    assert after is not before and after.data_as_of == LATER
    assert after == wanted_figures(session, force, LATER_AS_OF)
    assert dataclasses.replace(after, data_as_of=NOW) == before  # nothing else moved


def test_after_revisions_the_shortcut_leaves_the_revision_deltas_a_full_merge_leaves(
    session, config, exports, tmp_path, monkeypatch
) -> None:
    """A revised export (every 10th open circulation reviewed on 3 Nov) imported after the first, then imported
    again: the counts at past dates rest on the revisions' deltas, which both paths leave the same and current."""
    lines = exports["wanted"].read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    reviewed, closed = header.index("Last Reviewed"), header.index("Date Closed")
    revised_lines = [lines[0]]
    for i, line in enumerate(lines[1:]):
        cells = line.split(",")  # the demo writes no quoted cells
        if i % 10 == 0 and not cells[closed]:
            cells[reviewed] = "2026-11-03"
        revised_lines.append(",".join(cells))
    revised = tmp_path / "revised.csv"
    revised.write_text("\n".join(revised_lines) + "\n", encoding="utf-8")
    assert run(session, config, "wanted", exports["wanted"], NOW, as_of=AS_OF).ok
    second = run(session, config, "wanted", revised, NOW + dt.timedelta(days=3), as_of=dt.date(2026, 11, 3))
    assert second.updated > 0 and second.unchanged_since is None
    assert session.execute(text("SELECT count(*) FROM revision_delta")).scalar_one() > 0
    full, full_state, report, short_state = full_then_short(
        session, config, "wanted", revised, LATER, monkeypatch, as_of=LATER_AS_OF
    )
    assert report.unchanged_since == dt.date(2026, 11, 3) and full.updated == 0
    assert short_state == full_state
    assert all(deltas_current(session, f, "wanted", config.wanted_review_days) for f in report.forces)
