"""An unchanged export imported again: only its new as-of date is recorded, in a fraction of a second.

An export that did not change since the force's latest import of it — the same bytes (SHA-256), the same dataset,
read under the same settings (:func:`settings_sha256`: the ``--force`` given, the forces' districts, the
vocabularies, the retention period, the importer's columns and rules) — would, staged and merged again, find every
row already as the file has it: no row updated, none added, no history written. Its import then records the new
import batch (so freshness, the figures' "as of" and coverage follow the new as-of date) and the audit event any
import writes, and reads no data row: "unchanged since the import of <date>: 0 added, 0 updated".

The shortcut is taken only when a full re-merge would provably change nothing; otherwise the import runs in
full. For each force of the earlier import, all of:

- that import is the force's latest of the dataset: no other file was merged since;
- the new as-of date is the same or later (an earlier one would refuse rows dated after it);
- ``--snapshot``: the earlier import was a snapshot too (it closed the open rows absent from the file), and no
  open row of the force was opened after its as-of date up to the new one — a re-merge would close those;
- retention (the re-merge drops the rows closed before today's cutoff and deletes their stored copies): no stored
  row of the force is closed before today's cutoff; the earlier import's cutoff was no later than today's (so it
  kept every row today's keeps); and no purge since has a later cutoff than today's (one would have deleted rows a
  re-merge adds back).

Its header is read and checked as any import's is (names and dates of birth refused, required columns, the columns
ignored listed), but no data row. The month flows stamped with the earlier batch are stamped with the new one (the
rows they count did not change); flows that were not current are rebuilt, as a full import rebuilds them. The
revision deltas (bot/figures/revisions.py) are rebuilt from the as-of date on and stamped, as a full import's finish
does: it reads only the versions made from that date on, which for an import in date order are none.

One figure is carried over rather than counted: the rows past retention, which the report gives as the earlier
import counted them. Rows of the file that a retention purge deleted since then are past retention today too, and
a full re-merge would count them again; the stored rows are the same either way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from bot.config import Config
from bot.coverage import covered_from
from bot.figures.ahead import carry_ahead
from bot.figures.day_counts import carry_day_counts
from bot.figures.month_flow import carry_month_flows
from bot.figures.revisions import rebuild_revision_deltas
from bot.import_generations.announce import announce_imports
from bot.import_generations.batches import ImportedBatch
from bot.importing.audit_event import record_import
from bot.importing.columns import CLOSED, OPENED, SCHEMAS, TABLES, VOCABULARIES, header_map
from bot.importing.readers import FileRefused, open_table
from bot.importing.retention_rule import retention_cutoff
from bot.importing.staging import is_pg
from bot.importing.types import ImportReport, ImportRequest
from bot.importing.validate import ErrorSink, RowValidator
from bot.models import ImportBatch, RetentionCutoff

# Raise when a change to the importer could read the same file differently (a date rule, a check between columns)
# in a way the columns, aliases and vocabularies hashed below do not show: imports recorded under the old rules are
# then merged in full once more.
READING_RULES = 2  # 2: a closing status naming how the case closed gives its outcome


def settings_sha256(config: Config, dataset: str, force: str | None) -> str:
    """SHA-256 of everything besides a file's bytes that decides what importing it writes: ``force`` (the
    ``--force`` given, resolved; None when none was), the forces' names, timezones and districts, the default
    force, the vocabulary spellings the site added, the retention period, and the importer's own columns, header
    aliases and vocabularies."""
    settings = {
        "rules": READING_RULES,
        "dataset": dataset,
        "force": force,
        "default_force": config.default_force,
        "forces": {
            slug: [f.name, f.timezone.key, [[d.slug, d.label, list(d.aliases)] for d in f.districts]]
            for slug, f in sorted(config.forces.items())
        },
        "vocabulary_aliases": {
            vocab: {value: list(spellings) for value, spellings in sorted(values.items())}
            for vocab, values in sorted(config.vocabulary_aliases.items())
        },
        "retention_days": config.retention_days,
        "columns": repr(SCHEMAS.get(dataset)),
        "headers": sorted(header_map(dataset).items()) if dataset in SCHEMAS else [],
        "vocabularies": {k: {v: list(s) for v, s in values.items()} for k, values in VOCABULARIES.items()},
    }
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()


def record_settings(session: Session, batch_ids: list[int], settings: str) -> None:
    """Remember, on an import's batches, the settings it read its file under."""
    if batch_ids:
        session.execute(update(ImportBatch).where(ImportBatch.id.in_(batch_ids)).values(settings_sha256=settings))


@dataclass(frozen=True)
class Repeat:
    """The earlier import a file repeats: its batch per force."""

    previous: dict[str, ImportBatch]

    @property
    def since(self) -> dt.date:
        return min(b.as_of for b in self.previous.values())


def _d(session: Session, d: dt.date) -> object:
    return d if is_pg(session) else d.isoformat()


def find_repeat(
    session: Session,
    config: Config,
    request: ImportRequest,
    force: str | None,
    sha256: str,
    settings: str,
    as_of: dt.date,
    now: dt.datetime,
) -> Repeat | None:
    """The earlier import of the same file under the same settings that importing it again as of ``as_of`` would
    repeat without changing a row, or None (see the module docstring for the conditions)."""
    dataset = request.dataset
    if dataset not in OPENED:
        return None  # the action log: its merge writes the as-of date into completed items
    b = ImportBatch
    same = (b.dataset == dataset, b.file_sha256 == sha256, b.settings_sha256 == settings)
    last = session.scalars(select(b).where(*same).order_by(b.id.desc()).limit(1)).first()
    if last is None:
        return None
    previous: dict[str, ImportBatch] = {}
    for batch in session.scalars(select(b).where(*same, b.imported_at == last.imported_at).order_by(b.id)):
        previous[batch.force] = batch  # one import's batches share its time; the latest per force
    table, opened, closed = TABLES[dataset], OPENED[dataset], CLOSED[dataset]
    tz = config.force(force).timezone
    cutoff = retention_cutoff(now.astimezone(tz).date(), config.retention_days)
    for f, prev in previous.items():
        latest = session.scalar(select(func.max(b.id)).where(b.force == f, b.dataset == dataset))
        if latest != prev.id or as_of < prev.as_of:
            return None
        if request.snapshot:
            if not prev.snapshot:
                return None
            if as_of > prev.as_of and _exists(
                session,
                f"SELECT 1 FROM {table} WHERE force = :f AND {closed} IS NULL AND {opened} > :a AND {opened} <= :b",
                {"f": f, "a": _d(session, prev.as_of), "b": _d(session, as_of)},
            ):
                return None
        if retention_cutoff(prev.imported_at.astimezone(tz).date(), config.retention_days) > cutoff:
            return None
        purged = session.scalar(select(RetentionCutoff.cutoff).where(RetentionCutoff.force == f))
        if purged is not None and purged > cutoff:
            return None
        if _exists(
            session, f"SELECT 1 FROM {table} WHERE force = :f AND {closed} < :d", {"f": f, "d": _d(session, cutoff)}
        ):
            return None
    return Repeat(previous)


def _exists(session: Session, sql: str, params: dict[str, object]) -> bool:
    return session.execute(text(f"{sql} LIMIT 1"), params).first() is not None


def import_repeat(
    session: Session,
    config: Config,
    request: ImportRequest,
    path: Path,
    force: str | None,
    as_of: dt.date,
    now: dt.datetime,
    report: ImportReport,
    settings: str,
) -> bool:
    """When ``path`` repeats an earlier import (:func:`find_repeat`), record it as the import of its new as-of date —
    batches, audit events, month-flow stamps, announced as any import's — and fill ``report``; True if it did. A
    file whose header the importer now refuses fills ``report.refused`` and returns True as well."""
    repeat = find_repeat(session, config, request, force, report.file_sha256, settings, as_of, now)
    if repeat is None:
        return False
    # The header is checked as any import checks it (and its ignored columns listed); no data row is read.
    try:
        with open_table(path, max_csv_rows=config.import_max_csv_rows) as table:
            validator = RowValidator(
                request.dataset, table.header, config, force, as_of, ErrorSink(), table.header_row, table.other_headers
            )
    except FileRefused as e:
        report.refused = str(e)
        return True
    report.ignored_columns = list(validator.ignored)
    report.retention_days = config.retention_days
    report.unchanged_since = repeat.since
    batches: dict[str, ImportBatch] = {}
    for f, prev in repeat.previous.items():
        kept = prev.rows_added + prev.rows_updated + prev.rows_unchanged
        batches[f] = ImportBatch(
            force=f,
            dataset=request.dataset,
            file_name=path.name[:255],
            file_sha256=report.file_sha256,
            as_of=as_of,
            snapshot=request.snapshot,
            covers_from=request.covers_from,
            rows_in_file=prev.rows_in_file,
            rows_added=0,
            rows_updated=0,
            rows_closed=0,
            rows_unchanged=kept,
            imported_at=now,
            imported_by=request.actor,
            settings_sha256=settings,
        )
        session.add(batches[f])
        report.rows_in_file += prev.rows_in_file
        report.unchanged += kept
        report.past_retention += prev.rows_in_file - kept
    session.flush()
    for f, batch in batches.items():
        prev = repeat.previous[f]
        carry_month_flows(session, request.dataset, f, prev.id)
        # As a full import's finish does: what the imports from this as-of date on changed in past counts (none
        # of them this one, which changed nothing; an earlier out-of-order one may have), stamped with this batch.
        rebuild_revision_deltas(session, request.dataset, f, review_days=config.wanted_review_days, since=as_of)
        carry_day_counts(session, request.dataset, f, review_days=config.wanted_review_days)
        carry_ahead(session, request.dataset, f, prev.id)
        report.forces.append(f)
        report.batch_ids.append(batch.id)
        record_import(session, request, path, as_of, now, f,
                      f"{batch.rows_in_file} rows; unchanged since the import of {prev.as_of.isoformat()} "
                      f"(batch {prev.id}): added 0, updated 0, closed 0, unchanged {batch.rows_unchanged} "
                      f"(batch {batch.id})")  # fmt: skip
    session.flush()
    report.covered_from = [covered_from(session, f, request.dataset) for f in report.forces]
    # No table to vacuum: no row was written.
    announce_imports(session, [ImportedBatch(f, request.dataset, b.id) for f, b in batches.items()])
    return True
