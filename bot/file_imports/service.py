"""Import a file an analyst sent to the bot in Slack, through the same import service as ``mo-bot import``.

The checks that need nothing but Slack's description of the file come first, so a file that will be refused is
never downloaded: the workspace rule, the place (a direct message with the bot only: an export is personal data
and a channel would show it to everyone in it), the role (``analyst`` or ``admin``), the type (CSV or XLSX) and
the size (``slack.import_max_bytes``). Then the file is streamed to a temporary file (at most that many bytes),
its dataset taken from the message or recognised from its header row, and
:func:`bot.importing.service.import_file` runs with the sender's force — so a row of another force, or a district
that is not the sender's force's, is a bad row and nothing is imported.

A ``--snapshot`` import first runs in a transaction that is rolled back, to say how many open records it would
close; nothing changes until the sender presses Confirm (a :class:`~bot.models.SlackFileImport` row, decided once
by one conditional UPDATE in the import's own transaction, void after :data:`DECISION_TTL`). On Confirm the file
is downloaded again and imported only if its SHA-256 is the one previewed.

Every attempt is audited (``action = file_import``: who, the file's name and SHA-256, the outcome); a successful
import also writes the import service's own ``import`` rows.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.audit import AuditEntry, record, record_separately
from bot.config import ROLES, Force
from bot.db import rowcount
from bot.file_imports.recognise import recognise
from bot.file_imports.types import (
    DECISION_TTL,
    SUPPORTED_TYPES,
    BeforeCommit,
    ChooseDataset,
    ConfirmNeeded,
    Decided,
    Fetch,
    FetchFailed,
    FileOffer,
    Imported,
    ImportOptions,
    NotImported,
    Outcome,
    Place,
    Refused,
    Sender,
)
from bot.importing.readers import FileRefused, file_sha256
from bot.importing.service import import_file
from bot.importing.types import ImportReport, ImportRequest
from bot.models import SlackFileImport
from bot.runtime import Runtime

IMPORT_ROLE = "analyst"


def at_least(role: str, needed: str) -> bool:
    # As bot.access ranks roles (bot.config.ROLES); importing bot.access here would close a cycle of the bot
    # package's modules (bot.slack renders these outcomes, and bot.access uses bot.slack's escaping).
    return ROLES.index(role) >= ROLES.index(needed)


_UNSAFE = re.compile(r"[^A-Za-z0-9._ ()+-]+")


def offer_file(
    rt: Runtime,
    sender: Sender,
    offer: FileOffer,
    options: ImportOptions | str,
    place: Place,
    fetch: Fetch,
    before_commit: BeforeCommit | None = None,
) -> Outcome:
    """Check, download and import ``offer`` (or ask first: a snapshot's Confirm, the dataset). ``options`` is what
    the message asked for, or why it could not be read. Audited. ``before_commit`` runs in a successful import's
    transaction just before it commits (the standard answers computed with it: commands/mo/warm.py)."""
    refusal = _refusal(rt, sender, offer) or (options if isinstance(options, str) else None)
    if refusal is not None:
        _audit(rt, sender, offer.name, "", "refused", refusal)
        return Refused(refusal)
    with tempfile.TemporaryDirectory(prefix="mo-bot-import-") as tmp:
        path = Path(tmp) / safe_name(offer.name)
        try:
            fetch(path, rt.config.slack.import_max_bytes)
            sha = file_sha256(path)
        except (FetchFailed, FileRefused) as e:
            _audit(rt, sender, offer.name, "", "refused", str(e))
            return Refused(str(e))
        assert not isinstance(options, str)
        return _with_file(rt, sender, offer, options, place, path, sha, before_commit)


def _with_file(
    rt: Runtime,
    sender: Sender,
    offer: FileOffer,
    options: ImportOptions,
    place: Place,
    path: Path,
    sha: str,
    before_commit: BeforeCommit | None = None,
) -> Outcome:
    assert sender.force is not None  # _refusal refused a sender without a force
    dataset = options.dataset
    if dataset is None:
        try:
            candidates = recognise(path)
        except FileRefused as e:
            _audit(rt, sender, offer.name, sha, "refused", str(e))
            return Refused(str(e))
        if len(candidates) == 1:
            dataset = candidates[0]
        else:
            row = _pending(rt, sender, offer, options, place, sha, kind="dataset", dataset=None)
            _audit(rt, sender, offer.name, sha, "ok", f"asked which dataset ({', '.join(candidates) or 'none'} fit)")
            return ChooseDataset(row.token, offer.name, candidates or _figures_datasets(), row.expires_at)
    if options.snapshot:
        return _preview(rt, sender, offer, options, place, path, sha, dataset)
    return _import(rt, sender, sender.force, path, sha, dataset, options, before_commit=before_commit)


def _figures_datasets() -> tuple[str, ...]:
    return ("wanted", "suspects", "bail", "actions")


def _refusal(rt: Runtime, sender: Sender, offer: FileOffer) -> str | None:
    if sender.refusal is not None or sender.force is None:
        return sender.refusal or "This Slack workspace is not set up for mo-bot, so I can't import for it."
    if not sender.channel_is_dm:
        return (
            "I only import exports sent to me in a direct message: an export holds case records, and a channel "
            "shows them to everyone in it. Nothing was imported; please delete the file here and send it to me "
            "in a DM."
        )
    if not at_least(sender.role, IMPORT_ROLE):
        return (
            f"Only analysts and admins can import exports; your role is {sender.role}. Nothing was imported. "
            "Ask an admin to add you to `slack.roles.analyst` if you circulate the monthly data."
        )
    ext = offer.name.rsplit(".", 1)[-1].lower() if "." in offer.name else ""
    if ext not in SUPPORTED_TYPES and offer.filetype.lower() not in SUPPORTED_TYPES:
        kind = f".{ext}" if ext else (offer.filetype or "this kind of")
        return (
            f"I can't import {kind} files. Send the export as CSV UTF-8 (.csv) or as an Excel workbook (.xlsx). "
            "Nothing was imported."
        )
    limit = rt.config.slack.import_max_bytes
    if offer.size > limit:
        return (
            f"{offer.name} is {_mb(offer.size)}; I import files of at most {_mb(limit)} sent in Slack. Nothing was "
            "imported: split the export, or import it on the server with `mo-bot import`."
        )
    return None


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):,.1f} MB"


def safe_name(name: str) -> str:
    """The file's own name as the import records it (batch and audit), without anything a path could use."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE.sub("_", base).strip(" .") or "export"
    return cleaned[:200]


def _request(sender: Sender, force: Force, path: Path, dataset: str, options: ImportOptions) -> ImportRequest:
    return ImportRequest(
        dataset=dataset,
        path=path,
        force=force.slug,
        as_of=options.as_of,
        snapshot=options.snapshot,
        actor=sender.user_id,
        covers_from=options.covers_from,
    )


def _import(
    rt: Runtime,
    sender: Sender,
    force: Force,
    path: Path,
    sha: str,
    dataset: str,
    options: ImportOptions,
    claim: str | None = None,
    before_commit: BeforeCommit | None = None,
) -> Outcome:
    """The import itself, committed only if every row is valid (and, for a confirmed snapshot, only if this
    transaction is the one that decided ``claim``)."""
    now = rt.clock.now()
    request = _request(sender, force, path, dataset, options)
    with rt.sessions() as session:
        if claim is not None and not _decide(session, claim, sender.user_id, "confirmed", now):
            session.rollback()
            return Decided(_already(rt, claim))
        try:
            report = import_file(session, rt.config, request, now)
        except Exception as e:
            session.rollback()
            _audit(rt, sender, path.name, sha, "error", f"{dataset}: nothing imported: failed ({type(e).__name__})")
            raise
        if report.ok:
            if before_commit is not None:
                before_commit(rt, session, report)
            record(session, _entry(sender, path.name, sha, "ok", _summary(report)), at=now)
            session.commit()
            return Imported(report, force.name)
        session.rollback()
    outcome = "refused" if report.refused else "invalid"
    why = report.refused or f"{report.error_count} bad row(s)"
    _audit(rt, sender, path.name, sha, outcome, f"{dataset}: nothing imported: {why}")
    return NotImported(report)


def _summary(report: ImportReport) -> str:
    since = f"unchanged since the import of {report.unchanged_since.isoformat()}: " if report.unchanged_since else ""
    return (
        f"{report.dataset}: imported {report.rows_in_file} rows; {since}added {report.added}, "
        f"updated {report.updated}, closed {report.closed}, unchanged {report.unchanged} "
        f"(batch {', '.join(map(str, report.batch_ids))})"
    )


def _preview(
    rt: Runtime,
    sender: Sender,
    offer: FileOffer,
    options: ImportOptions,
    place: Place,
    path: Path,
    sha: str,
    dataset: str,
) -> Outcome:
    """What a snapshot import would do, found by doing it in a transaction that is rolled back."""
    assert sender.force is not None
    now = rt.clock.now()
    with rt.sessions() as session:
        report = import_file(session, rt.config, _request(sender, sender.force, path, dataset, options), now)
        session.rollback()
    if not report.ok:
        outcome = "refused" if report.refused else "invalid"
        why = report.refused or f"{report.error_count} bad row(s)"
        _audit(rt, sender, offer.name, sha, outcome, f"{dataset} --snapshot: nothing imported: {why}")
        return NotImported(report)
    chosen = ImportOptions(dataset=dataset, as_of=report.as_of, snapshot=True, covers_from=options.covers_from)
    row = _pending(rt, sender, offer, chosen, place, sha, kind="confirm", dataset=dataset, would_close=report.closed)
    _audit(rt, sender, offer.name, sha, "ok", f"{dataset} --snapshot: would close {report.closed}; asked to confirm")
    assert report.as_of is not None
    return ConfirmNeeded(
        row.token, dataset, offer.name, sender.force.name, report.closed, report.as_of, report, row.expires_at
    )


def _pending(
    rt: Runtime,
    sender: Sender,
    offer: FileOffer,
    options: ImportOptions,
    place: Place,
    sha: str,
    *,
    kind: str,
    dataset: str | None,
    would_close: int = 0,
) -> SlackFileImport:
    assert sender.force is not None
    now = rt.clock.now()
    row = SlackFileImport(
        token=secrets.token_urlsafe(24),
        kind=kind,
        state="pending",
        team_id=sender.team_id,
        user_id=sender.user_id,
        force=sender.force.slug,
        channel_id=place.channel_id,
        thread_ts=place.thread_ts,
        file_id=offer.file_id,
        file_name=offer.name[:255],
        file_url=offer.url[:1024],
        file_sha256=sha,
        dataset=dataset,
        as_of=options.as_of,
        snapshot=options.snapshot,
        covers_from=options.covers_from,
        would_close=would_close,
        created_at=now,
        expires_at=now + DECISION_TTL,
    )
    with rt.sessions() as session, session.begin():
        session.add(row)
    return row


@dataclass(frozen=True)
class Pending:
    """A decision waiting for its sender, as a button press needs it (to download the file again)."""

    token: str
    kind: str
    user_id: str
    force: str
    file_id: str
    file_name: str
    file_url: str
    file_sha256: str
    dataset: str | None
    as_of: dt.date | None
    snapshot: bool
    covers_from: dt.date | None
    channel_id: str
    thread_ts: str
    state: str
    expires_at: dt.datetime


def pending(rt: Runtime, token: str) -> Pending | None:
    with rt.sessions() as session:
        row = session.scalar(select(SlackFileImport).where(SlackFileImport.token == token[:64]))
        if row is None:
            return None
        return Pending(
            row.token,
            row.kind,
            row.user_id,
            row.force,
            row.file_id,
            row.file_name,
            row.file_url,
            row.file_sha256,
            row.dataset,
            row.as_of,
            row.snapshot,
            row.covers_from,
            row.channel_id,
            row.thread_ts,
            row.state,
            row.expires_at,
        )


def decide(
    rt: Runtime, sender: Sender, token: str, choice: str, fetch: Fetch, before_commit: BeforeCommit | None = None
) -> Outcome:
    """A button on a pending decision: ``confirm``, ``cancel``, or a dataset name (the dataset question). Only its
    sender may decide, still an analyst of the same force; each decision is taken once and before it expires."""
    found = pending(rt, token)
    if found is None:
        return Decided("That request is no longer known. Nothing was imported; send the file again.")
    name = found.file_name
    if sender.user_id != found.user_id or sender.force is None or sender.force.slug != found.force:
        _audit(rt, sender, name, found.file_sha256, "refused", "a decision on another person's file")
        return Refused("Only the person who sent this file can decide what happens to it.")
    if not at_least(sender.role, IMPORT_ROLE):
        why = f"Only analysts and admins can import exports; your role is now {sender.role}. Nothing was imported."
        _audit(rt, sender, name, found.file_sha256, "refused", why)
        return Refused(why)
    now = rt.clock.now()
    if found.state != "pending" or found.expires_at <= now:
        return Decided(_already(rt, token))
    if choice == "cancel":
        with rt.sessions() as session, session.begin():
            done = _decide(session, token, sender.user_id, "cancelled", now)
        if not done:
            return Decided(_already(rt, token))
        _audit(rt, sender, name, found.file_sha256, "ok", f"{found.dataset or 'import'}: cancelled; nothing imported")
        return Decided(f"Cancelled: nothing was imported from {name}.", taken=True)
    if (found.kind == "confirm" and choice != "confirm") or (found.kind == "dataset" and choice == "confirm"):
        return Refused(f"{choice!r} is not an answer to this question.")
    if found.kind == "dataset" and choice not in _figures_datasets():
        return Refused(f"{choice!r} is not a dataset; expected one of {', '.join(_figures_datasets())}.")
    offer = FileOffer(found.file_id, found.file_name, 0, "", found.file_url)
    place = Place(found.channel_id, found.thread_ts)
    with tempfile.TemporaryDirectory(prefix="mo-bot-import-") as tmp:
        path = Path(tmp) / safe_name(found.file_name)
        try:
            fetch(path, rt.config.slack.import_max_bytes)
            sha = file_sha256(path)
        except (FetchFailed, FileRefused) as e:
            _audit(rt, sender, name, found.file_sha256, "refused", str(e))
            return Refused(str(e))
        if sha != found.file_sha256:
            why = f"{name} has changed since you sent it (its SHA-256 differs). Nothing was imported; send it again."
            _audit(rt, sender, name, sha, "refused", why)
            return Refused(why)
        if found.kind == "dataset":
            with rt.sessions() as session, session.begin():
                done = _decide(session, token, sender.user_id, "chosen", now)
            if not done:
                return Decided(_already(rt, token))
            options = ImportOptions(
                dataset=choice, as_of=found.as_of, snapshot=found.snapshot, covers_from=found.covers_from
            )
            return _with_file(rt, sender, offer, options, place, path, sha, before_commit)
        assert found.dataset is not None
        options = ImportOptions(dataset=found.dataset, as_of=found.as_of, snapshot=True, covers_from=found.covers_from)
        return _import(
            rt, sender, sender.force, path, sha, found.dataset, options, claim=token, before_commit=before_commit
        )


def _decide(session: Session, token: str, user_id: str, state: str, now: dt.datetime) -> bool:
    """Take the decision: True for the one transaction that moved the row from ``pending`` before it expired."""
    result = session.execute(
        update(SlackFileImport)
        .where(
            SlackFileImport.token == token,
            SlackFileImport.user_id == user_id,
            SlackFileImport.state == "pending",
            SlackFileImport.expires_at > now,
        )
        .values(state=state, decided_at=now)
    )
    return rowcount(result) == 1


def _already(rt: Runtime, token: str) -> str:
    """Why a decision could not be taken: taken already, or expired (then recorded as such)."""
    now = rt.clock.now()
    with rt.sessions() as session, session.begin():
        row = session.scalar(select(SlackFileImport).where(SlackFileImport.token == token))
        if row is None:
            return "That request is no longer known. Nothing was imported; send the file again."
        if row.state == "pending" and row.expires_at <= now:
            row.state = "expired"
        state, name = row.state, row.file_name
    if state == "expired":
        return f"This confirmation for {name} has expired. Nothing was imported; send the file again."
    if state == "confirmed":
        return f"{name} was already confirmed; it was imported once. Nothing more was done."
    if state == "cancelled":
        return f"{name} was cancelled; nothing was imported. Send the file again to import it."
    return f"A dataset was already chosen for {name}; nothing more was done."


def _entry(sender: Sender, file_name: str, sha: str, outcome: str, detail: str) -> AuditEntry:
    return AuditEntry(
        actor=sender.user_id,
        action="file_import",
        outcome=outcome,
        detail=f"{file_name} (SHA-256 {sha or 'not downloaded'}): {detail}"[:2000],
        force=sender.force.slug if sender.force else None,
        team_id=sender.team_id,
        channel_id=sender.channel_id,
    )


def _audit(rt: Runtime, sender: Sender, file_name: str, sha: str, outcome: str, detail: str) -> None:
    record_separately(rt.sessions, _entry(sender, file_name, sha, outcome, detail), at=rt.clock.now())
