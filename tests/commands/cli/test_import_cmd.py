"""`mo-bot import` and the standard answers it commits with: on by default, off with MO_WARM_ANSWERS=0, and a
value that is neither refused before anything is read. SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.models import AuditEvent, ImportBatch, SharedAnswer, SharedAnswerWarm
from commands.cli import main

HEADER = "reference,offence,district,reason,circulated_on,status"


def _export(tmp_path: Path) -> Path:
    path = tmp_path / "wanted.csv"
    path.write_text(f"{HEADER}\nW-1,Burglary,ipswich,never_arrested,2026-10-01,open\n", encoding="utf-8")
    return path


def _counts(sessions: sessionmaker[Session]) -> tuple[int, int, int, int]:
    with sessions() as s:
        return (
            int(s.scalar(select(func.count()).select_from(ImportBatch)) or 0),
            int(s.scalar(select(func.count()).select_from(SharedAnswerWarm)) or 0),
            int(s.scalar(select(func.count()).select_from(SharedAnswer)) or 0),
            int(s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "warm")) or 0),
        )


@pytest.fixture
def cli_env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv("MO_CONFIG", raising=False)


@pytest.mark.usefixtures("cli_env")
def test_an_import_commits_with_its_standard_answers_by_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MO_WARM_ANSWERS", raising=False)
    assert main(["import", "wanted", str(_export(tmp_path)), "--as-of", "2026-11-01"]) == 0
    out = capsys.readouterr().out
    batches, claims, answers, audited = _counts(sessions)
    assert (batches, claims, audited) == (1, 1, 1) and answers > 0
    assert f"standard answers for suffolk wanted: {answers} computed with the import" in out


@pytest.mark.usefixtures("cli_env")
def test_the_same_file_again_commits_at_once_and_leaves_its_answers_to_the_running_bot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MO_WARM_ANSWERS", raising=False)
    export = _export(tmp_path)
    assert main(["import", "wanted", str(export), "--as-of", "2026-11-01"]) == 0
    first = _counts(sessions)
    capsys.readouterr()
    assert main(["import", "wanted", str(export), "--as-of", "2026-11-02"]) == 0
    out = capsys.readouterr().out
    assert "unchanged since the import of 2026-11-01" in out
    assert "computed by the running bot after the commit (no row changed)" in out
    assert "computed with the import" not in out
    assert _counts(sessions) == (first[0] + 1, *first[1:])  # a new batch; no answers computed, claimed or audited


@pytest.mark.usefixtures("cli_env")
def test_with_warm_answers_off_an_import_leaves_them_to_the_serving_processes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MO_WARM_ANSWERS", "0")
    assert main(["import", "wanted", str(_export(tmp_path)), "--as-of", "2026-11-01"]) == 0
    assert "standard answers" not in capsys.readouterr().out
    assert _counts(sessions) == (1, 0, 0, 0)


@pytest.mark.usefixtures("cli_env")
def test_a_warm_answers_setting_that_is_neither_on_nor_off_imports_nothing_and_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MO_WARM_ANSWERS", "sometimes")
    assert main(["import", "wanted", str(_export(tmp_path)), "--as-of", "2026-11-01"]) == 2
    assert "MO_WARM_ANSWERS: expected 1 or 0 (on or off), got 'sometimes'" in capsys.readouterr().err
    assert _counts(sessions) == (0, 0, 0, 0)


@pytest.mark.usefixtures("cli_env")
def test_an_older_export_than_the_latest_is_refused_with_exit_2_and_audited(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sessions: sessionmaker[Session]
) -> None:
    assert main(["import", "wanted", str(_export(tmp_path)), "--as-of", "2026-11-01"]) == 0
    before = _counts(sessions)
    capsys.readouterr()
    assert main(["import", "wanted", str(_export(tmp_path)), "--as-of", "2026-10-25"]) == 2
    out = capsys.readouterr()
    assert (
        "wanted.csv is an export as of 25 Oct 2026, but the suffolk wanted figures already come from a later one"
        in (out.out + out.err)
    )
    assert _counts(sessions) == before
    with sessions() as s:
        last = s.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
    assert (last.action, last.outcome) == ("import", "refused") and "as of 1 Nov 2026" in last.detail
