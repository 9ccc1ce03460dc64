"""Demo data: deterministic, pseudonymous, internally consistent exports that load through the import path,
and the seed July 2022 action log."""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bot.clock import FixedClock
from bot.config import Config, ConfigError, load_config
from bot.dates import add_months
from bot.db import make_engine, make_session_factory
from bot.demo import FORCES, load_demo, seed_actions_path, write_exports
from bot.demo.exports import HEADERS, history_start
from bot.importing.columns import header_map, personal_header_reason, value_key, vocabulary_lookup
from bot.importing.service import import_file
from bot.importing.types import ImportRequest
from bot.models import Action, AuditEvent, BailPeriod, ImportBatch, OutstandingSuspect, WantedCirculation
from bot.runtime import Runtime
from commands.cli import main

END = dt.date(2026, 11, 23)
ROWS = 3000
LOAD_ROWS = 1500


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_exports(tmp_path_factory.mktemp("demo"), rows=ROWS, seed=7, end=END)


def read(path: Path) -> list[dict[str, str]]:
    """Rows keyed by CANONICAL column name, resolved through the importer's own header aliases."""
    dataset = {"wanted.csv": "wanted", "suspects.csv": "suspects", "bail.csv": "bail"}[path.name]
    names = header_map(dataset)
    with path.open(encoding="utf-8", newline="") as f:
        r = csv.reader(f)
        header = [names[re.sub(r"[^0-9a-z]+", "", h.lower())] for h in next(r)]
        return [dict(zip(header, row, strict=True)) for row in r]


def parse(value: str) -> dt.date | None:
    if not value:
        return None
    if "/" in value:
        d, m, y = value.split("/")
        return dt.date(int(y), int(m), int(d))
    return dt.date.fromisoformat(value)


# --- the files ----------------------------------------------------------------------------------------------


def test_same_seed_gives_byte_identical_files_and_another_seed_differs(tmp_path: Path) -> None:
    a = write_exports(tmp_path / "a", rows=1500, seed=11, end=END)
    b = write_exports(tmp_path / "b", rows=1500, seed=11, end=END)
    c = write_exports(tmp_path / "c", rows=1500, seed=12, end=END)
    assert set(a) == {"wanted", "suspects", "bail"}
    for k in a:
        assert a[k].read_bytes() == b[k].read_bytes()
        assert a[k].read_bytes() != c[k].read_bytes()
        assert len(a[k].read_text().splitlines()) == 1500 + 1  # header + rows
    assert not list((tmp_path / "a").glob("*.part"))


_WRITE = (
    "import datetime as dt, sys; from pathlib import Path; from bot.demo import write_exports; "
    "write_exports(Path(sys.argv[1]), rows=int(sys.argv[2]), end=dt.date(2026, 11, 23))"
)


def _peak_rss_mb_of_write(out: Path, rows: int) -> float:
    proc = subprocess.Popen([sys.executable, "-c", _WRITE, str(out), str(rows)])
    _, status, usage = os.wait4(proc.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return usage.ru_maxrss / 1024


def test_write_exports_streams_in_flat_memory(tmp_path: Path) -> None:
    """Twenty times the rows, (almost) the same peak memory: rows are never all held at once."""
    small = _peak_rss_mb_of_write(tmp_path / "small", 5_000)
    large = _peak_rss_mb_of_write(tmp_path / "large", 100_000)
    assert (tmp_path / "large" / "wanted.csv").stat().st_size > 15 * (tmp_path / "small" / "wanted.csv").stat().st_size
    assert large - small < 10, (small, large)


def test_headers_exercise_aliases_and_carry_no_names_or_dates_of_birth(exports: dict[str, Path]) -> None:
    for dataset, path in exports.items():
        header = path.read_text().splitlines()[0].split(",")
        assert tuple(header) == HEADERS[dataset]
        assert all(personal_header_reason(h) is None for h in header)
        canonical = header_map(dataset)
        assert all(re.sub(r"[^0-9a-z]+", "", h.lower()) in canonical for h in header)
    # At least one documented alias in use, so the demo exercises header matching.
    assert "Date Circulated" in HEADERS["wanted"]
    assert "Bail End Date" in HEADERS["bail"]


def test_values_are_pseudonymous(exports: dict[str, Path]) -> None:
    for path in exports.values():
        rows = read(path)
        prefix = {"wanted.csv": "W", "suspects.csv": "S", "bail.csv": "B"}[path.name]
        assert all(re.fullmatch(rf"{prefix}-\d{{7}}", r["reference"]) for r in rows)
        assert len({r["reference"] for r in rows}) == len(rows)
        assert all(re.fullmatch(r"P\d{7}", r["person_ref"]) for r in rows)
        assert all(re.fullmatch(r"3[67]/\d{5}/\d{2}", r["crime_ref"]) for r in rows)
        assert all(re.fullmatch(r"(PC|DC|DS) \d{3,4}", r["oic"]) for r in rows)
        # Repeat offenders exist: some person references recur.
        assert max(Counter(r["person_ref"] for r in rows).values()) > 1


def test_forces_districts_and_offences(exports: dict[str, Path], config: Config) -> None:
    for path in exports.values():
        rows = read(path)
        by_force = Counter(r["force"] for r in rows)
        assert set(by_force) == {"suffolk", "norfolk"}
        assert 0.70 < by_force["suffolk"] / len(rows) < 0.80
        for r in rows:
            force = config.force(r["force"])
            assert force.resolve_district(r["district"]) is not None, r
            # The crime reference carries the force's own number.
            assert r["crime_ref"].startswith({"suffolk": "37/", "norfolk": "36/"}[r["force"]])
        districts = Counter(config.force(r["force"]).resolve_district(r["district"]) for r in rows)
        assert set(districts) == {d for f in FORCES for d, _, _ in f.districts}
        offences = Counter(r["offence"] for r in rows)
        assert len(offences) >= 10
        assert offences.most_common(1)[0][0] == "Violence against the person"


def test_wanted_dates_statuses_and_reviews(exports: dict[str, Path]) -> None:
    rows = read(exports["wanted"])
    status = vocabulary_lookup("case_status")
    reasons = vocabulary_lookup("reason")
    start = history_start(END)
    open_rows = []
    for r in rows:
        opened, reviewed, closed = parse(r["circulated_on"]), parse(r["last_reviewed_on"]), parse(r["closed_on"])
        assert opened is not None and opened <= END
        assert closed is None or closed >= start  # every case open on or after the window's first day, no other
        assert status[value_key(r["status"])] == ("open" if closed is None else "closed")
        assert reasons[value_key(r["reason"])] == r["reason"]  # canonical spelling
        if closed is not None:
            assert opened <= closed <= END
        if reviewed is not None:
            assert opened <= reviewed <= (closed or END)
        if closed is None:
            open_rows.append((opened, reviewed))
    assert 0.02 < len(open_rows) / len(rows) < 0.12
    overdue = [o for o, rv in open_rows if (END - (rv or o)).days > 28]
    assert 0 < len(overdue) < len(open_rows) / 3
    # A tail open for more than a year.
    assert any((END - o).days > 365 for o, _ in open_rows)
    counts = Counter(r["reason"] for r in rows)
    assert counts.most_common(1)[0][0] == "never_arrested"
    assert set(counts) == {"never_arrested", "failed_to_answer_bail", "bail_breach", "rui_fresh_evidence"}


def test_suspect_dates_are_uk_format_and_consistent(exports: dict[str, Path]) -> None:
    rows = read(exports["suspects"])
    status = vocabulary_lookup("case_status")
    assert all(re.fullmatch(r"\d{2}/\d{2}/\d{4}", r["identified_on"]) for r in rows)
    n_open = 0
    for r in rows:
        opened, closed = parse(r["identified_on"]), parse(r["closed_on"])
        assert opened is not None and opened <= END
        assert closed is None or closed >= history_start(END)
        assert closed is None or opened <= closed <= END
        assert status[value_key(r["status"])] == ("open" if closed is None else "closed")
        n_open += closed is None
    assert 0.02 < n_open / len(rows) < 0.15
    # Closing statuses say how the suspect was dealt with, or (a few) only that it was closed.
    how = vocabulary_lookup("closure_outcome")
    dealt = Counter(how.get(value_key(r["status"])) for r in rows if r["closed_on"])
    assert set(dealt) == {"arrested", "voluntary_attendance", "nfa", None}
    assert dealt.most_common(1)[0][0] == "arrested"


def test_bail_ladders_outcomes_and_long_ruis(exports: dict[str, Path]) -> None:
    rows = read(exports["bail"])
    kinds = vocabulary_lookup("kind")
    outcomes = vocabulary_lookup("outcome")
    ending_soon = long_rui = extended = lapsed_to_rui = 0
    refs = {(r["person_ref"], r["crime_ref"], kinds[value_key(r["kind"])], r["started_on"]) for r in rows}
    for r in rows:
        kind = kinds[value_key(r["kind"])]
        started, bail_end, ended = parse(r["started_on"]), parse(r["bail_end_on"]), parse(r["ended_on"])
        assert started is not None and started <= END
        assert ended is None or ended >= history_start(END)
        assert ended is None or started <= ended <= END
        assert (ended is None) == (r["outcome"] == "")
        if r["outcome"]:
            assert outcomes[value_key(r["outcome"])] == r["outcome"]
        if kind == "rui":
            assert bail_end is None
            long_rui += ended is None and (END - started).days > 365
            continue
        assert bail_end is not None
        # The bail end is a 3-month step of the ladder: 3 (custody), 6 (inspector), 9 (superintendent), then court.
        assert bail_end in {add_months(started, m) for m in range(3, 61, 3)}
        extended += bail_end > add_months(started, 3)
        if ended is None:
            assert bail_end >= END  # active bail never shows as lapsed
            ending_soon += (bail_end - END).days <= 14
        else:
            assert ended <= bail_end
        if r["outcome"] == "converted_to_rui":
            lapsed_to_rui += 1
            # The RUI that follows starts on the day bail ended, for the same person and crime.
            assert (r["person_ref"], r["crime_ref"], "rui", r["ended_on"]) in refs or r is rows[-1]
    assert ending_soon > 0 and long_rui > 0 and extended > 0 and lapsed_to_rui > 0
    active = Counter(kinds[value_key(r["kind"])] for r in rows if not r["ended_on"])
    assert active["bail"] > 0 and active["rui"] > 0


@pytest.mark.parametrize(
    ("dataset", "opened_col", "closed_col", "kind"),
    [
        ("wanted", "circulated_on", "closed_on", None),
        ("suspects", "identified_on", "closed_on", None),
        ("bail", "started_on", "ended_on", "bail"),
        ("bail", "started_on", "ended_on", "rui"),
    ],
)
def test_the_caseload_does_not_start_from_nothing_on_the_windows_first_day(
    exports: dict[str, Path], dataset: str, opened_col: str, closed_col: str, kind: str | None
) -> None:
    """The demo declares its files complete from the window's first day (--covers-from). Were no case opened before
    it, every open count would climb from that day for a year — a rise that is only the start of the data. The
    cases open on that day are in the files, so the open count there is already of the size it keeps."""
    kinds = vocabulary_lookup("kind")
    rows = [r for r in read(exports[dataset]) if kind is None or kinds[value_key(r["kind"])] == kind]
    start = history_start(END)

    def open_on(day: dt.date) -> int:
        return sum(
            1
            for r in rows
            if (o := parse(r[opened_col])) is not None and o <= day and ((c := parse(r[closed_col])) is None or c > day)
        )

    assert any((parse(r[opened_col]) or END) < start for r in rows)  # the backlog is there
    # A gently rising caseload (the demo's openings grow a little from month to month) but no climb from zero: with
    # nothing opened before the window, the open count on its first day was 1-4 cases and a year on 58-83 % of the last.
    first, year_on, last = open_on(start), open_on(add_months(start, 12)), open_on(END)
    assert first > 0.7 * last and year_on > 0.8 * last, (first, year_on, last)


# --- loading through the import path ------------------------------------------------------------------------


def test_load_demo_imports_every_dataset_and_matches_the_files(runtime: Runtime, tmp_path: Path) -> None:
    result = load_demo(runtime, rows=LOAD_ROWS, seed=7, workdir=tmp_path / "ex")
    assert result.end == END  # today in London by the fixture's clock
    assert list(result.reports) == ["wanted", "suspects", "bail", "actions"]
    assert all(r.ok for r in result.reports.values())
    with runtime.sessions() as s:
        for dataset, model in (
            ("wanted", WantedCirculation),
            ("suspects", OutstandingSuspect),
            ("bail", BailPeriod),
        ):
            rows = read(result.files[dataset])
            per_force = dict(s.execute(select(model.force, func.count()).group_by(model.force)).all())
            assert per_force == dict(Counter(r["force"] for r in rows))
            batches = s.scalars(select(ImportBatch).where(ImportBatch.dataset == dataset)).all()
            assert {b.force: b.rows_added for b in batches} == per_force
            assert all(b.as_of == END for b in batches)
        # Open wanted per force in the store equals a brute-force count over the file.
        rows = read(result.files["wanted"])
        expect = Counter(r["force"] for r in rows if not r["closed_on"])
        got = dict(
            s.execute(
                select(WantedCirculation.force, func.count())
                .where(WantedCirculation.closed_on.is_(None))
                .group_by(WantedCirculation.force)
            ).all()
        )
        assert got == dict(expect)
        imports = s.scalars(select(AuditEvent).where(AuditEvent.action == "import", AuditEvent.outcome == "ok")).all()
        # One audit event per dataset and force, plus the action log (Suffolk only).
        assert Counter(e.force for e in imports) == {"suffolk": 4, "norfolk": 3}

    again = load_demo(runtime, rows=LOAD_ROWS, seed=7, workdir=tmp_path / "ex2")
    for dataset in ("wanted", "suspects", "bail"):
        rep = again.reports[dataset]
        assert (rep.added, rep.updated, rep.unchanged) == (0, 0, LOAD_ROWS)
    assert again.reports["actions"].unchanged == again.reports["actions"].rows_in_file


def test_mo_bot_demo_command(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv("MO_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--rows", "2000"]) == 0
    out = capsys.readouterr().out
    assert "Suffolk Constabulary" in out and "Norfolk Constabulary" in out
    assert "wanted" in out and "on bail" in out
    # Without --keep-files the exports are not left behind.
    assert not (tmp_path / "demo-exports").exists()

    engine = make_engine(db_url)
    try:
        with make_session_factory(engine)() as s:
            batches = s.execute(select(ImportBatch.dataset, ImportBatch.force, ImportBatch.rows_in_file)).all()
            seen = {(d, f) for d, f, _ in batches}
            assert seen == {(d, f) for d in ("wanted", "suspects", "bail") for f in ("suffolk", "norfolk")} | {
                ("actions", "suffolk")
            }
            for d in ("wanted", "suspects", "bail"):
                assert sum(n for ds, _, n in batches if ds == d) == 2000
            assert s.scalar(select(func.count()).select_from(WantedCirculation)) == 2000
            events = s.execute(select(AuditEvent.action, AuditEvent.outcome, AuditEvent.actor)).all()
            assert sum(1 for a, o, _ in events if a == "import" and o == "ok") == 7
            assert any(a == "command" and o == "ok" for a, o, _ in events)
            assert all(actor.startswith("cli:") for _, _, actor in events)
    finally:
        engine.dispose()

    assert main(["demo", "--rows", "200", "--seed", "3", "--out", str(tmp_path / "kept")]) == 0
    assert sorted(p.name for p in (tmp_path / "kept").iterdir()) == ["bail.csv", "suspects.csv", "wanted.csv"]


# --- the seed action log ------------------------------------------------------------------------------------

PILLARS = {"detect", "divert", "deliver", "demonstrate"}


def _seed_rows() -> list[dict[str, str]]:
    with seed_actions_path() as p, p.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_seed_csv_is_the_july_2022_log() -> None:
    with seed_actions_path() as p:
        assert "actions" in p.name and "2022" in p.name
    rows = _seed_rows()
    assert list(rows[0]) == [
        "reference", "kind", "pillar", "title", "owner", "status", "due_on", "recurs", "source", "evidence", "notes",
    ]  # fmt: skip
    assert [r["reference"] for r in rows] == [f"A-{i}" for i in range(1, len(rows) + 1)]
    assert {r["pillar"] for r in rows} == PILLARS
    # "cancelled": A-27, the achievement that duplicates (and closed) the action A-5.
    assert {r["status"] for r in rows} == {"open", "ongoing", "held", "complete", "cancelled"}
    assert {r["kind"] for r in rows} == {"action", "achievement", "hmic"}
    owners = {o.strip() for r in rows for o in r["owner"].split("&") if o.strip()}
    assert owners == {"HH", "JM", "JG", "AW", "MJ", "DB", "SW", "DH"}
    assert all(r["due_on"] == "" for r in rows)  # the seed gives no due dates
    # The pillar review (docs/action-log.md) leaves a visible marker only where doubt remains.
    assert [r["reference"] for r in rows if "inferred" in r["notes"]] == ["A-8", "A-18", "A-28", "A-34"]
    assert not any("RIU" in r["title"] for r in rows)
    by_title = {r["title"]: r for r in rows}
    held = by_title[
        "IOM - Discuss a process for MOJ EMS 'hits' to come into the organisation for allocation for further "
        "investigation (EMS Acquisitive Crime Project.)"
    ]
    assert (held["owner"], held["status"]) == ("JM & JG", "held")
    assert by_title["Evaluation of OOCD Phase 1"]["status"] == "ongoing"
    assert by_title["Managing Offenders Strategy Document completed"]["status"] == "complete"
    assert sum(1 for r in rows if r["source"].startswith("HMICFRS")) >= 10


def test_seed_csv_imports_as_four_pillars_with_its_statuses(session: Session, config: Config) -> None:
    rows = _seed_rows()
    with seed_actions_path() as p:
        report = import_file(
            session,
            config,
            ImportRequest("actions", p, force="suffolk", as_of=END),
            dt.datetime(2026, 11, 23, tzinfo=dt.UTC),
        )
    assert report.ok, report.errors or report.refused
    session.commit()
    assert report.added == len(rows)
    stored = {a.reference: a for a in session.scalars(select(Action))}
    assert {a.pillar for a in stored.values()} == PILLARS
    assert {a.force for a in stored.values()} == {"suffolk"}
    for r in rows:
        a = stored[r["reference"]]
        assert (a.pillar, a.status, a.title) == (r["pillar"], r["status"], r["title"])
        assert (a.owner_initials or "") == r["owner"]
    expected = Counter(r["status"] for r in rows)
    got = dict(session.execute(select(Action.status, func.count()).group_by(Action.status)).all())
    assert got == dict(expected)


def test_demo_refuses_a_configuration_without_both_forces(
    engine: Engine, clock: FixedClock, db_url: str, tmp_path: Path
) -> None:
    toml = tmp_path / "one-force.toml"
    toml.write_text(
        '[forces.suffolk]\nname = "Suffolk"\n'
        "[forces.suffolk.districts.ipswich]\n[forces.suffolk.districts.bury-st-edmunds]\n"
        "[forces.suffolk.districts.lowestoft]\n",
        encoding="utf-8",
    )
    rt = Runtime.create(load_config(toml, database_url=db_url), clock=clock, engine=engine)
    with pytest.raises(ConfigError, match="norfolk"):
        load_demo(rt, rows=10, workdir=tmp_path / "ex")
    assert not (tmp_path / "ex").exists()  # refused before writing anything
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(ImportBatch)) == 0
