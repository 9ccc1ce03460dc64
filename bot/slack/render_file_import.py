"""Block Kit for the replies to an export sent to the bot: in the file's thread, every user or file text escaped."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from bot.dates import day_month_year
from bot.file_imports.types import (
    ChooseDataset,
    ConfirmNeeded,
    Decided,
    Imported,
    NotImported,
    Outcome,
    Refused,
)
from bot.importing.types import ImportReport
from bot.slack.blocks import Blk, actions_block, button, context_block, fmt_int, section_block
from bot.slack.escape import esc

ACTION_PREFIX = "mo_fimp_"
CONFIRM = f"{ACTION_PREFIX}confirm"
CANCEL = f"{ACTION_PREFIX}cancel"
DATASET = f"{ACTION_PREFIX}dataset_"
SHOWN_ERRORS = 10  # bad rows shown in the message; more go in the attached report

_LABELS = {"wanted": "wanted", "suspects": "outstanding suspects", "bail": "bail and RUI", "actions": "action log"}


@dataclass(frozen=True)
class Reply:
    text: str
    blocks: list[Blk]
    report_csv: bytes | None = None  # the whole row report, attached in the thread when longer than the message


def render(outcome: Outcome) -> Reply:
    if isinstance(outcome, Imported):
        return _imported(outcome)
    if isinstance(outcome, NotImported):
        return _not_imported(outcome.report)
    if isinstance(outcome, ConfirmNeeded):
        return _confirm(outcome)
    if isinstance(outcome, ChooseDataset):
        return _choose(outcome)
    if isinstance(outcome, Refused):
        text = f":no_entry: {esc(outcome.reason)}"
        return Reply(text, [section_block(text)])
    assert isinstance(outcome, Decided)
    text = esc(outcome.message)
    return Reply(text, [section_block(text)])


def _counts(r: ImportReport) -> str:
    if r.unchanged_since is not None:
        return (
            f"unchanged since the import of {day_month_year(r.unchanged_since)}: {fmt_int(r.added)} added, "
            f"{fmt_int(r.updated)} updated"
        )
    return (
        f"added {fmt_int(r.added)}, updated {fmt_int(r.updated)}, closed {fmt_int(r.closed)}, "
        f"unchanged {fmt_int(r.unchanged)}"
    )


def _imported(o: Imported) -> Reply:
    r = o.report
    as_of = day_month_year(r.as_of) if r.as_of else "?"
    text = (
        f":white_check_mark: Imported the {_LABELS.get(r.dataset, r.dataset)} export `{esc(r.file_name)}` for "
        f"{esc(o.force_name)}, as of {as_of}: {fmt_int(r.rows_in_file)} rows — {_counts(r)}."
    )
    notes = [f"SHA-256 {r.file_sha256} · batch {', '.join(str(b) for b in r.batch_ids)}"]
    notes += coverage_notes(r)
    if r.ignored_columns:
        notes.append(f"ignored columns: {esc(', '.join(r.ignored_columns))}")
    if r.kept_columns and (r.updated or r.unchanged):
        notes.append(f"not in the file, kept as stored for the cases already imported: {', '.join(r.kept_columns)}")
    return Reply(text, [section_block(text), context_block(*notes)])


def coverage_notes(r: ImportReport) -> list[str]:
    """From when the figures are complete, and — when the file declared nothing — how to declare more (as the
    command line's report says it)."""
    if r.dataset == "actions" or r.as_of is None:
        return []
    if r.covers_from is not None:
        out = [f"this file covers every case open on or after {day_month_year(r.covers_from)} (`--covers-from`)"]
    else:
        out = [
            f"this file covers from its as-of date {day_month_year(r.as_of)} on; if it holds every case open since an "
            "earlier date, send it again with `--covers-from YYYY-MM-DD` to make that history count"
        ]
    label = _LABELS.get(r.dataset, r.dataset)
    out += [f"{label} figures are complete from {day_month_year(s)}" for s in r.covered_from if s is not None]
    return out


def _not_imported(r: ImportReport) -> Reply:
    if r.refused:
        text = f":x: Nothing was imported from `{esc(r.file_name)}`: {esc(r.refused)}"
        return Reply(text, [section_block(text)])
    text = (
        f":x: Nothing was imported from `{esc(r.file_name)}`: {fmt_int(r.error_count)} problem(s) in "
        f"{fmt_int(r.rows_in_file)} data rows. Fix these and send the whole file again:"
    )
    lines = [_error_line(e.row, e.column, e.value, e.reason) for e in r.errors[:SHOWN_ERRORS]]
    more = r.error_count - min(len(r.errors), SHOWN_ERRORS)
    blocks = [section_block(text), section_block("\n".join(lines))]
    report = None
    if more > 0:
        blocks.append(context_block(f"… and {fmt_int(more)} more: the report is attached in this thread."))
        report = report_csv(r)
    return Reply(text, blocks, report)


def _error_line(row: int, column: str, value: str, reason: str) -> str:
    shown = value if value else "(empty)"
    if len(shown) > 80:
        shown = shown[:79] + "…"
    return f"• row {row}, `{esc(column)}` = `{esc(shown)}`: {esc(reason)}"


def report_csv(r: ImportReport) -> bytes:
    """The bad rows the import service reported (row, column, value, reason), as CSV."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["row", "column", "value", "reason"])
    for e in r.errors:
        w.writerow([e.row, e.column, _neutral(e.value), e.reason])
    if r.error_count > len(r.errors):
        w.writerow(["", "", "", f"and {r.error_count - len(r.errors)} more problems of the same kinds"])
    return out.getvalue().encode("utf-8")


def _neutral(value: str) -> str:
    # A cell a spreadsheet would run as a formula when the report is opened.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _confirm(o: ConfirmNeeded) -> Reply:
    label = _LABELS.get(o.dataset, o.dataset)
    text = (
        f":warning: This would close *{fmt_int(o.would_close)}* open {label} records of {esc(o.force_name)} that "
        f"are not in `{esc(o.file_name)}` (as of {day_month_year(o.as_of)}), and {_counts_but_closed(o.report)}. "
        "Nothing has changed yet."
    )
    expires = o.expires_at.strftime("%H:%M UTC")
    blocks = [
        section_block(text),
        actions_block(
            [button("Confirm", CONFIRM, o.token, style="danger"), button("Cancel", CANCEL, o.token)],
            block_id="mo_fimp_decide",
        ),
        context_block(f"This confirmation expires at {expires}; after that, send the file again."),
    ]
    return Reply(text, blocks)


def _counts_but_closed(r: ImportReport) -> str:
    return f"add {fmt_int(r.added)}, update {fmt_int(r.updated)}, leave {fmt_int(r.unchanged)} unchanged"


def _choose(o: ChooseDataset) -> Reply:
    text = (
        f":question: Which export is `{esc(o.file_name)}`? I couldn't tell from its header row, so nothing has "
        "been imported yet."
    )
    buttons = [button(_LABELS.get(d, d).capitalize(), f"{DATASET}{d}", o.token) for d in o.candidates]
    buttons.append(button("Cancel", CANCEL, o.token))
    blocks = [
        section_block(text),
        actions_block(buttons, block_id="mo_fimp_dataset"),
        context_block(f"These buttons expire at {o.expires_at.strftime('%H:%M UTC')}."),
    ]
    return Reply(text, blocks)


FORM = "mo_import_form"
FORM_FILE_BLOCK = "file"
AUTO = "auto"


def import_form(force_slug: str) -> Blk:
    """The `/mo import` modal: dataset (or recognised from the header), full export, as-of date, and the file
    (a ``file_input``: Slack uploads it privately and hands the bot its file object on submission)."""
    options = [
        {"text": {"type": "plain_text", "text": text}, "value": value}
        for value, text in (
            (AUTO, "Tell from its header row"),
            ("wanted", "Wanted"),
            ("suspects", "Outstanding suspects"),
            ("bail", "Bail and RUI"),
            ("actions", "Action log"),
        )
    ]
    return {
        "type": "modal",
        "callback_id": FORM,
        "private_metadata": force_slug,
        "title": {"type": "plain_text", "text": "Import an export"},
        "submit": {"type": "plain_text", "text": "Import"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": "dataset",
                "label": {"type": "plain_text", "text": "Which export"},
                "element": {
                    "type": "static_select",
                    "action_id": "dataset",
                    "options": options,
                    "initial_option": options[0],
                },
            },
            {
                "type": "input",
                "block_id": "snapshot",
                "optional": True,
                "label": {"type": "plain_text", "text": "Full export"},
                "element": {
                    "type": "checkboxes",
                    "action_id": "snapshot",
                    "options": [
                        {
                            "text": {"type": "plain_text", "text": "Close open records that are not in this file"},
                            "value": "snapshot",
                        }
                    ],
                },
            },
            {
                "type": "input",
                "block_id": "as_of",
                "optional": True,
                "label": {"type": "plain_text", "text": "As of (default: today)"},
                "element": {"type": "datepicker", "action_id": "as_of"},
            },
            {
                "type": "input",
                "block_id": "covers_from",
                "optional": True,
                "label": {"type": "plain_text", "text": "Holds every case open since (default: the as-of date)"},
                "element": {"type": "datepicker", "action_id": "covers_from"},
            },
            {
                "type": "input",
                "block_id": FORM_FILE_BLOCK,
                "label": {"type": "plain_text", "text": "The export (CSV UTF-8 or XLSX)"},
                "element": {"type": "file_input", "action_id": "file", "filetypes": ["csv", "xlsx"], "max_files": 1},
            },
        ],
    }
