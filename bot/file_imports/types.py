"""Typed inputs and outcomes of importing a file sent in Slack."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from bot.config import Force
from bot.importing.types import ImportReport
from bot.runtime import Runtime

# Writes the file's bytes to the path, at most ``max_bytes`` of them; raises FetchFailed saying why it could not.
Fetch = Callable[[Path, int], None]
# Runs in a successful import's transaction just before it commits, given the import's session and report.
BeforeCommit = Callable[[Runtime, Session, ImportReport], object]

SUPPORTED_TYPES = ("csv", "xlsx")
DECISION_TTL = dt.timedelta(minutes=15)  # how long Confirm / Cancel / a dataset button stays valid


class FetchFailed(Exception):
    """The file could not be downloaded whole; the message is for the sender."""


@dataclass(frozen=True)
class FileOffer:
    """A file as Slack describes it (``files.info``): never trusted for its content, only to decide whether to
    download it at all."""

    file_id: str
    name: str
    size: int
    filetype: str  # Slack's: csv, xlsx, pdf, text, …
    url: str  # url_private_download


@dataclass(frozen=True)
class ImportOptions:
    """What the sender's message asked for: ``wanted``, ``import bail --snapshot``, ``suspects --as-of D``,
    ``suspects --covers-from D`` (the file holds every case open since D)."""

    dataset: str | None = None
    as_of: dt.date | None = None
    snapshot: bool = False
    covers_from: dt.date | None = None


@dataclass(frozen=True)
class Sender:
    """Who sent the file, where, as the access rules resolved them when it arrived (or when a button was pressed)."""

    user_id: str
    team_id: str | None
    force: Force | None
    role: str
    channel_id: str
    channel_is_dm: bool
    refusal: str | None = None  # the workspace rule refuses them: why


@dataclass(frozen=True)
class Place:
    """The message the file came with: replies go in its thread."""

    channel_id: str
    thread_ts: str


@dataclass(frozen=True)
class Imported:
    report: ImportReport
    force_name: str


@dataclass(frozen=True)
class NotImported:
    """The import service refused the file or found bad rows: nothing changed."""

    report: ImportReport


@dataclass(frozen=True)
class Refused:
    """Refused before the import service saw the file (role, place, type, size, message, download)."""

    reason: str


@dataclass(frozen=True)
class ConfirmNeeded:
    token: str
    dataset: str
    file_name: str
    force_name: str
    would_close: int
    as_of: dt.date
    report: ImportReport  # the rest of what the import would do
    expires_at: dt.datetime


@dataclass(frozen=True)
class ChooseDataset:
    token: str
    file_name: str
    candidates: tuple[str, ...]
    expires_at: dt.datetime


@dataclass(frozen=True)
class Decided:
    """A decision taken (``taken``: Cancel pressed in time), or a button pressed on one already taken, cancelled or
    expired (nothing changed)."""

    message: str
    taken: bool = False


Outcome = Imported | NotImported | Refused | ConfirmNeeded | ChooseDataset | Decided
