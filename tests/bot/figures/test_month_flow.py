"""Month flows: every write path keeps them equal to a count over the case rows, and the series uses them only
while they are current.

The series' arithmetic against a brute-force count is proven in test_figures_property.py (with and without
flows); here the flows are built the way production builds them — by the import (initial load, staged upsert,
snapshot closing) and the retention purge — on the demo generator's realistic data.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from bot.config import Config
from bot.demo.exports import write_exports
from bot.figures import Filters, monthly_series
from bot.figures.cases import offence_groups
from bot.figures.month_flow import flows_current
from bot.importing.service import import_file
from bot.importing.types import ImportRequest
from bot.models import ImportBatch
from bot.retention import purge_force

END = dt.date(2026, 10, 31)
NOW = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
CASES = [("wanted", None), ("suspects", None), ("bail", "bail"), ("bail", "rui")]
FILTERS = [Filters(), Filters(district="ipswich"), Filters(offence="theft"), Filters(district="lowestoft")]


def series_both_ways(session: Session, config: Config, monkeypatch: pytest.MonkeyPatch, as_of: dt.date) -> None:
    """For every dataset, kind and filter: the series from the flows equals the series from the case rows."""
    series_both_ways_for(session, config, monkeypatch, as_of, CASES)


def series_both_ways_for(
    session: Session,
    config: Config,
    monkeypatch: pytest.MonkeyPatch,
    as_of: dt.date,
    cases: list[tuple[str, str | None]],
) -> None:
    from bot.figures import series as series_module

    force = config.force("suffolk")
    for dataset, kind in cases:
        assert flows_current(session, "suffolk", dataset)
        for f in FILTERS:
            fast = monthly_series(session, dataset, force, as_of, 13, f, kind=kind)
            with monkeypatch.context() as m:
                m.setattr(series_module, "flows_current", lambda *_: False)
                slow = monthly_series(session, dataset, force, as_of, 13, f, kind=kind)
            assert fast == slow, (dataset, kind, f)
            assert sum(p.opened for p in fast) > 0


def run_import(session: Session, config: Config, dataset: str, path: Path, **kw: object) -> None:
    report = import_file(session, config, ImportRequest(dataset=dataset, path=path, as_of=END, actor="test", **kw), NOW)
    assert report.ok, (report.refused, report.errors[:3])
    session.commit()


def test_flows_follow_every_import_path_and_the_purge(session, config, tmp_path, monkeypatch) -> None:
    files = write_exports(tmp_path / "demo", rows=1500, end=END)
    for dataset in ("wanted", "suspects", "bail"):
        run_import(session, config, dataset, files[dataset])  # empty tables: the initial load
    for as_of in (END, dt.date(2026, 9, 15), dt.date(2026, 2, 28)):
        series_both_ways(session, config, monkeypatch, as_of)

    # A staged snapshot import: a quarter of the rows left out (closed as of END), and the rest re-imported.
    for dataset in ("wanted", "suspects", "bail"):
        with files[dataset].open(newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        kept = tmp_path / f"{dataset}-kept.csv"
        with kept.open("w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows([rows[0], *(r for i, r in enumerate(rows[1:]) if i % 4)])
        run_import(session, config, dataset, kept, snapshot=True)
    series_both_ways(session, config, monkeypatch, END)

    counts = purge_force(session, "suffolk", dt.date(2026, 3, 1), "test", NOW)
    session.commit()
    assert counts.total > 0
    series_both_ways(session, config, monkeypatch, END)


def test_offence_groups_from_the_flows_equal_those_of_the_case_rows(session, config, tmp_path, monkeypatch) -> None:
    from bot.figures import cases

    files = write_exports(tmp_path / "demo", rows=800, end=END)
    for dataset in ("wanted", "suspects", "bail"):
        run_import(session, config, dataset, files[dataset])
    for slug in ("suffolk", "norfolk"):
        force = config.force(slug)
        for dataset in ("wanted", "suspects", "bail", "rui"):
            assert flows_current(session, slug, "bail" if dataset == "rui" else dataset)
            fast = offence_groups(session, dataset, force)
            with monkeypatch.context() as m:
                m.setattr(cases, "flows_current", lambda *_: False)
                slow = offence_groups(session, dataset, force)
            assert fast == slow and len(fast) >= 3, (slug, dataset)


def test_a_newer_batch_than_the_flows_sends_the_series_to_the_case_rows(session, config, tmp_path) -> None:
    files = write_exports(tmp_path / "demo", rows=300, end=END)
    run_import(session, config, "wanted", files["wanted"])
    assert flows_current(session, "suffolk", "wanted")
    before = monthly_series(session, "wanted", config.force("suffolk"), END, 13)
    # A batch the flows were not built from (as a writer that bypassed the import would leave things).
    session.add(ImportBatch(force="suffolk", dataset="wanted", file_name="x.csv", file_sha256="0" * 64, as_of=END))
    session.commit()
    assert not flows_current(session, "suffolk", "wanted")
    assert monthly_series(session, "wanted", config.force("suffolk"), END, 13) == before


def test_a_tally_past_its_limit_recounts_from_the_table(session, config, tmp_path, monkeypatch) -> None:
    """A long history makes many keys (groups × months²): past the limit the load still gets exact flows."""
    from bot.figures import month_flow

    monkeypatch.setattr(month_flow.FlowTally, "limit", 10)
    files = write_exports(tmp_path / "demo", rows=600, end=END)
    run_import(session, config, "bail", files["bail"])
    series_both_ways_for(session, config, monkeypatch, END, [("bail", "bail"), ("bail", "rui")])
