"""Import merge: idempotent upsert, snapshots, several forces in one file, the action log with history,
bulk mode, the audit trail, the CLI — and that a refused import leaves every table (and the figures) unchanged.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from bot.config import Config
from bot.figures.wanted import wanted_figures
from bot.importing import direct, merge, unchanged
from bot.importing.service import import_file
from bot.importing.types import ImportReport, ImportRequest
from bot.models import Action, ActionHistory, AuditEvent, BailPeriod, Base, ImportBatch, WantedCirculation
from commands.cli import main
from commands.cli.import_cmd import render

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
AS_OF = dt.date(2026, 10, 31)
WANTED_HEADER = "reference,person_ref,crime_ref,offence,district,reason,circulated_on,last_reviewed_on,closed_on,status"
BAIL_HEADER = "reference,offence,district,kind,started_on,bail_end_on,ended_on,outcome"


def write(tmp_path: Path, text: str | bytes, name: str = "export.csv") -> Path:
    p = tmp_path / name
    p.write_bytes(text if isinstance(text, bytes) else text.encode())
    return p


def run(session: Session, config: Config, dataset: str, path: Path, now: dt.datetime = NOW, **kw: Any) -> ImportReport:
    kw.setdefault("as_of", AS_OF)
    kw.setdefault("actor", "U_ANALYST")
    report = import_file(session, config, ImportRequest(dataset=dataset, path=path, **kw), now)
    if report.ok:
        session.commit()
    else:
        session.rollback()
    return report


def dump(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    out = {}
    for table in Base.metadata.sorted_tables:
        rows = session.execute(select(table)).all()
        out[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return out


def wanted_rows(n: int, start: int = 0, district: str = "ipswich") -> list[str]:
    out = []
    for i in range(start, start + n):
        circ = dt.date(2026, 1, 1) + dt.timedelta(days=i % 200)
        closed = circ + dt.timedelta(days=30) if i % 3 == 0 else None
        out.append(
            f"W{i},P{i},C{i},{'Theft' if i % 2 else 'Burglary'},{district},never_arrested,{circ.isoformat()},,"
            f"{closed.isoformat() if closed else ''},{'closed' if closed else 'open'}"
        )
    return out


def csv_text(header: str, rows: list[str]) -> str:
    return "\n".join([header, *rows]) + "\n"


# ---- idempotent upsert ---------------------------------------------------------------------------------------


def test_same_file_twice_changes_nothing(session, config, tmp_path) -> None:
    path = write(tmp_path, csv_text(WANTED_HEADER, wanted_rows(40)))
    first = run(session, config, "wanted", path)
    assert (first.added, first.updated, first.closed, first.unchanged) == (40, 0, 0, 0)
    before = dump(session)["wanted"]
    second = run(session, config, "wanted", path)
    assert (second.added, second.updated, second.closed, second.unchanged) == (0, 0, 0, 40)
    assert dump(session)["wanted"] == before  # not even import_batch_id moved
    batches = session.scalars(select(ImportBatch).order_by(ImportBatch.id)).all()
    assert [(b.rows_added, b.rows_unchanged, b.rows_in_file) for b in batches] == [(40, 0, 40), (0, 40, 40)]
    assert batches[0].file_sha256 == batches[1].file_sha256 == first.file_sha256
    assert len(first.file_sha256) == 64


def test_changed_rows_are_updated_and_carry_the_new_batch(session, config, tmp_path) -> None:
    rows = wanted_rows(10)
    run(session, config, "wanted", write(tmp_path, csv_text(WANTED_HEADER, rows)))
    rows[4] = rows[4].replace(",open", ",closed").replace(",,,", ",,2026-10-01,") if ",open" in rows[4] else rows[4]
    rows[5] = rows[5].replace("never_arrested", "bail_breach")
    rows.append(wanted_rows(1, start=100)[0])
    report = run(session, config, "wanted", write(tmp_path, csv_text(WANTED_HEADER, rows), "second.csv"))
    assert (report.added, report.updated, report.unchanged) == (1, 2, 8)
    batch = report.batch_ids[0]
    moved = session.scalars(select(WantedCirculation.reference).where(WantedCirculation.import_batch_id == batch))
    assert sorted(moved) == ["W100", "W4", "W5"]
    w4 = session.scalars(select(WantedCirculation).where(WantedCirculation.reference == "W4")).one()
    assert (w4.status, w4.closed_on) == ("closed", dt.date(2026, 10, 1))
    w5 = session.scalars(select(WantedCirculation).where(WantedCirculation.reference == "W5")).one()
    assert w5.reason == "bail_breach"
    # The copies of the replaced versions the day counts were kept from, and the staged rows the merge wrote, do not
    # outlive the import on the connection (a serving process's connection outlives it; on SQLite a temporary
    # table lives as long).
    assert not inspect(session.connection()).has_table(merge.REPLACED)
    assert not inspect(session.connection()).has_table(merge.CHANGES)


# ---- snapshots -----------------------------------------------------------------------------------------------


def test_snapshot_closes_open_rows_absent_from_the_file(session, config, tmp_path) -> None:
    run(session, config, "wanted", write(tmp_path, csv_text(WANTED_HEADER, wanted_rows(12))), as_of=dt.date(2026, 9, 1))
    open_before = set(session.scalars(select(WantedCirculation.reference).where(WantedCirculation.closed_on.is_(None))))
    kept = wanted_rows(12)[:6]
    report = run(session, config, "wanted", write(tmp_path, csv_text(WANTED_HEADER, kept), "s.csv"), snapshot=True)
    absent_open = open_before - {r.split(",")[0] for r in kept}
    assert report.closed == len(absent_open) > 0
    assert (report.added, report.updated, report.unchanged) == (0, 0, 6)
    for ref in absent_open:
        w = session.scalars(select(WantedCirculation).where(WantedCirculation.reference == ref)).one()
        # Closed by the bot because the full export no longer lists it: its outcome says so, not "not recorded".
        assert (w.closed_on, w.status, w.outcome, w.import_batch_id) == (
            AS_OF, "closed", "not_in_export", report.batch_ids[0]
        )  # fmt: skip
    batch = session.get(ImportBatch, report.batch_ids[0])
    assert batch is not None and batch.snapshot and batch.rows_closed == len(absent_open)
    # A second identical snapshot has nothing left to close.
    again = run(session, config, "wanted", write(tmp_path, csv_text(WANTED_HEADER, kept), "s.csv"), snapshot=True)
    assert (again.closed, again.unchanged) == (0, 6)


def test_snapshot_of_bail_ends_periods_as_not_in_export(session, config, tmp_path) -> None:
    rows = ["B1,Theft,ipswich,bail,2026-09-01,2026-12-01,,", "B2,Theft,ipswich,rui,2026-09-02,,,",
            "B3,Theft,ipswich,bail,2026-09-03,2026-12-03,2026-10-01,charged"]  # fmt: skip
    run(session, config, "bail", write(tmp_path, csv_text(BAIL_HEADER, rows)))
    report = run(session, config, "bail", write(tmp_path, csv_text(BAIL_HEADER, rows[:1]), "b.csv"), snapshot=True)
    assert (report.closed, report.unchanged) == (1, 1)
    got = session.execute(select(BailPeriod.reference, BailPeriod.ended_on, BailPeriod.outcome)).all()
    assert sorted(got) == [("B1", None, None), ("B2", AS_OF, "not_in_export"), ("B3", dt.date(2026, 10, 1), "charged")]


def test_snapshot_leaves_other_forces_alone(session, config, tmp_path) -> None:
    header = WANTED_HEADER + ",force"
    both = [r + ",suffolk" for r in wanted_rows(3)] + [r + ",norfolk" for r in wanted_rows(3, 10, "norwich")]
    run(session, config, "wanted", write(tmp_path, csv_text(header, both)))
    report = run(session, config, "wanted", write(tmp_path, csv_text(WANTED_HEADER, []), "e.csv"))
    assert report.refused  # an empty export is never read as "everything closed"
    only = write(tmp_path, csv_text(WANTED_HEADER, wanted_rows(1)), "one.csv")
    report = run(session, config, "wanted", only, force="suffolk", snapshot=True)
    assert report.forces == ["suffolk"]
    norfolk_open = session.scalars(
        select(WantedCirculation.reference).where(
            WantedCirculation.force == "norfolk", WantedCirculation.closed_on.is_(None)
        )
    ).all()
    assert sorted(norfolk_open) == sorted(f"W{i}" for i in range(10, 13) if i % 3 != 0)  # as loaded
    assert report.closed == sum(1 for i in range(1, 3) if i % 3 != 0)  # suffolk's open rows other than W0


# ---- several forces in one file --------------------------------------------------------------------------------


def test_multi_force_file_gives_one_batch_per_force(session, config, tmp_path) -> None:
    header = WANTED_HEADER + ",Force"
    rows = [r + ",Suffolk" for r in wanted_rows(5)] + [r + ",norfolk" for r in wanted_rows(3, 100, "City")]
    report = run(session, config, "wanted", write(tmp_path, csv_text(header, rows)))
    assert report.ok and report.forces == ["norfolk", "suffolk"] and report.added == 8
    batches = {b.id: b for b in session.scalars(select(ImportBatch))}
    assert [batches[i].force for i in report.batch_ids] == ["norfolk", "suffolk"]
    assert [(batches[i].rows_in_file, batches[i].rows_added) for i in report.batch_ids] == [(3, 3), (5, 5)]
    per_force = session.execute(
        select(WantedCirculation.force, WantedCirculation.district, WantedCirculation.import_batch_id)
    ).all()
    assert {(f, b) for f, _, b in per_force} == {("norfolk", report.batch_ids[0]), ("suffolk", report.batch_ids[1])}
    assert {d for f, d, _ in per_force if f == "norfolk"} == {"norwich"}
    audits = session.scalars(select(AuditEvent).where(AuditEvent.action == "import").order_by(AuditEvent.id)).all()
    assert [(a.force, a.outcome, a.records_disclosed, a.actor) for a in audits] == [
        ("norfolk", "ok", 0, "U_ANALYST"),
        ("suffolk", "ok", 0, "U_ANALYST"),
    ]
    assert "wanted export.csv" in audits[1].detail and "added 5" in audits[1].detail


def test_force_mismatch_is_a_row_error(session, config, tmp_path) -> None:
    header = WANTED_HEADER + ",force"
    rows = [wanted_rows(1)[0] + ",suffolk", wanted_rows(1, 5, "norwich")[0] + ",norfolk"]
    report = run(session, config, "wanted", write(tmp_path, csv_text(header, rows)), force="norfolk")
    assert [(e.row, e.column, e.value) for e in report.errors] == [(2, "force", "suffolk")]
    assert dump(session)["wanted"] == []


# ---- the action log -------------------------------------------------------------------------------------------

ACTIONS_HEADER = "reference,pillar,title,owner,status,due_on,source,notes"


def test_actions_upsert_with_history(session, config: Config, tmp_path) -> None:
    suffolk = dataclasses.replace(config.force("suffolk"), owners={"HH": "U0HH", "JM": "U0JM"})
    cfg = dataclasses.replace(config, forces={**config.forces, "suffolk": suffolk})
    first = [
        "A-1,Divert & Deter,Triage of wanted,HH,ongoing,2026-12-31,HMICFRS rec 3,",
        "A-2,Detect,Circulate suspects monthly,JM & JG,held,,,",
        "A-3,Deliver,Bail checks,AW,open,,,",
    ]
    report = run(session, cfg, "actions", write(tmp_path, csv_text(ACTIONS_HEADER, first)), force="suffolk")
    assert (report.added, report.updated, report.unchanged) == (3, 0, 0)
    owners = {r: u for r, u in session.execute(select(Action.reference, Action.owner_user_id))}
    assert owners == {"A-1": "U0HH", "A-2": "U0JM", "A-3": None}
    a3 = session.scalars(select(Action).where(Action.reference == "A-3")).one()
    assert (a3.created_by, a3.version, a3.import_batch_id) == ("U_ANALYST", 1, report.batch_ids[0])

    later = NOW + dt.timedelta(days=1)
    second = list(first)
    second[0] = "A-1,Divert & Deter,Triage of wanted,HH,Achieved,2026-12-31,HMICFRS rec 3,done in Oct"
    report = run(
        session, cfg, "actions", write(tmp_path, csv_text(ACTIONS_HEADER, second), "log.csv"), later, force="suffolk"
    )
    assert (report.added, report.updated, report.unchanged) == (0, 1, 2)
    a1 = session.scalars(select(Action).where(Action.reference == "A-1")).one()
    assert (a1.status, a1.completed_on, a1.version, a1.updated_at) == ("complete", AS_OF, 2, later)
    history = session.scalars(select(ActionHistory).where(ActionHistory.action_id == a1.id)).all()
    assert sorted((h.field, h.old_value, h.new_value) for h in history) == [
        ("completed_on", None, AS_OF.isoformat()),
        ("notes", None, "done in Oct"),
        ("status", "ongoing", "complete"),
    ]
    assert {(h.changed_by, h.note, h.changed_at) for h in history} == {("U_ANALYST", "import log.csv", later)}
    # The same file again: nothing changes, no history.
    again = run(session, cfg, "actions", write(tmp_path, csv_text(ACTIONS_HEADER, second), "log.csv"), force="suffolk")
    assert (again.updated, again.unchanged) == (0, 3)
    assert len(session.scalars(select(ActionHistory)).all()) == 3


def test_a_file_without_kind_recurs_or_evidence_columns_keeps_what_the_log_had(session, config, tmp_path) -> None:
    header = "reference,kind,pillar,title,owner,status,recurs,evidence"
    first = [
        "A-1,action,Divert,Triage of wanted,HH,open,,",
        "A-2,achievement,Detect,Victims' code audit,HH,complete,,",
        "A-3,hmic,Deliver,Bail process review,HH,complete,,Closed by HMIC 2/22",
        "A-4,action,Demonstrate,Cautions auditing,HH,ongoing,monthly,",
    ]
    assert run(session, config, "actions", write(tmp_path, csv_text(header, first)), force="suffolk").ok
    # The log kept in a spreadsheet without those columns: two re-imports, one with a change to A-1.
    plain = [
        "A-1,Divert,Triage of wanted,HH,ongoing,,,",
        "A-2,Detect,Victims' code audit,HH,complete,,,",
        "A-3,Deliver,Bail process review,HH,complete,,,",
        "A-4,Demonstrate,Cautions auditing,HH,ongoing,,,",
        "A-5,Deliver,A new item,HH,open,,,",
    ]
    for _ in range(2):
        report = run(session, config, "actions", write(tmp_path, csv_text(ACTIONS_HEADER, plain), "log.csv"),
                     force="suffolk")  # fmt: skip
        assert report.ok, report
    rows = {a.reference: (a.kind, a.recur_months, a.evidence, a.status) for a in session.scalars(select(Action))}
    assert rows == {
        "A-1": ("action", None, None, "ongoing"),
        "A-2": ("achievement", None, None, "complete"),
        "A-3": ("hmic", None, "Closed by HMIC 2/22", "complete"),
        "A-4": ("action", 1, None, "ongoing"),
        "A-5": ("action", None, None, "open"),
    }
    fields = {h.field for h in session.scalars(select(ActionHistory))}
    assert fields == {"status"}  # only A-1's status changed; no kind, recurrence or evidence was overwritten


# ---- a refused import changes nothing ---------------------------------------------------------------------------


def _figures(session: Session, config: Config) -> Any:
    return wanted_figures(session, config.force("suffolk"), AS_OF)


@pytest.mark.parametrize(
    "bad_tail",
    [
        "W9999,P,C,Theft,Atlantis,never_arrested,2026-01-05,,,open",  # a row error on the last row
        "W7,P,C,Theft,ipswich,never_arrested,2026-01-05,,,open",  # a duplicate reference
        b"W9999,P,C,Caf\xe9,ipswich,never_arrested,2026-01-05,,,open",  # not UTF-8, found while loading
    ],
)
def test_refused_import_leaves_tables_and_figures_unchanged(session, config, tmp_path, bad_tail) -> None:
    run(session, config, "wanted", write(tmp_path, csv_text(WANTED_HEADER, wanted_rows(30))))
    before, figures_before = dump(session), _figures(session, config)
    session.rollback()
    # The bad file would change, add and (by snapshot) close rows if it were accepted.
    good = wanted_rows(20, start=5)
    good[0] = good[0].replace("never_arrested", "bail_breach")
    body = csv_text(WANTED_HEADER, good).encode()
    body += bad_tail if isinstance(bad_tail, bytes) else bad_tail.encode()
    report = run(session, config, "wanted", write(tmp_path, body, "bad.csv"), snapshot=True)
    assert not report.ok
    assert dump(session) == before
    assert _figures(session, config) == figures_before
    # The session is still usable after the refusal (PostgreSQL: the failed COPY was rolled back to a savepoint).
    ok = run(session, config, "wanted", write(tmp_path, csv_text(WANTED_HEADER, wanted_rows(2, 500)), "ok.csv"))
    assert ok.ok and ok.added == 2


def test_refusal_inside_a_caller_transaction_keeps_the_callers_work(session, config, tmp_path) -> None:
    session.add(ImportBatch(force="suffolk", dataset="wanted", file_name="x", file_sha256="0" * 64, as_of=AS_OF))
    session.flush()
    report = import_file(
        session, config, ImportRequest("wanted", write(tmp_path, b"reference\n\xff\xfe\n"), as_of=AS_OF), NOW
    )
    assert report.refused
    assert session.execute(text("SELECT count(*) FROM import_batch")).scalar_one() == 1
    session.rollback()


# ---- bulk mode ------------------------------------------------------------------------------------------------------


def test_bulk_mode_rebuilds_indexes_and_constraints(session, config, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(merge, "BULK_MIN_ROWS", 10)
    engine = session.get_bind()

    def schema() -> tuple[Any, ...]:
        insp = inspect(engine)
        return (
            sorted((i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in insp.get_indexes("wanted")),
            sorted((c["name"], tuple(c["column_names"])) for c in insp.get_unique_constraints("wanted")),
            sorted((f["name"], f["referred_table"]) for f in insp.get_foreign_keys("wanted")),
        )

    shape = schema()
    report = run(session, config, "wanted", write(tmp_path, csv_text(WANTED_HEADER, wanted_rows(40))))
    assert report.added == 40
    session.close()
    assert schema() == shape
    # The rebuilt unique key still holds, and an upsert over the bulk-loaded rows is still idempotent.
    again = run(session, config, "wanted", write(tmp_path, csv_text(WANTED_HEADER, wanted_rows(60)), "more.csv"))
    assert (again.added, again.unchanged) == (20, 40)
    session.close()
    assert schema() == shape


# ---- the command line -------------------------------------------------------------------------------------------


def test_cli_import_reports_and_exit_codes(db_url, tmp_path, monkeypatch, capsys, sessions) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv("MO_CONFIG", raising=False)
    good = write(tmp_path, csv_text(WANTED_HEADER + ",Team", wanted_rows(3)))
    assert main(["import", "wanted", str(good), "--as-of", "2026-10-31", "--json"]) == 0
    out = capsys.readouterr().out
    assert "added 3, updated 0, closed 0, unchanged 0" in out and "ignored columns: Team" in out
    assert "standard answers for suffolk wanted: " in out and "computed with the import" in out
    data = json.loads(out[out.index("{") :])
    assert (data["ok"], data["added"], data["forces"], data["as_of"]) == (True, 3, ["suffolk"], "2026-10-31")

    lines = [WANTED_HEADER] + [f"X{i},P,C,Theft,Atlantis,never_arrested,2026-01-05,,,open" for i in range(55)]
    bad = write(tmp_path, "\n".join(lines) + "\n", "bad.csv")
    assert main(["import", "wanted", str(bad), "--as-of", "2026-10-31"]) == 2
    out = capsys.readouterr().out
    assert "NOT IMPORTED" in out and "row 2, district = 'Atlantis': unknown district" in out
    assert "… and 5 more" in out

    named = write(tmp_path, WANTED_HEADER + ",Surname\n", "named.csv")
    assert main(["import", "wanted", str(named)]) == 2
    assert "REFUSED" in capsys.readouterr().out

    with sessions() as s:
        events = s.execute(select(AuditEvent.action, AuditEvent.outcome).order_by(AuditEvent.id)).all()
        # The good import committed with its standard answers (audited as the bot's own work); the others wrote none.
        assert events == [("import", "ok"), ("warm", "ok"), ("import", "invalid"), ("import", "refused")]
        assert s.execute(text("SELECT count(*) FROM wanted")).scalar_one() == 3


# ---- the initial load (straight into an empty table) and the staged path agree ----------------------------------


@pytest.mark.parametrize("rebuild", [False, True])
def test_initial_load_and_staged_import_agree(session, config, tmp_path, monkeypatch, rebuild: bool) -> None:
    if rebuild:
        monkeypatch.setattr(direct, "REBUILD_MIN_BYTES", 0)
    header = WANTED_HEADER + ",force"
    rows = [r + ",suffolk" for r in wanted_rows(40)] + [r + ",norfolk" for r in wanted_rows(20, 100, "norwich")]
    path = write(tmp_path, csv_text(header, rows))

    def contents() -> list[tuple[Any, ...]]:
        cols = [c for c in WantedCirculation.__table__.columns if c.name not in ("id", "import_batch_id")]
        return sorted(tuple(r) for r in session.execute(select(*cols)).all())

    first = run(session, config, "wanted", path)  # empty table: the direct load
    assert (first.added, first.forces) == (60, ["norfolk", "suffolk"])
    loaded = contents()
    batches = {b.id: (b.force, b.rows_in_file, b.rows_added) for b in session.scalars(select(ImportBatch))}
    assert batches == {first.batch_ids[0]: ("norfolk", 20, 20), first.batch_ids[1]: ("suffolk", 40, 40)}
    by_batch = session.execute(select(WantedCirculation.force, WantedCirculation.import_batch_id)).all()
    assert {(f, b) for f, b in by_batch} == {("norfolk", first.batch_ids[0]), ("suffolk", first.batch_ids[1])}

    session.execute(WantedCirculation.__table__.delete().where(WantedCirculation.reference != "W0"))
    session.commit()
    # The rows were deleted behind the importer's back, which only imports and the retention purge do: the same
    # file would otherwise be taken as unchanged since its import (bot/importing/unchanged.py), and not merged.
    monkeypatch.setattr(unchanged, "find_repeat", lambda *a, **k: None)
    second = run(session, config, "wanted", path)  # one row left: the staged upsert
    assert (second.added, second.unchanged) == (59, 1)
    assert contents() == loaded
    # Indexes and constraints are all there after either path.
    names = {i["name"] for i in inspect(session.get_bind()).get_indexes("wanted")}
    assert {"ix_wanted_open", "uq_wanted_force_reference"} <= names | uniques(session)


def test_initial_load_with_a_duplicate_falls_back_to_the_full_report(session, config, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(direct, "REBUILD_MIN_BYTES", 0)
    rows = [*wanted_rows(10), wanted_rows(1, 3)[0], "W99,P,C,Theft,Atlantis,never_arrested,2026-01-05,,,open"]
    report = run(session, config, "wanted", write(tmp_path, csv_text(WANTED_HEADER, rows)))
    assert [(e.row, e.column) for e in report.errors] == [(5, "reference"), (12, "reference"), (13, "district")]
    assert report.error_count == 3
    assert dump(session)["wanted"] == [] and dump(session)["import_batch"] == []
    names = {i["name"] for i in inspect(session.get_bind()).get_indexes("wanted")}
    assert {"ix_wanted_open", "uq_wanted_force_reference"} <= names | uniques(session)


@pytest.mark.parametrize("rebuild", [False, True])
def test_text_with_backslashes_tabs_and_line_breaks_is_stored_exactly(
    session, config, tmp_path, monkeypatch, rebuild
) -> None:
    """PostgreSQL loads rows as COPY text lines; a value holding COPY's own escape or separator characters must
    come back byte for byte, through the initial load (with and without the index rebuild) and the staged
    upsert alike."""
    if rebuild:
        monkeypatch.setattr(direct, "REBUILD_MIN_BYTES", 0)
    odd = {"W1": "P\\N", "W2": "tab\there", "W3": "two\nlines", "W4": "C:\\temp\\", "W5": "cr\rx"}
    rows = [f'{ref},"{val}",C1,Theft,ipswich,never_arrested,2026-01-05,,,open' for ref, val in odd.items()]
    first = run(session, config, "wanted", write(tmp_path, csv_text(WANTED_HEADER, rows)))
    assert first.added == 5
    stored = dict(session.execute(select(WantedCirculation.reference, WantedCirculation.person_ref)).all())
    assert stored == odd
    # The staged path: change every value to another odd one.
    odd2 = {ref: f"{val}\\t\t2" for ref, val in odd.items()}
    rows2 = [f'{ref},"{val}",C1,Theft,ipswich,never_arrested,2026-01-05,,,open' for ref, val in odd2.items()]
    second = run(session, config, "wanted", write(tmp_path, csv_text(WANTED_HEADER, rows2), "second.csv"))
    assert (second.added, second.updated) == (0, 5)
    session.expire_all()
    stored = dict(session.execute(select(WantedCirculation.reference, WantedCirculation.person_ref)).all())
    assert stored == odd2


def uniques(session: Session) -> set[str]:
    """Unique keys by name (PostgreSQL reports them as constraints, SQLite as unique indexes)."""
    return {u["name"] for u in inspect(session.get_bind()).get_unique_constraints("wanted") if u["name"]}


def test_a_later_export_without_a_column_keeps_the_stored_values_and_closures(
    session: Session, config: Config, tmp_path: Path
) -> None:
    """A report in another layout one month (no closing date, status, review date, officer or person): the cases
    already stored keep what the file does not say. It used to clear them, and reopen every closed case it listed."""
    full = (
        "Reference,Person Ref,Offence,District,Reason,Date Circulated,Last Reviewed,Date Closed,Status,OIC\n"
        "U1,P1,Burglary,Ipswich,FTA,01/10/2026,20/10/2026,,open,PC 1\n"
        "U2,P2,Burglary,Ipswich,FTA,01/10/2026,,15/10/2026,arrested,PC 2\n"
    )
    assert run(session, config, "wanted", write(tmp_path, full), force="suffolk").ok
    suffolk = config.force("suffolk")
    assert wanted_figures(session, suffolk, AS_OF).open == 1
    later = AS_OF + dt.timedelta(days=7)
    narrow = (
        "Reference,Offence,District,Reason,Date Circulated\n"
        "U1,Theft,Ipswich,FTA,01/10/2026\n"  # the offence revised
        "U2,Burglary,Ipswich,FTA,01/10/2026\n"  # nothing it says is new
        "U3,Drugs,Lowestoft,FTA,05/11/2026\n"  # a new case: nothing to keep
    )
    report = run(session, config, "wanted", write(tmp_path, narrow, "narrow.csv"), force="suffolk", as_of=later)
    assert report.ok, report
    assert (report.added, report.updated, report.unchanged) == (1, 1, 1)
    assert set(report.kept_columns) == {
        "person_ref", "crime_ref", "last_reviewed_on", "closed_on", "status", "outcome", "oic"
    }  # fmt: skip
    rows = {
        r.reference: (r.offence, r.person_ref, r.last_reviewed_on, r.closed_on, r.status, r.outcome, r.oic)
        for r in session.scalars(select(WantedCirculation))
    }
    assert rows == {
        "U1": ("Theft", "P1", dt.date(2026, 10, 20), None, "open", None, "PC 1"),
        "U2": ("Burglary", "P2", None, dt.date(2026, 10, 15), "closed", "arrested", "PC 2"),
        "U3": ("Drugs", None, None, None, "open", None, None),
    }
    assert wanted_figures(session, suffolk, later).open == 2  # U1 and U3; U2 stays closed
    out = render(report)  # what `mo-bot import` prints
    assert "not in the file, kept as stored for the cases already imported: person_ref, crime_ref" in out


def test_a_closing_date_without_a_status_column_still_closes_and_reopens(
    session: Session, config: Config, tmp_path: Path
) -> None:
    """A column another one says is not kept: a closing date says the status (and its absence that it is open)."""
    first = (
        "Reference,Offence,District,Reason,Date Circulated,Date Closed\nV1,Theft,Ipswich,FTA,01/10/2026,20/10/2026\n"
    )
    assert run(session, config, "wanted", write(tmp_path, first), force="suffolk").ok
    reopened = "Reference,Offence,District,Reason,Date Circulated,Date Closed\nV1,Theft,Ipswich,FTA,01/10/2026,\n"
    later = AS_OF + dt.timedelta(days=7)
    report = run(session, config, "wanted", write(tmp_path, reopened, "b.csv"), force="suffolk", as_of=later)
    assert report.ok and "closed_on" not in report.kept_columns and "status" not in report.kept_columns
    row = session.scalars(select(WantedCirculation)).one()
    assert (row.closed_on, row.status) == (None, "open")


def test_a_bail_period_converted_to_rui_in_a_file_without_end_dates_has_no_bail_end(
    session: Session, config: Config, tmp_path: Path
) -> None:
    first = (
        "Reference,Offence,District,Kind,Start Date,Bail End Date\n"
        "B1,Theft,Ipswich,bail,01/09/2026,01/12/2026\nB2,Theft,Ipswich,bail,01/09/2026,01/12/2026\n"
    )
    assert run(session, config, "bail", write(tmp_path, first), force="suffolk").ok
    narrow = (
        "Reference,Offence,District,Kind,Start Date\n"
        "B1,Theft,Ipswich,rui,01/09/2026\nB2,Theft,Ipswich,bail,01/09/2026\n"
    )
    later = AS_OF + dt.timedelta(days=7)
    assert run(session, config, "bail", write(tmp_path, narrow, "b.csv"), force="suffolk", as_of=later).ok
    got = {r.reference: (r.kind, r.bail_end_on) for r in session.scalars(select(BailPeriod))}
    assert got == {"B1": ("rui", None), "B2": ("bail", dt.date(2026, 12, 1))}


def test_a_case_a_snapshot_closed_and_an_export_without_closing_columns_lists_again_is_open(
    session: Session, config: Config, tmp_path: Path
) -> None:
    """A snapshot's closure is the bot's inference from a case missing from a full export, not the force's record:
    listed again, the case is open again, even by a file with no closing date or status. A closure the force
    recorded stays."""
    header = "Reference,Offence,District,Reason,Date Circulated,Date Closed\n"
    first = header + "S1,Theft,Ipswich,FTA,01/10/2026,\nS2,Theft,Ipswich,FTA,01/10/2026,\n"
    first += "S3,Theft,Ipswich,FTA,01/10/2026,20/10/2026\n"
    assert run(session, config, "wanted", write(tmp_path, first), force="suffolk").ok
    snap = header + "S1,Theft,Ipswich,FTA,01/10/2026,\n"
    day = AS_OF + dt.timedelta(days=7)
    assert run(session, config, "wanted", write(tmp_path, snap, "s.csv"), force="suffolk", as_of=day, snapshot=True).ok
    narrow = "Reference,Offence,District,Reason,Date Circulated\n" + "".join(
        f"{r},Theft,Ipswich,FTA,01/10/2026\n" for r in ("S1", "S2", "S3")
    )
    later = day + dt.timedelta(days=7)
    report = run(session, config, "wanted", write(tmp_path, narrow, "n.csv"), force="suffolk", as_of=later)
    assert report.ok and report.updated == 1  # S2 only
    got = {r.reference: (r.status, r.closed_on, r.outcome) for r in session.scalars(select(WantedCirculation))}
    assert got == {
        "S1": ("open", None, None),
        "S2": ("open", None, None),  # the snapshot closed it; listed again, open again
        "S3": ("closed", dt.date(2026, 10, 20), None),  # the force closed it: the file says nothing otherwise
    }


def test_a_stored_outcome_stays_with_its_closure_only(session: Session, config: Config, tmp_path: Path) -> None:
    """Files without an outcome column: a status that says only "Closed" keeps the stored "arrested" of the same
    closure (it was wiped); a case reopened by a file with closing dates loses it, and its next closure — a later
    one no export gave an outcome — does not inherit it (it was counted as an arrest)."""
    full = "Reference,Offence,District,Reason,Date Circulated,Date Closed,Status\n"
    full += "W2,Theft,Ipswich,FTA,01/09/2026,10/09/2026,Arrested\nW4,Theft,Ipswich,FTA,01/09/2026,02/10/2026,Arrested\n"
    assert run(session, config, "wanted", write(tmp_path, full), force="suffolk").ok
    day = AS_OF + dt.timedelta(days=7)
    # W4 again with a plain "Closed", same day; W2 reopened (no closing date).
    second = "Reference,Offence,District,Reason,Date Circulated,Date Closed,Status\n"
    second += "W2,Theft,Ipswich,FTA,01/09/2026,,Open\nW4,Theft,Ipswich,FTA,01/09/2026,02/10/2026,Closed\n"
    assert run(session, config, "wanted", write(tmp_path, second, "b.csv"), force="suffolk", as_of=day).ok
    third = (
        "Reference,Offence,District,Reason,Date Circulated,Date Closed\nW2,Theft,Ipswich,FTA,01/09/2026,05/11/2026\n"
    )
    later = dt.date(2026, 11, 20)
    assert run(session, config, "wanted", write(tmp_path, third, "c.csv"), force="suffolk", as_of=later).ok
    got = {r.reference: (r.closed_on, r.status, r.outcome) for r in session.scalars(select(WantedCirculation))}
    assert got == {
        "W2": (dt.date(2026, 11, 5), "closed", None),
        "W4": (dt.date(2026, 10, 2), "closed", "arrested"),
    }
