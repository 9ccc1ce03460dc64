"""The action log as the subgroup's papers show it (Appendix 1): pillar, action, owner, status, due date and the
last update (its date and a short note), as CSV or an Excel workbook."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import IO

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from bot.action_log.queries import audit_read, last_updates, log_dates
from bot.action_log.service import owners_of
from bot.action_log.types import PILLARS, STATUSES, Actor, ExportRow, HistoryEntry
from bot.config import Force
from bot.exports import neutralise, text_cell
from bot.models import Action

HEADERS = ("Pillar", "Ref", "Action", "Owner", "Status", "Due", "Last update")
SHORT_NOTE = 120


def describe_update(h: HistoryEntry) -> str:
    """A short note for the paper: the note if there is one, else what changed."""
    if h.note:
        text = " ".join(h.note.split())
    elif h.field == "created":
        text = "added to the log"
    elif h.field in ("status", "pillar"):
        text = f"{h.field} {h.old_value or '-'} → {h.new_value or '-'}"
    elif h.field == "due_on":
        text = f"due date {h.old_value or 'none'} → {h.new_value or 'none'}"
    else:
        text = f"{h.field} changed"
    return _short(text)


def _short(text: str) -> str:
    return text if len(text) <= SHORT_NOTE else text[: SHORT_NOTE - 1] + "…"


def owner_for_paper(force: Force, initials: str | None, user_id: str | None) -> str:
    """Papers name owners by initials, as the appendix does; a user without initials is shown by Slack ID."""
    if initials:
        return initials
    if user_id:
        mapped = [i for i, u in force.owners.items() if u == user_id]
        return mapped[0] if mapped else user_id
    return ""


def export_rows(
    session: Session,
    force: Force,
    actor: Actor,
    now: dt.datetime,
    pillar: str | None = None,
    statuses: tuple[str, ...] = (),
) -> list[ExportRow]:
    """Rows in pillar order, then status (as STATUSES lists them), then due date."""
    status_order = case({s: i for i, s in enumerate(STATUSES)}, value=Action.status, else_=len(STATUSES))
    pillar_order = case({p: i for i, p in enumerate(PILLARS)}, value=Action.pillar, else_=len(PILLARS))
    stmt = select(Action).where(Action.force == force.slug)
    if pillar:
        stmt = stmt.where(Action.pillar == pillar)
    if statuses:
        stmt = stmt.where(Action.status.in_(statuses))
    rows = session.scalars(
        stmt.order_by(pillar_order, status_order, Action.due_on.is_(None), Action.due_on, Action.id)
    ).all()
    latest = last_updates(session, [r.id for r in rows])
    dates = log_dates(session, {r.import_batch_id for r in rows if r.import_batch_id is not None})
    out = []
    for r in rows:
        h = latest.get(r.id)
        # An action with no history yet (imported): its last update is the log it came with, dated by the log (not
        # the day it was imported), with the log's own note.
        fallback = " ".join((r.notes or "in the log").split())
        log_day = dates.get(r.import_batch_id) if r.import_batch_id is not None else None
        out.append(
            ExportRow(
                pillar=PILLARS.get(r.pillar, r.pillar),
                reference=r.reference,
                action=r.title,
                owner=" & ".join(owner_for_paper(force, o.initials, o.user_id) for o in owners_of(force, r)),
                status=r.status.upper(),
                due=r.due_on,
                last_update_on=(
                    h.changed_at.astimezone(force.timezone).date()
                    if h
                    else log_day or r.updated_at.astimezone(force.timezone).date()
                ),
                last_update=describe_update(h) if h else _short(fallback),
            )
        )
    record_detail = f"actions export pillar={pillar or 'all'} status={','.join(statuses) or 'all'} rows={len(out)}"
    audit_read(session, force, actor, record_detail, now)
    return out


def _cells(r: ExportRow) -> list[str]:
    last = f"{r.last_update_on.isoformat()}: {r.last_update}" if r.last_update_on else r.last_update
    return [r.pillar, r.reference, r.action, r.owner, r.status, r.due.isoformat() if r.due else "", last]


def write_csv(rows: list[ExportRow], fp: IO[str]) -> None:
    w = csv.writer(fp)
    w.writerow(HEADERS)
    for r in rows:
        # Every cell: text typed in Slack or held by an imported file must never run as a formula.
        w.writerow([neutralise(c) for c in _cells(r)])


def csv_bytes(rows: list[ExportRow]) -> bytes:
    buf = io.StringIO()
    write_csv(rows, buf)
    # utf-8-sig so Excel opens it with the right encoding.
    return buf.getvalue().encode("utf-8-sig")


def xlsx_bytes(rows: list[ExportRow], title: str = "Actions") -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = title[:31]
    ws.append(list(HEADERS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for i, r in enumerate(rows, start=2):
        # Every text cell is written neutralised and of the string type, so none can be a formula; the dates
        # stay dates. The note is a separate column in the workbook so it can be filtered and wrapped.
        texts = {1: r.pillar, 2: r.reference, 3: r.action, 4: r.owner, 5: r.status, 8: r.last_update}
        for column, value in texts.items():
            text_cell(ws.cell(row=i, column=column), value)
        ws.cell(row=i, column=6, value=r.due)
        ws.cell(row=i, column=7, value=r.last_update_on)
    ws.cell(row=1, column=7, value="Last update")
    ws.cell(row=1, column=8, value="Note").font = Font(bold=True)
    for col, width in zip("ABCDEFGH", (32, 8, 70, 10, 12, 12, 12, 60), strict=True):
        ws.column_dimensions[col].width = width
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if cell.column in (3, 8):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            if cell.column in (6, 7) and cell.value is not None:
                cell.number_format = "yyyy-mm-dd"
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
