"""`mo-bot audit export`: whole local days, CSV and JSON Lines, safe for spreadsheets, streamed, itself audited."""

from __future__ import annotations

import csv
import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.audit import AuditEntry, record
from bot.audit_export import COLUMNS, iter_events, period_bounds
from bot.models import AuditEvent
from commands.cli import main
from tests.support.seed import write_config

UTC = dt.UTC
EVENTS = [
    # (at, detail)
    (dt.datetime(2026, 6, 30, 22, 59, tzinfo=UTC), "before July in London"),
    (dt.datetime(2026, 6, 30, 23, 30, tzinfo=UTC), "00:30 BST on 1 July"),
    (dt.datetime(2026, 10, 31, 23, 30, tzinfo=UTC), '=HYPERLINK("http://x","click")'),
    (dt.datetime(2026, 11, 1, 0, 30, tzinfo=UTC), 'wanted --offence "a, b" \n second line'),
    (dt.datetime(2026, 11, 15, 23, 59, tzinfo=UTC), "-2+3"),
    (dt.datetime(2026, 11, 16, 0, 0, tzinfo=UTC), "@SUM(A1)"),
]


@pytest.fixture
def audit_env(monkeypatch, tmp_path, db_url, sessions):
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("MO_CONFIG", str(write_config(tmp_path)))
    with sessions() as s, s.begin():
        for i, (at, detail) in enumerate(EVENTS):
            entry = AuditEntry(
                actor=f"U{i}",
                action="command",
                outcome="ok" if i % 2 else "refused",
                detail=detail,
                force="suffolk",
                team_id="TSUFFOLK",
                channel_id="CMO",
                records_disclosed=i,
                reference=None if i != 3 else "E-ABC123",
            )
            record(s, entry, at=at)
    return sessions


def test_csv_export_of_a_period(audit_env, tmp_path, capsys) -> None:
    out = tmp_path / "audit.csv"
    assert main(["audit", "export", "--since", "2026-11-01", "--until", "2026-11-15", "--out", str(out)]) == 0
    with out.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == list(COLUMNS)
    # Whole days in London (GMT in November): 31 Oct 23:30 UTC is 31 Oct; 15 Nov 23:59 is still the 15th.
    assert [r["actor"] for r in rows] == ["U3", "U4"]
    assert rows[0]["detail"] == 'wanted --offence "a, b" \n second line'  # quoting round-trips
    assert rows[0]["reference"] == "E-ABC123" and rows[0]["records_disclosed"] == "3"
    assert rows[1]["detail"] == "'-2+3"  # a spreadsheet would run it as a formula
    assert rows[0]["at"] == "2026-11-01T00:30:00+00:00"
    assert "wrote 2 audit events" in capsys.readouterr().err


def test_formula_cells_are_defused(audit_env, tmp_path) -> None:
    out = tmp_path / "a.csv"
    assert main(["audit", "export", "--since", "2026-10-31", "--out", str(out)]) == 0
    with out.open(newline="", encoding="utf-8") as f:
        details = [r["detail"] for r in csv.DictReader(f)]
    assert details[0] == '\'=HYPERLINK("http://x","click")'
    assert "'@SUM(A1)" in details
    assert not any(d.startswith(("=", "+", "-", "@")) for d in details)


def test_jsonl_export_keeps_values_exact_and_uses_local_days(audit_env, capsys) -> None:
    assert main(["audit", "export", "--since", "2026-07-01", "--until", "2026-07-01", "--format", "jsonl"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [json.loads(line) for line in lines]
    # 30 Jun 23:30 UTC is 1 July 00:30 in London (BST); 22:59 UTC is still 30 June.
    assert [r["detail"] for r in rows] == ["00:30 BST on 1 July"]
    assert set(rows[0]) == set(COLUMNS)
    assert rows[0]["records_disclosed"] == 1 and rows[0]["team_id"] == "TSUFFOLK"


def test_export_is_itself_audited(audit_env, tmp_path) -> None:
    assert main(["audit", "export", "--since", "2026-01-01", "--out", str(tmp_path / "x.csv")]) == 0
    with audit_env() as s:
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "export")).one()
    assert ev.outcome == "ok" and ev.actor.startswith("cli:")
    assert ev.detail.startswith("audit export 2026-01-01..now csv") and ev.detail.endswith(f": {len(EVENTS)} events")
    assert ev.records_disclosed == 0


def test_until_before_since_is_refused(audit_env, capsys) -> None:
    assert main(["audit", "export", "--since", "2026-11-02", "--until", "2026-11-01"]) == 2
    assert "before --since" in capsys.readouterr().err


def test_export_streams_in_batches(sessions) -> None:
    with sessions() as s, s.begin():
        for i in range(1000):
            record(s, AuditEntry(actor=f"U{i}", action="command", outcome="ok", detail=str(i)))
    start, end = period_bounds(dt.date(2000, 1, 1), None, ZoneInfo("UTC"))
    with sessions() as s:
        seen = 0
        for ev in iter_events(s, start, end, batch=100):
            assert ev.detail == str(seen)
            seen += 1
            # Rows are handed out and let go: the session never holds more than one batch.
            assert len(s.identity_map) <= 100
    assert seen == 1000
