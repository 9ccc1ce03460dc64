"""The paper for the meeting (the report's Appendix 1): Actions, Achievements and HMIC Recommendations, each by
pillar, with owners, status, due date and the latest real update and its date, then the update round's answers
since the last meeting — as a landscape DOCX (python-docx) with the force, the date and the OFFICIAL marking in
its header, an Excel workbook (one sheet per section) or a CSV.

Text from users and imported files is written as data: in CSV and XLSX a cell that would start a formula is
neutralised (:mod:`bot.exports`); a DOCX holds no formulas. ``as_of`` dates the paper: items added after it are
left out, and each item is shown as it stood then (``bot.action_log.as_of``): its status, owners and dates, and
its latest update on or before the date.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.action_log.as_of import as_it_stood
from bot.action_log.completion import completion_text
from bot.action_log.queries import audit_read, log_dates
from bot.action_log.service import to_entry, to_view
from bot.action_log.types import KIND_LABELS, LIVE_STATUSES, PILLARS, ActionView, Actor, HistoryEntry
from bot.config import Force
from bot.exports import neutralise, text_cell
from bot.models import Action, ActionHistory, Meeting, RoundAnswer

MARKING = "OFFICIAL"
SECTIONS = ("action", "achievement", "hmic")
ANSWER_WORDS = {"no_change": "no change", "update": "updated", "done": "done"}


@dataclass(frozen=True)
class PaperItem:
    reference: str
    title: str
    owners: str
    status: str
    due: dt.date | None
    completed_on: dt.date | None
    update_on: dt.date | None
    update: str
    report: str  # an HMIC recommendation's report (its source)
    evidence: str  # what closed an HMIC recommendation
    # The completion date as the paper writes it: "13 Sep 2021"; "Oct 2021" when the log names only the month;
    # "by 31 Jul 2022" when the log only says it was done by its own date.
    completed: str = ""


@dataclass(frozen=True)
class PaperGroup:
    pillar: str  # long name
    items: tuple[PaperItem, ...]


@dataclass(frozen=True)
class PaperSection:
    kind: str
    title: str
    groups: tuple[PaperGroup, ...]

    @property
    def count(self) -> int:
        return sum(len(g.items) for g in self.groups)


@dataclass(frozen=True)
class RoundLine:
    reference: str
    owner: str
    answer: str
    note: str
    on: dt.date


@dataclass(frozen=True)
class Paper:
    force: str
    as_of: dt.date
    sections: tuple[PaperSection, ...]
    last_meeting: dt.date | None
    round: tuple[RoundLine, ...]

    @property
    def title(self) -> str:
        return f"{self.force} — Managing Offenders action log"


def fmt(d: dt.date | None) -> str:
    return f"{d.day} {d:%b %Y}" if d else ""


def _is_real(h: HistoryEntry) -> bool:
    """A change a person (or the recurring schedule) made; an import's corrections of the transcript are not."""
    return not h.by_import and h.field != "created"


def _describe(h: HistoryEntry) -> str:
    if h.note:
        return " ".join(h.note.split())
    if h.field == "status":
        return f"status {h.old_value or '-'} → {h.new_value or '-'}"
    if h.field == "due_on":
        return f"due date {h.old_value or 'none'} → {h.new_value or 'none'}"
    return f"{h.field} changed"


def completed_text(a: ActionView, history: list[HistoryEntry]) -> str:
    """How sure the log is of the completion date: recorded by a person (the day), stated in the item's own text
    (the day, or only the month), or only known to be by the date of the log it came in."""
    return completion_text(a, any(h.field == "status" and h.new_value == "complete" and _is_real(h) for h in history))


def _item(
    a: ActionView,
    history: list[HistoryEntry],
    tz: dt.tzinfo,
    as_of: dt.date,
    source: str | None,
    owners: str | None = None,
    log_of: dt.date | None = None,
) -> PaperItem:
    """``log_of``: the date of the log the item was imported with (None: added in Slack)."""
    history = [h for h in history if h.day(tz) <= as_of]
    real = [h for h in history if _is_real(h)]
    last = real[-1] if real else None
    if last:
        update = _describe(last)
    elif log_of is not None:
        # The log's own date, not the item's first day (an achievement completed in Aug 2021 came with the log of
        # 31 Jul 2022).
        update = f"no update since the log of {fmt(log_of)}"
    else:
        update = f"no update since it was added on {fmt(a.opened_on)}" if a.opened_on else ""
    return PaperItem(
        reference=a.reference,
        title=a.title,
        owners=owners if owners is not None else a.owner_label if (a.owners or a.owner_initials) else "",
        status=a.status.upper(),
        due=a.due_on,
        completed_on=a.completed_on,
        update_on=last.day(tz) if last else None,
        update=update,
        report=(source or "").removeprefix("HMICFRS: ").removeprefix("HMICFRS/HMCPSI: "),
        evidence=a.evidence or "",
        completed=completed_text(a, history),
    )


def build_paper(session: Session, force: Force, actor: Actor, as_of: dt.date, now: dt.datetime) -> Paper:
    """The paper of ``force`` as of ``as_of`` (audited as a read of the whole log)."""
    rows = session.scalars(select(Action).where(Action.force == force.slug).order_by(Action.id)).all()
    history: dict[int, list[HistoryEntry]] = {}
    if rows:
        for h in session.scalars(
            select(ActionHistory).where(ActionHistory.action_id.in_([r.id for r in rows])).order_by(ActionHistory.id)
        ):
            history.setdefault(h.action_id, []).append(to_entry(h))
    tz = force.timezone
    dates = log_dates(session, {r.import_batch_id for r in rows if r.import_batch_id is not None})
    buckets: dict[str, dict[str, list[tuple[ActionView, PaperItem]]]] = {k: {} for k in SECTIONS}
    for r in rows:
        then = as_it_stood(to_view(force, r, as_of), history.get(r.id, []), tz, as_of)
        a = then.action
        if a.opened_on is not None and a.opened_on > as_of:
            continue
        section = _section(a)
        if section is None:
            continue
        log_of = dates.get(r.import_batch_id) if r.import_batch_id is not None else None
        item = _item(a, history.get(r.id, []), tz, as_of, r.source, then.owners, log_of)
        buckets[section].setdefault(a.pillar, []).append((a, item))
    sections = []
    for kind in SECTIONS:
        groups = []
        for pillar in [*PILLARS, *sorted(set(buckets[kind]) - set(PILLARS))]:
            found = buckets[kind].get(pillar)
            if not found:
                continue
            if kind == "achievement":  # latest first, as the subgroup reads its record
                found.sort(key=lambda ai: (ai[0].completed_on or dt.date.min, -ai[0].id), reverse=True)
            else:  # live first, then soonest due
                found.sort(key=lambda ai: (ai[0].status not in LIVE_STATUSES, ai[0].due_on or dt.date.max, ai[0].id))
            groups.append(PaperGroup(PILLARS.get(pillar, pillar), tuple(i for _, i in found)))
        sections.append(PaperSection(kind, KIND_LABELS[kind], tuple(groups)))
    last_meeting, answers = _round_since_last_meeting(session, force, as_of, {r.id: r.reference for r in rows})
    audit_read(session, force, actor, f"actions paper as_of={as_of.isoformat()} items={len(rows)}", now)
    return Paper(force.name, as_of, tuple(sections), last_meeting, answers)


def _section(a: ActionView) -> str | None:
    """Which section an item belongs in: live actions; achievements (completed actions and recorded
    achievements); HMIC recommendations (all but cancelled). A cancelled action or achievement is not on the paper."""
    if a.kind == "hmic":
        return None if a.status == "cancelled" else "hmic"
    if a.status == "complete":
        return "achievement"
    if a.status in LIVE_STATUSES and a.kind == "action":
        return "action"
    return None


def _round_since_last_meeting(
    session: Session, force: Force, as_of: dt.date, refs: dict[int, str]
) -> tuple[dt.date | None, tuple[RoundLine, ...]]:
    last = session.scalar(
        select(Meeting.held_on)
        .where(Meeting.force == force.slug, Meeting.held_on < as_of)
        .order_by(Meeting.held_on.desc())
        .limit(1)
    )
    last = max([d for d in (last, *(m for m in force_meetings(force) if m < as_of)) if d is not None], default=None)
    stmt = select(RoundAnswer).where(RoundAnswer.force == force.slug).order_by(RoundAnswer.at, RoundAnswer.id)
    lines = []
    owners = {u: i for i, u in force.owners.items()}
    for ans in session.scalars(stmt):
        on = ans.at.astimezone(force.timezone).date()
        if (last is not None and on <= last) or on > as_of:
            continue
        lines.append(
            RoundLine(
                refs.get(ans.action_id, "?"),
                owners.get(ans.user_id, ans.user_id),
                ANSWER_WORDS.get(ans.answer, ans.answer),
                " ".join((ans.note or "").split()),
                on,
            )
        )
    return last, tuple(lines)


def force_meetings(force: Force) -> tuple[dt.date, ...]:
    return tuple(getattr(force, "meetings", ()))


# --- CSV and XLSX -------------------------------------------------------------------------------------------------
CSV_HEADERS = (
    "Section", "Pillar", "Ref", "Item", "Owners", "Status", "Due", "Completed", "Last update on", "Last update",
    "Report", "Evidence",
)  # fmt: skip


def _row(section: PaperSection, g: PaperGroup, i: PaperItem) -> list[str]:
    return [
        section.title, g.pillar, i.reference, i.title, i.owners, i.status,
        i.due.isoformat() if i.due else "", i.completed_on.isoformat() if i.completed_on else "",
        i.update_on.isoformat() if i.update_on else "", i.update, i.report, i.evidence,
    ]  # fmt: skip


def csv_bytes(paper: Paper) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(CSV_HEADERS)
    for s in paper.sections:
        for g in s.groups:
            for i in g.items:
                w.writerow([neutralise(c) for c in _row(s, g, i)])
    for line in paper.round:
        cells = ("Update round", "", line.reference, "", line.owner, line.answer.upper(), "", "", line.on.isoformat(),
                 line.note, "", "")  # fmt: skip
        w.writerow([neutralise(c) for c in cells])
    return buf.getvalue().encode("utf-8-sig")


def xlsx_bytes(paper: Paper) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    first = wb.active
    assert first is not None
    wb.remove(first)
    for s in paper.sections:
        ws = wb.create_sheet(s.title[:31])
        ws.append(list(CSV_HEADERS[1:]))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        n = 2
        for g in s.groups:
            for i in g.items:
                values = _row(s, g, i)[1:]
                for col, v in enumerate(values, start=1):
                    if col in (6, 7, 8):
                        continue
                    text_cell(ws.cell(row=n, column=col), v)
                for col, d in ((6, i.due), (7, i.completed_on), (8, i.update_on)):
                    c = ws.cell(row=n, column=col, value=d)
                    c.number_format = "yyyy-mm-dd"
                for col in (3, 9):
                    ws.cell(row=n, column=col).alignment = Alignment(wrap_text=True, vertical="top")
                n += 1
        for letter, width in zip("ABCDEFGHIJK", (30, 7, 60, 10, 11, 12, 12, 12, 50, 40, 24), strict=True):
            ws.column_dimensions[letter].width = width
        ws.freeze_panes = "A2"
    ws = wb.create_sheet("Update round")
    ws.append(["Ref", "Owner", "Answer", "On", "Note"])
    for line in paper.round:
        row = ws.max_row + 1
        for col, v in ((1, line.reference), (2, line.owner), (3, line.answer), (5, line.note)):
            text_cell(ws.cell(row=row, column=col), v)
        ws.cell(row=row, column=4, value=line.on).number_format = "yyyy-mm-dd"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
