"""The `mo-bot` executable starts hashing an import's file before the command loads, and the import uses that hash
only for the file it imports; a refusal found while hashing reads as it always did. SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import bot.importing.service as import_service
from bot.importing.readers import MAX_LINE_BYTES, HashStarted, file_sha256
from bot.models import ImportBatch
from commands import entry
from commands.cli import main

HEADER = "reference,offence,district,reason,circulated_on,status"


@pytest.fixture
def cli_env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv("MO_CONFIG", raising=False)
    monkeypatch.setenv("MO_WARM_ANSWERS", "0")


def _export(tmp_path: Path, name: str = "wanted.csv") -> Path:
    path = tmp_path / name
    path.write_text(f"{HEADER}\nW-1,Burglary,ipswich,never_arrested,2026-10-01,open\n", encoding="utf-8")
    return path


def test_the_file_argument_is_found_wherever_the_options_are(tmp_path: Path) -> None:
    f = _export(tmp_path)
    found = entry.import_file_argument
    assert found(["import", "wanted", str(f)]) == f
    assert found(["--config", "x.toml", "import", "wanted", str(f), "--as-of", "2026-11-01"]) == f
    assert found(["import", "--force", "suffolk", "--as-of=2026-11-01", "bail", str(f), "--snapshot"]) == f
    assert found(["import", "--covers-from", "2026-01-01", "--json", "wanted", str(f)]) == f
    assert found(["figures", "wanted", str(f)]) is None  # another command
    assert found(["import", "wanted"]) is None
    assert found(["import", "wanted", str(tmp_path / "missing.csv")]) is None
    assert found(["import", "wanted", str(tmp_path)]) is None  # a directory is no file


@pytest.mark.usefixtures("cli_env")
def test_mo_bot_import_records_the_hash_it_started_before_loading(
    tmp_path: Path, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    export = _export(tmp_path)

    def not_again(path: Path) -> str:
        raise AssertionError("the import hashed the file a second time")

    monkeypatch.setattr(import_service, "file_sha256", not_again)
    monkeypatch.setattr(sys, "argv", ["mo-bot", "import", "wanted", str(export), "--as-of", "2026-11-01"])
    assert entry.main() == 0
    with sessions() as s:
        (sha,) = s.scalars(select(ImportBatch.file_sha256)).all()
    assert sha == hashlib.sha256(export.read_bytes()).hexdigest()


@pytest.mark.usefixtures("cli_env")
def test_a_hash_of_another_file_is_not_used(tmp_path: Path, sessions: sessionmaker[Session]) -> None:
    export, other = _export(tmp_path), tmp_path / "other.csv"
    other.write_text("something else\n", encoding="utf-8")
    early = HashStarted.start(other)
    assert early.of(export) is None and early.of(tmp_path / "." / "other.csv") is early.future
    assert main(["import", "wanted", str(export), "--as-of", "2026-11-01"], early_hash=early) == 0
    with sessions() as s:
        (sha,) = s.scalars(select(ImportBatch.file_sha256)).all()
    assert sha == file_sha256(export) != early.future.result()


@pytest.mark.usefixtures("cli_env")
def test_a_refusal_found_while_hashing_reads_as_it_always_did(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    export = tmp_path / "long.csv"
    export.write_bytes(HEADER.encode() + b"\n" + b"x" * (MAX_LINE_BYTES + 10) + b"\n")
    assert main(["import", "wanted", str(export)]) == 2
    plain = capsys.readouterr().out
    monkeypatch.setattr(sys, "argv", ["mo-bot", "import", "wanted", str(export)])
    assert entry.main() == 2
    early = capsys.readouterr().out
    assert early == plain and "REFUSED wanted export long.csv" in early and "line 2" in early
    with sessions() as s:
        assert s.scalars(select(ImportBatch)).all() == []
