"""The meeting paper as a Word document, written with python-docx: landscape A4, the OFFICIAL marking and the
force, title and date in the header (and the marking in the footer, as protectively marked papers carry it), then
the three sections of :mod:`bot.action_log.paper`, each a heading per pillar over a table."""

from __future__ import annotations

import io
from typing import Any

from bot.action_log.paper import MARKING, Paper, PaperItem, PaperSection, fmt

# Column titles and widths (cm) per section; the widths add up to the landscape A4 text width (~25.7 cm).
_COLUMNS: dict[str, tuple[tuple[str, float], ...]] = {
    "action": (("Ref", 1.5), ("Action", 9.7), ("Owners", 2.3), ("Status", 2.2), ("Due", 2.2), ("Last update", 7.8)),
    "achievement": (("Ref", 1.5), ("Achievement", 16.2), ("Completed", 2.8), ("Last update", 5.2)),
    "hmic": (("Ref", 1.5), ("Recommendation", 9.0), ("Report", 5.6), ("Owners", 1.8), ("Status", 2.2),
             ("Evidence / last update", 5.6)),
}  # fmt: skip


def _update(i: PaperItem) -> str:
    return f"{fmt(i.update_on)}: {i.update}" if i.update_on else i.update


def _cells(kind: str, i: PaperItem) -> list[str]:
    owners = i.owners or "—"
    if kind == "action":
        return [i.reference, i.title, owners, i.status, fmt(i.due), _update(i)]
    if kind == "achievement":
        return [i.reference, i.title, i.completed, _update(i) if i.update_on else ""]
    closing = f"{i.evidence} ({i.completed})" if i.evidence and i.completed else i.evidence
    return [i.reference, i.title, i.report, owners, i.status, closing or _update(i)]


def docx_bytes(paper: Paper) -> bytes:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(9)
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Cm(2.0))
    section.top_margin = section.bottom_margin = Cm(1.8)

    header = section.header
    mark = header.paragraphs[0]
    mark.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = mark.add_run(MARKING)
    run.bold = True
    line = header.add_paragraph(f"{paper.force} · Managing Offenders subgroup · action log as of {fmt(paper.as_of)}")
    line.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run(MARKING).bold = True

    doc.add_heading(paper.title, level=0)
    counts = ", ".join(f"{s.count} {s.title}" for s in paper.sections)
    doc.add_paragraph(f"Appendix 1 as of {fmt(paper.as_of)}: {counts}.")
    for s in paper.sections:
        _section(doc, s, Cm)
    doc.add_heading("Update round since the last meeting", level=1)
    since = f"since the meeting of {fmt(paper.last_meeting)}" if paper.last_meeting else "so far"
    if not paper.round:
        doc.add_paragraph(f"No answers {since}.")
    else:
        doc.add_paragraph(f"Owners' answers {since}:")
        table = doc.add_table(rows=1, cols=5)
        table.style = "Table Grid"
        _fill(table.rows[0].cells, ["Ref", "Owner", "Answer", "On", "Note"], bold=True)
        for ln in paper.round:
            _fill(table.add_row().cells, [ln.reference, ln.owner, ln.answer, fmt(ln.on), ln.note])
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def _section(doc: Any, s: PaperSection, cm: Any) -> None:
    doc.add_heading(s.title, level=1)
    if not s.groups:
        doc.add_paragraph("None.")
        return
    columns = _COLUMNS[s.kind]
    for g in s.groups:
        doc.add_heading(f"{g.pillar} ({len(g.items)})", level=2)
        table = doc.add_table(rows=1, cols=len(columns))
        table.style = "Table Grid"
        table.autofit = False
        _fill(table.rows[0].cells, [c for c, _ in columns], bold=True)
        for i in g.items:
            _fill(table.add_row().cells, _cells(s.kind, i))
        for n, (_, width) in enumerate(columns):
            # The grid's width (what LibreOffice reads) and each cell's (what Word reads).
            table.columns[n].width = cm(width)
            for cell in table.columns[n].cells:
                cell.width = cm(width)


def _fill(cells: Any, values: list[str], bold: bool = False) -> None:
    for cell, value in zip(cells, values, strict=True):
        cell.text = ""
        run = cell.paragraphs[0].add_run(value)
        run.bold = bold
