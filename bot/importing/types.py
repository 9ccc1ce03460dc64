"""Typed request and report of an import."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

MAX_REPORTED_ERRORS = 50


@dataclass(frozen=True)
class RowError:
    row: int  # 1-based data row number as a person sees it in a spreadsheet (header is row 1)
    column: str
    value: str
    reason: str


@dataclass(frozen=True)
class ImportRequest:
    dataset: str  # wanted | suspects | bail | actions
    path: Path
    force: str | None = None  # default: the config's default force, unless the file has a force column
    as_of: dt.date | None = None  # default: today in the force's timezone
    snapshot: bool = False
    actor: str = "cli"
    # The file holds every case open on or after this date (default: the as-of date): see bot/coverage.py.
    covers_from: dt.date | None = None
    # The file's SHA-256, already being computed (`mo-bot import` starts it as it loads: bot.importing.readers
    # HashStarted); None: the import computes it.
    hashing: Future[str] | None = field(default=None, compare=False)


@dataclass
class ImportReport:
    dataset: str
    file_name: str
    file_sha256: str = ""
    as_of: dt.date | None = None
    covers_from: dt.date | None = None  # the date this import declares it covers from (None: as_of)
    # Per force in ``forces``: the date its dataset is complete from after this import (bot/coverage.py).
    covered_from: list[dt.date | None] = field(default_factory=list)
    forces: list[str] = field(default_factory=list)
    rows_in_file: int = 0
    added: int = 0
    updated: int = 0
    closed: int = 0
    unchanged: int = 0
    # Rows closed longer ago than the retention period: never loaded (bot/importing/retention_rule.py).
    past_retention: int = 0
    retention_days: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    # Columns the file does not have, whose stored values the cases already in the store keep (a merge only).
    kept_columns: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)  # the first MAX_REPORTED_ERRORS
    error_count: int = 0
    refused: str | None = None  # a whole-file refusal (names/DOB columns, empty file, unreadable format)
    batch_ids: list[int] = field(default_factory=list)
    # The as-of date of the earlier import of the same file this one repeated without reading a row (its rows
    # unchanged since: bot/importing/unchanged.py); None when the file was merged.
    unchanged_since: dt.date | None = None

    @property
    def ok(self) -> bool:
        return self.refused is None and self.error_count == 0
