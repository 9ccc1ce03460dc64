"""`mo-bot actions export|list|show` and `mo-bot remind` on the seed's July 2022 log (imported through the real
import command), on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from docx import Document
from docx.enum.section import WD_ORIENT
from openpyxl import load_workbook
from sqlalchemy import select

from bot.action_log import service
from bot.action_log.types import PILLARS, Actor, NewAction
from bot.clock import SystemClock
from bot.config import load_config
from bot.models import Action, AuditEvent
from commands.cli import main
from tests.support.paths import REPO_ROOT

LONDON = ZoneInfo("Europe/London")
SEED = REPO_ROOT / "bot" / "data" / "actions-2022-07.csv"


@pytest.fixture
def seeded(db_url: str, monkeypatch: pytest.MonkeyPatch, sessions) -> list[Action]:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv("MO_CONFIG", raising=False)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    assert main(["import", "actions", str(SEED)]) == 0
    with sessions() as s:
        return list(s.scalars(select(Action).where(Action.force == "suffolk")))


def test_export_csv_is_the_appendix(seeded: list[Action], capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["actions", "export", "--format", "csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == ["Pillar", "Ref", "Action", "Owner", "Status", "Due", "Last update"]
    assert len(rows) - 1 == len(seeded)
    by_ref = {r[1]: r for r in rows[1:]}
    for a in seeded:
        r = by_ref[a.reference]
        assert (r[0], r[2], r[4]) == (PILLARS[a.pillar], a.title, a.status.upper())
        assert r[3] == (a.owner_initials or "")
        # No history yet: the last update is the log it came with, dated by the log (31 Jul 2022), not by the day
        # it was imported, with the log's own note.
        assert r[6].startswith("2022-07-31: ")
        assert " ".join((a.notes or "in the log").split())[:60] in r[6]
    # Pillars in the strategy's order.
    order = [list(PILLARS.values()).index(r[0]) for r in rows[1:]]
    assert order == sorted(order)


def test_export_xlsx_by_pillar(seeded: list[Action], tmp_path: Path, sessions) -> None:
    out = tmp_path / "log.xlsx"
    assert main(["actions", "export", "--format", "xlsx", "--pillar", "Divert & Deter", "--out", str(out)]) == 0
    ws = load_workbook(out).active
    values = list(ws.iter_rows(values_only=True))[1:]
    assert sorted(v[1] for v in values) == sorted(a.reference for a in seeded if a.pillar == "divert")
    assert {v[0] for v in values} == {"Divert & Deter"}
    with sessions() as s:
        audit = s.scalars(select(AuditEvent).where(AuditEvent.detail.like("actions export%"))).all()
    assert len(audit) == 1 and audit[0].actor.startswith("cli:") and "pillar=divert" in audit[0].detail


def test_list_and_show(seeded: list[Action], capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["actions", "list", "--owner", "hh"]) == 0
    out = capsys.readouterr().out
    hh_live = [a for a in seeded if a.owner_initials == "HH" and a.status in ("open", "ongoing", "held")]
    assert hh_live and all(f"  {a.reference} " in out for a in hh_live)
    assert f"{len(hh_live)} actions" in out
    assert main(["actions", "show", "a-8"]) == 0
    out = capsys.readouterr().out
    a8 = next(a for a in seeded if a.reference == "A-8")
    assert out.startswith(f"A-8  {a8.title}")
    assert main(["actions", "show", "A-999"]) == 2


def test_remind_dry_run_and_without_token(seeded: list[Action], capsys: pytest.CaptureFixture[str], sessions) -> None:
    capsys.readouterr()
    # The seed log has no due dates, so nobody is due a reminder; imported as of its own date (July 2022), its
    # two recurring actions came round long ago and would reopen. The dry run says so.
    reopen = [
        "suffolk would reopen A-33 (recurs every 6 month(s))",
        "suffolk would reopen A-39 (recurs every 1 month(s))",
    ]
    assert main(["remind", "--dry-run"]) == 0
    assert capsys.readouterr().out.splitlines() == reopen
    # Give A-1 (HH) and A-9 (JM), neither mapped to a Slack user, a due date that has passed.
    with sessions() as s:
        for a in s.scalars(select(Action).where(Action.force == "suffolk", Action.reference.in_(["A-1", "A-9"]))):
            a.due_on = dt.date.today() - dt.timedelta(days=3)
        s.commit()
    assert main(["remind", "--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert sorted(out) == [
        "suffolk HH (no Slack user mapped; not DMed): A-1",
        "suffolk JM (no Slack user mapped; not DMed): A-9",
        *reopen,
    ]
    # Once reopened (the reminders job does it first), nothing is due but the two mapped-to-nobody reminders; with
    # neither, the dry run says "nothing due" rather than printing nothing.
    with sessions() as s:
        for a in s.scalars(select(Action).where(Action.force == "suffolk", Action.reference.in_(["A-1", "A-9"]))):
            a.due_on = None
        for a in s.scalars(select(Action).where(Action.force == "suffolk", Action.reference.in_(["A-33", "A-39"]))):
            a.status, a.completed_on = "open", None
        s.commit()
    assert main(["remind", "--dry-run"]) == 0
    assert capsys.readouterr().out == "nothing due: no reminder would be sent and no recurring action would reopen\n"
    assert main(["remind"]) == 2
    assert "SLACK_BOT_TOKEN" in capsys.readouterr().err


def test_export_into_a_closed_pipe_stops_quietly(seeded: list[Action], db_url: str) -> None:
    """`mo-bot actions export | head -0`: the reader is gone before the first write; the command stops with
    SIGPIPE's status and no BrokenPipeError traceback on stderr."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "DATABASE_URL": db_url}
    env.pop("MO_CONFIG", None)
    read, write = os.pipe()
    os.close(read)  # nobody will ever read: the first write fails with EPIPE
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from commands.cli import main; sys.exit(main())", "actions", "export"],
        stdout=write,
        stderr=subprocess.PIPE,
        env=env,
        timeout=60,
    )
    os.close(write)
    err = proc.stderr.decode()
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert proc.returncode == 141


def test_paper_docx_xlsx_csv_read_back(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sessions) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv("MO_CONFIG", raising=False)
    assert main(["import", "actions", str(SEED), "--as-of", "2022-07-31"]) == 0
    force = load_config(database_url=db_url).force("suffolk")
    with sessions() as s:  # text from a user that a spreadsheet would run
        made = service.create_action(
            s, force, Actor("U0CHAIR03", "admin"), NewAction('=HYPERLINK("x")', "detect"), SystemClock()
        )
        s.commit()
    assert made.ok, made.refusal
    out = tmp_path / "paper.docx"
    assert main(["actions", "paper", "--format", "docx", "--out", str(out)]) == 0
    doc = Document(str(out))
    section = doc.sections[0]
    assert section.orientation == WD_ORIENT.LANDSCAPE and section.page_width > section.page_height
    header = "\n".join(p.text for p in section.header.paragraphs)
    assert "OFFICIAL" in header and force.name in header
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert headings[:3] == ["Actions", "Achievements", "HMIC Recommendations"]
    cells = [[c.text for c in row.cells] for t in doc.tables for row in t.rows]
    a6 = next(r for r in cells if r[0] == "A-6")
    assert a6[2] == "JM & JG" and a6[3] == "HELD"
    assert next(r for r in cells if r[0] == "A-17")[2] == "13 Sep 2021"
    assert "Closed by HMIC 2/22" in next(r for r in cells if r[0] == "A-49")[5]
    assert not any(r[0] == "A-27" for r in cells)  # the duplicate achievement is not on the paper
    xlsx = tmp_path / "paper.xlsx"
    assert main(["actions", "paper", "--format", "xlsx", "--out", str(xlsx)]) == 0
    wb = load_workbook(xlsx)
    assert wb.sheetnames == ["Actions", "Achievements", "HMIC Recommendations", "Update round"]
    titles = [r[2] for r in wb["Actions"].iter_rows(min_row=2, values_only=True)]
    assert '\'=HYPERLINK("x")' in titles and not any(str(t).startswith("=") for t in titles)
    out_csv = tmp_path / "paper.csv"
    assert main(["actions", "paper", "--format", "csv", "--out", str(out_csv)]) == 0
    rows = list(csv.reader(io.StringIO(out_csv.read_text(encoding="utf-8-sig"))))
    assert rows[0][:4] == ["Section", "Pillar", "Ref", "Item"]
    assert any(r[3] == '\'=HYPERLINK("x")' for r in rows) and not any(c.startswith("=") for r in rows for c in r)
    assert main(["actions", "paper", "--out", str(out), "--as-of", "2999-01-01"]) == 2


def test_remind_dry_run_names_the_recurring_actions_that_would_reopen(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], sessions
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv("MO_CONFIG", raising=False)
    assert main(["import", "actions", str(SEED), "--as-of", "2022-07-31"]) == 0
    capsys.readouterr()
    assert main(["remind", "--dry-run"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "suffolk would reopen A-33 (recurs every 6 month(s))",
        "suffolk would reopen A-39 (recurs every 1 month(s))",
    ]
    with sessions() as s:  # a dry run changes nothing
        assert s.scalars(select(Action.status).where(Action.reference.in_(["A-33", "A-39"]))).all() == [
            "complete",
            "complete",
        ]


def test_the_seed_log_imports_as_of_its_own_date_without_as_of(
    seeded: list[Action], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The log names its date in its sources ("Appendix 1 (July 2022)"): achievements with no date of their own
    are complete by 31 July 2022, not on the day of the import."""
    done = {a.reference: a.completed_on for a in seeded if a.status == "complete"}
    assert done["A-18"] == dt.date(2022, 7, 31)  # no date in its text
    assert done["A-17"] == dt.date(2021, 9, 13)  # "introduced on 13/9/21"
    assert max(done.values()) == dt.date(2022, 7, 31) and all(a.opened_on <= dt.date(2022, 7, 31) for a in seeded)
    # Importing it again says so; sources naming two dates are refused, naming them, and nothing changes.
    capsys.readouterr()
    assert main(["import", "actions", str(SEED)]) == 0
    assert "as of 2022-07-31" in capsys.readouterr().out
    mixed = tmp_path / "mixed.csv"
    lines = SEED.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace("(July 2022)", "(August 2022)")
    mixed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["import", "actions", str(mixed)]) == 2
    said = capsys.readouterr()
    assert "name different dates for the log (31 Jul 2022 (A-2), 31 Aug 2022 (A-1))" in said.out + said.err
    assert "--as-of" in said.out + said.err
