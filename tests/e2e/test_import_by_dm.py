"""An analyst imports by sending the export to the bot in a DM: signed Events API deliveries (``message`` of subtype
``file_share``, shaped like slackapi/java-slack-sdk json-logs/samples/events/MessageFileSharePayload.json) and
``block_actions`` clicks over real HTTP into the WSGI app; the bot reads ``files.info`` and downloads the bytes from
``url_private_download`` on the fake Slack (served to the bot token only, tests/support/fakefiles.py) and replies in
the file's thread. Runs on SQLite and PostgreSQL (MO_TEST_DATABASE_URL)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select

from bot.clock import FixedClock
from bot.models import AuditEvent, BailPeriod, ImportBatch, SlackFileImport, WantedCirculation
from bot.runtime import Runtime
from commands.web import WebApp, database_check
from tests.support import fakeslack
from tests.support.bolt import app_for
from tests.support.fakeslack import Call, FakeSlack
from tests.support.slackutil import LocalServer, blocks_text, post_signed, slash_command

fake_slack = fakeslack.fake_slack

CHANNEL = "C0MOBOT01"
ANALYST = "U0ANALYST"
VIEWER = "U0VIEWER1"
DM = "D0ANALYST"
VIEWER_DM = "D0VIEWER1"
WANTED_HEADER = "reference,offence,district,reason,circulated_on,status"
_seq = itertools.count(1)


def wanted_csv(*refs: str, district: str = "ipswich", extra_header: str = "", extra: str = "") -> bytes:
    lines = [WANTED_HEADER + extra_header]
    lines += [f"{r},Burglary,{district},never_arrested,2026-01-05,open{extra}" for r in refs]
    return ("\n".join(lines) + "\n").encode()


@dataclass
class Bot:
    rt: Runtime
    clock: FixedClock
    fake: FakeSlack
    url: str

    def send(self, content: bytes, name: str = "wanted.csv", *, text: str = "", user: str = ANALYST, **kw: Any) -> str:
        """The user shares a file with the bot; returns the message ts (the thread the reply goes in)."""
        channel = kw.pop("channel", DM if user == ANALYST else VIEWER_DM)
        body = self.fake.shared_files.share(user=user, channel=channel, name=name, content=content, text=text, **kw)
        r = post_signed(self.url, json_body=body)
        assert r.status == 200, r.text
        return str(body["event"]["ts"])

    def replies(self, ts: str) -> list[Call]:
        return [c for c in self.fake.calls_to("chat.postMessage") if c.params.get("thread_ts") == ts]

    def reply(self, ts: str, n: int = 1) -> str:
        assert self.fake.wait_for(lambda f: len(self.replies(ts)) >= n, timeout=20), f"no reply {n} in thread {ts}"
        call = self.replies(ts)[n - 1]
        return blocks_text(call.params.get("blocks") or []) or str(call.params.get("text"))

    def click(self, action_id: str, value: str, *, user: str = ANALYST, channel: str = DM, msg_ts: str = "") -> None:
        """A block_actions payload for a button on the bot's reply (shape as tests/e2e/test_action_log_in_slack.py,
        after bolt-python's tests/scenario_tests block_actions bodies)."""
        n = next(_seq)
        message = {"ts": msg_ts or "1790000000.000001", "text": "x", "blocks": []}
        body = {
            "type": "block_actions",
            "token": "unused",
            "api_app_id": "A0MOBOT01",
            "team": {"id": self.fake.team_id, "domain": "fake"},
            "user": {"id": user, "team_id": self.fake.team_id, "username": "someone"},
            "trigger_id": f"{n}.{n * 3}.{n:032x}",
            "container": {"type": "message", "message_ts": message["ts"], "channel_id": channel, "is_ephemeral": False},
            "channel": {"id": channel, "name": "directmessage"},
            "message": message,
            "response_url": self.fake.new_response_url(),
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": "b",
                    "value": value,
                    "text": {"type": "plain_text", "text": "x"},
                    "action_ts": "1.2",
                }
            ],
        }
        r = post_signed(self.url, {"payload": json.dumps(body)})
        assert r.status == 200, r.text

    def open_wanted(self) -> int:
        with self.rt.sessions() as s:
            q = select(func.count()).select_from(WantedCirculation).where(WantedCirculation.closed_on.is_(None))
            return int(s.scalar(q) or 0)

    def batches(self) -> int:
        with self.rt.sessions() as s:
            return int(s.scalar(select(func.count()).select_from(ImportBatch)) or 0)

    def audit(self, action: str = "file_import") -> list[AuditEvent]:
        with self.rt.sessions() as s:
            return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def slack_runtime(runtime: Runtime, team_id: str, max_bytes: int | None = None) -> Runtime:
    cfg = runtime.config
    suffolk = replace(cfg.force("suffolk"), slack_team_ids=(team_id,))
    slack = replace(cfg.slack, channels=(CHANNEL,), roles={"analyst": (ANALYST,)})
    if max_bytes is not None:
        slack = replace(slack, import_max_bytes=max_bytes)
    cfg = replace(cfg, forces={**cfg.forces, "suffolk": suffolk}, slack=slack)
    return Runtime(config=cfg, engine=runtime.engine, sessions=runtime.sessions, clock=runtime.clock)


@pytest.fixture
def bot(runtime: Runtime, fake_slack: FakeSlack, clock: FixedClock) -> Iterator[Bot]:
    rt = slack_runtime(runtime, fake_slack.team_id)
    fake_slack.users[ANALYST] = {"name": "analyst"}
    app = app_for(rt, fake_slack)
    with LocalServer(WebApp(app, [database_check(rt.engine)], mode="http")) as srv:
        yield Bot(rt, clock, fake_slack, srv.url + "/slack/events")


def test_a_csv_sent_in_a_dm_is_imported_and_reported_in_its_thread(bot: Bot) -> None:
    content = wanted_csv("W1", "W2", "W3")
    assert bot.open_wanted() == 0
    ts = bot.send(content, text="wanted")
    shown = bot.reply(ts)
    assert "Imported the wanted export `wanted.csv` for Suffolk Constabulary, as of 23 Nov 2026: 3 rows" in shown
    assert "added 3, updated 0, closed 0, unchanged 0" in shown
    assert bot.open_wanted() == 3
    sha = hashlib.sha256(content).hexdigest()
    assert sha in shown
    # Slack's description first, then one download with the bot token.
    assert [c.params["file"] for c in bot.fake.calls_to("files.info")] == [next(iter(bot.fake.shared_files.hosted))]
    assert [(d.authorised, d.bytes_sent) for d in bot.fake.shared_files.downloads] == [(True, len(content))]
    rows = bot.audit()
    assert [(r.actor, r.outcome, r.force) for r in rows] == [(ANALYST, "ok", "suffolk")]
    assert rows[0].detail.startswith(f"wanted.csv (SHA-256 {sha}): wanted: imported 3 rows")
    assert [r.actor for r in bot.audit("import")] == [ANALYST]
    # The import committed with its standard answers, computed for every serving process in its transaction.
    [warm] = bot.audit("warm")
    assert warm.detail.startswith("wanted answers for import batch ") and warm.detail.endswith("transaction")


def test_the_same_event_retried_by_slack_is_imported_once(bot: Bot) -> None:
    body = bot.fake.shared_files.share(user=ANALYST, channel=DM, name="w.csv", content=wanted_csv("W1"), text="wanted")
    assert post_signed(bot.url, json_body=body).status == 200
    bot.reply(str(body["event"]["ts"]))
    assert post_signed(bot.url, json_body=body, retry_num=1).status == 200
    assert bot.batches() == 1 and len(bot.fake.shared_files.downloads) == 1


def test_an_xlsx_with_no_message_is_recognised_from_its_header_and_imported(bot: Bot) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Reference", "Offence", "District", "Bail Type", "Start Date", "Bail End Date"])
    ws.append(["B1", "Assault", "lowestoft", "RUI", dt.date(2026, 3, 1), None])
    ws.append(["B2", "Theft", "bury", "pre-charge bail", dt.date(2026, 9, 1), dt.date(2026, 12, 1)])
    buf = io.BytesIO()
    wb.save(buf)
    ts = bot.send(buf.getvalue(), "November bail.xlsx")
    shown = bot.reply(ts)
    assert "Imported the bail and RUI export `November bail.xlsx`" in shown and "2 rows" in shown
    with bot.rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(BailPeriod)) == 2


def test_a_file_with_a_name_column_is_refused_and_the_store_is_unchanged(bot: Bot) -> None:
    ts = bot.send(wanted_csv("W1", extra_header=",Name", extra=",John Smith"), text="wanted")
    shown = bot.reply(ts)
    assert "Nothing was imported from `wanted.csv`" in shown and "names" in shown
    assert bot.open_wanted() == 0 and bot.batches() == 0
    assert [r.outcome for r in bot.audit()] == ["refused"]


def test_an_export_older_than_the_last_one_sent_is_refused_and_the_store_is_unchanged(bot: Bot) -> None:
    """Sent out of date order, last week's file would open again the cases this week's closed."""
    bot.reply(bot.send(wanted_csv("W1", "W2"), "this-week.csv", text="wanted"))  # as of today, 23 Nov
    assert bot.open_wanted() == 2
    ts = bot.send(wanted_csv("W1", "W2", "W3"), "last-week.csv", text="wanted --as-of 2026-11-16")
    shown = bot.reply(ts)
    assert "Nothing was imported from `last-week.csv`: last-week.csv is an export as of 16 Nov 2026" in shown
    assert "already come from a later one: this-week.csv, as of 23 Nov 2026" in shown
    assert "give its date with --as-of YYYY-MM-DD" in shown
    assert bot.open_wanted() == 2 and bot.batches() == 1
    assert [r.outcome for r in bot.audit()] == ["ok", "refused"]


def test_a_file_of_the_other_forces_districts_is_refused_row_by_row(bot: Bot) -> None:
    ts = bot.send(wanted_csv("W1", "W2", district="norwich"), text="wanted")
    shown = bot.reply(ts)
    assert "Nothing was imported from `wanted.csv`: 2 problem(s) in 2 data rows" in shown
    assert "row 2, `district` = `norwich`: unknown district for force suffolk" in shown
    assert bot.open_wanted() == 0
    assert [r.outcome for r in bot.audit()] == ["invalid"]


def test_many_bad_rows_attach_the_whole_report_as_csv(bot: Bot) -> None:
    refs = [f"W{i}" for i in range(15)]
    ts = bot.send(wanted_csv(*refs, district="norwich"), text="wanted")
    shown = bot.reply(ts)
    assert "… and 5 more: the report is attached in this thread." in shown
    assert bot.fake.wait_for(lambda f: bool(f.calls_to("files.completeUploadExternal")), timeout=10)
    done = bot.fake.calls_to("files.completeUploadExternal")[0]
    assert done.params["thread_ts"] == ts
    report = next(iter(bot.fake.uploads.values())).decode()
    assert report.splitlines()[0] == "row,column,value,reason" and len(report.splitlines()) == 16


def test_a_viewer_is_refused_and_the_file_never_downloaded(bot: Bot) -> None:
    ts = bot.send(wanted_csv("W1"), text="wanted", user=VIEWER)
    shown = bot.reply(ts)
    assert "Only analysts and admins can import exports; your role is viewer." in shown
    assert bot.fake.shared_files.downloads == [] and bot.open_wanted() == 0
    assert [(r.actor, r.outcome) for r in bot.audit()] == [(VIEWER, "refused")]
    assert "not downloaded" in bot.audit()[0].detail


def test_a_file_shared_in_a_channel_is_refused_unread(bot: Bot) -> None:
    ts = bot.send(wanted_csv("W1"), text="wanted", channel=CHANNEL)
    shown = bot.reply(ts)
    assert "I only import exports sent to me in a direct message" in shown
    assert bot.fake.shared_files.downloads == [] and bot.open_wanted() == 0


def test_an_unsupported_type_is_refused_unread(bot: Bot) -> None:
    ts = bot.send(b"%PDF-1.4 not an export", "wanted.pdf", text="wanted")
    assert "I can't import .pdf files" in bot.reply(ts)
    assert bot.fake.shared_files.downloads == []
    assert [r.outcome for r in bot.audit()] == ["refused"]


def test_an_unknown_word_in_the_message_is_named_and_nothing_is_imported(bot: Bot) -> None:
    ts = bot.send(wanted_csv("W1"), text="wanted --snapshop")
    assert "I don't know `--snapshop` in an import" in bot.reply(ts)
    assert bot.fake.shared_files.downloads == [] and bot.open_wanted() == 0


@pytest.fixture
def small_bot(runtime: Runtime, fake_slack: FakeSlack, clock: FixedClock) -> Iterator[Bot]:
    rt = slack_runtime(runtime, fake_slack.team_id, max_bytes=100_000)
    app = app_for(rt, fake_slack)
    with LocalServer(WebApp(app, [database_check(rt.engine)], mode="http")) as srv:
        yield Bot(rt, clock, fake_slack, srv.url + "/slack/events")


def test_an_oversize_file_is_refused_without_downloading_it(small_bot: Bot) -> None:
    big = wanted_csv(*[f"W{i}" for i in range(5000)])
    assert len(big) > 100_000
    ts = small_bot.send(big, text="wanted")
    assert "I import files of at most 0.1 MB sent in Slack" in small_bot.reply(ts)
    assert small_bot.fake.shared_files.downloads == [] and small_bot.open_wanted() == 0


def test_a_file_larger_than_slack_said_is_cut_off_and_not_imported(small_bot: Bot) -> None:
    big = wanted_csv(*[f"W{i}" for i in range(200_000)])  # ~9 MB, described as 1 KB
    ts = small_bot.send(big, text="wanted", declared_size=1000)
    assert "I import files of at most 0.1 MB sent in Slack" in small_bot.reply(ts)
    downloads = small_bot.fake.shared_files.downloads
    assert len(downloads) == 1 and downloads[0].authorised and downloads[0].bytes_sent < len(big)
    assert small_bot.open_wanted() == 0


def _token(call: Call, action_id: str) -> str:
    for block in call.params["blocks"]:
        for el in block.get("elements", []):
            if el.get("action_id") == action_id:
                return str(el["value"])
    raise AssertionError(f"no {action_id} button")


def _snapshot_prompt(bot: Bot) -> tuple[str, str, Call]:
    first = bot.send(wanted_csv("W1", "W2", "W3"), text="wanted")
    bot.reply(first)
    ts = bot.send(wanted_csv("W1"), "full.csv", text="import wanted --snapshot")
    shown = bot.reply(ts)
    assert "This would close *2* open wanted records of Suffolk Constabulary that are not in `full.csv`" in shown
    assert "Nothing has changed yet" in shown
    return ts, _token(bot.replies(ts)[0], "mo_fimp_confirm"), bot.replies(ts)[0]


def test_a_snapshot_waits_for_confirm_and_is_imported_once(bot: Bot) -> None:
    ts, token, prompt = _snapshot_prompt(bot)
    assert bot.open_wanted() == 3 and bot.batches() == 1  # the preview changed nothing
    bot.click("mo_fimp_confirm", token, msg_ts=prompt.response["ts"])
    shown = bot.reply(ts, 2)
    assert "Imported the wanted export `full.csv`" in shown and "closed 2" in shown
    assert bot.open_wanted() == 1 and bot.batches() == 2
    assert len(bot.audit("warm")) == 2  # the confirmed import, too, committed with its standard answers
    # The prompt lost its buttons; a second Confirm does nothing.
    assert bot.fake.wait_for(lambda f: bool(f.calls_to("chat.update")))
    assert "Confirmed by" in bot.fake.calls_to("chat.update")[0].params["text"]
    bot.click("mo_fimp_confirm", token, msg_ts=prompt.response["ts"])
    assert "was already confirmed; it was imported once" in bot.reply(ts, 3)
    assert bot.batches() == 2 and len(bot.audit("import")) == 2


def test_a_cancelled_snapshot_changes_nothing(bot: Bot) -> None:
    ts, token, prompt = _snapshot_prompt(bot)
    bot.click("mo_fimp_cancel", token, msg_ts=prompt.response["ts"])
    assert "Cancelled: nothing was imported from full.csv." in bot.reply(ts, 2)
    bot.click("mo_fimp_confirm", token, msg_ts=prompt.response["ts"])
    assert "full.csv was cancelled; nothing was imported" in bot.reply(ts, 3)
    assert bot.open_wanted() == 3 and bot.batches() == 1


def test_an_expired_confirmation_imports_nothing(bot: Bot) -> None:
    ts, token, prompt = _snapshot_prompt(bot)
    bot.clock.advance(dt.timedelta(minutes=16))
    bot.click("mo_fimp_confirm", token, msg_ts=prompt.response["ts"])
    assert "This confirmation for full.csv has expired. Nothing was imported" in bot.reply(ts, 2)
    assert bot.open_wanted() == 3 and bot.batches() == 1
    with bot.rt.sessions() as s:
        assert s.scalar(select(SlackFileImport.state).where(SlackFileImport.token == token)) == "expired"


def test_another_user_cannot_confirm(bot: Bot) -> None:
    ts, token, _prompt = _snapshot_prompt(bot)
    bot.click("mo_fimp_confirm", token, user=VIEWER, channel=VIEWER_DM)
    assert "Only the person who sent this file can decide" in bot.reply(ts, 2)
    assert bot.open_wanted() == 3 and bot.batches() == 1


def test_a_header_that_fits_two_datasets_is_asked_with_buttons(bot: Bot) -> None:
    header = "reference,offence,district,reason,circulated_on,identified_on"
    content = f"{header}\nX1,Burglary,ipswich,never_arrested,2026-01-05,2026-01-04\n".encode()
    ts = bot.send(content, "export.csv")
    shown = bot.reply(ts)
    assert "Which export is `export.csv`?" in shown
    prompt = bot.replies(ts)[0]
    ids = [el["action_id"] for b in prompt.params["blocks"] for el in b.get("elements", []) if "action_id" in el]
    assert ids == ["mo_fimp_dataset_wanted", "mo_fimp_dataset_suspects", "mo_fimp_cancel"]
    assert bot.batches() == 0
    bot.click("mo_fimp_dataset_wanted", _token(prompt, "mo_fimp_dataset_wanted"), msg_ts=prompt.response["ts"])
    assert "Imported the wanted export `export.csv`" in bot.reply(ts, 2)
    assert bot.open_wanted() == 1


def _submit_form(bot: Bot, view: dict[str, Any], file: dict[str, Any] | None, dataset: str = "wanted") -> Any:
    """A view_submission of the import form (state shaped as Slack sends an input block's value: static_select's
    ``selected_option``, checkboxes' ``selected_options``, datepicker's ``selected_date`` and file_input's
    ``files``, the file objects as files.info describes them)."""
    n = next(_seq)
    values = {
        "dataset": {"dataset": {"type": "static_select", "selected_option": {"value": dataset}}},
        "snapshot": {"snapshot": {"type": "checkboxes", "selected_options": []}},
        "as_of": {"as_of": {"type": "datepicker", "selected_date": None}},
        "file": {"file": {"type": "file_input", "files": [file] if file else []}},
    }
    body = {
        "type": "view_submission",
        "token": "unused",
        "api_app_id": "A0MOBOT01",
        "team": {"id": bot.fake.team_id, "domain": "fake"},
        "user": {"id": ANALYST, "team_id": bot.fake.team_id, "username": "analyst"},
        "trigger_id": f"{n}.{n * 5}.{n:032x}",
        "view": {
            "id": f"VFORM{n:06d}",
            "team_id": bot.fake.team_id,
            "type": "modal",
            "callback_id": view["callback_id"],
            "private_metadata": view.get("private_metadata", ""),
            "blocks": view["blocks"],
            "state": {"values": values},
            "hash": "h1",
        },
    }
    return post_signed(bot.url, {"payload": json.dumps(body)})


def test_the_import_form_opens_with_a_file_input_and_its_file_is_imported(bot: Bot) -> None:
    form = slash_command(
        "import",
        user_id=ANALYST,
        team_id=bot.fake.team_id,
        channel_id=CHANNEL,
        response_url=bot.fake.new_response_url(),
    )
    r = post_signed(bot.url, form)
    assert r.status == 200 and "Opening the import form" in r.text
    # Opened right after the ack, never inside it.
    assert bot.fake.wait_for(lambda f: len(f.calls_to("views.open")) == 1, timeout=5)
    [opened] = bot.fake.calls_to("views.open")
    view = opened.params["view"]
    elements = [b["element"] for b in view["blocks"] if b["type"] == "input"]
    assert {"type": "file_input", "action_id": "file", "filetypes": ["csv", "xlsx"], "max_files": 1} in elements

    assert _submit_form(bot, view, None).json() == {
        "response_action": "errors",
        "errors": {"file": "Choose the export to import."},
    }
    hosted = bot.fake.shared_files.share(user=ANALYST, channel=DM, name="form.csv", content=wanted_csv("W1", "W2"))
    assert _submit_form(bot, view, hosted["event"]["files"][0]).status == 200

    def imported(f: FakeSlack) -> bool:
        return any("Imported the wanted export" in str(c.params.get("text")) for c in f.calls_to("chat.postMessage"))

    assert bot.fake.wait_for(imported, timeout=20)
    posts = [c for c in bot.fake.calls_to("chat.postMessage") if c.params["channel"] == DM]
    anchor, report = posts[-2], posts[-1]
    assert anchor.params["text"] == "Importing `form.csv` from the import form…"
    assert report.params["thread_ts"] == anchor.response["ts"]
    assert bot.open_wanted() == 2


def test_a_viewer_cannot_open_the_import_form(bot: Bot) -> None:
    form = slash_command(
        "import", user_id=VIEWER, team_id=bot.fake.team_id, channel_id=CHANNEL, response_url=bot.fake.new_response_url()
    )
    r = post_signed(bot.url, form)
    assert "`/mo import` is for analysts" in r.text
    assert bot.fake.calls_to("views.open") == []


def test_the_bot_answers_from_a_dm_import_at_once(bot: Bot) -> None:
    def ask() -> str:
        form = slash_command(
            "wanted", user_id=ANALYST, team_id=bot.fake.team_id, channel_id=DM, response_url=bot.fake.new_response_url()
        )
        return blocks_text(post_signed(bot.url, form).json()["blocks"])

    assert "No wanted data has been imported" in ask()  # answered, and cached, before the import
    ts = bot.send(wanted_csv("W1", "W2", "W3"), text="wanted")
    assert "Imported" in bot.reply(ts)
    assert "*3* open wanted circulations" in ask()


def test_a_file_sent_with_covers_from_declares_its_coverage_and_the_reply_says_so(bot: Bot) -> None:
    """As on the command line: `--covers-from` says the file holds every case open since that date; the reply gives
    the as-of date and the coverage, and a file that declared nothing is told how to declare more."""
    plain = bot.send(wanted_csv("W1", "W2"), text="wanted --as-of 2026-11-20")
    told = bot.reply(plain)
    assert "covers from its as-of date 20 Nov 2026 on" in told and "`--covers-from YYYY-MM-DD`" in told
    declared = bot.send(wanted_csv("W1", "W2"), "full.csv", text="wanted --as-of 2026-11-20 --covers-from 2024-01-01")
    told = bot.reply(declared)
    assert "covers every case open on or after 1 Jan 2024" in told
    assert "wanted figures are complete from 1 Jan 2024" in told
    # A snapshot keeps the declaration through its Confirm.
    ts = bot.send(wanted_csv("W1"), "snap.csv", text="import wanted --snapshot --covers-from 2024-01-01")
    assert "This would close *1* open wanted record" in bot.reply(ts)
    prompt = bot.replies(ts)[0]
    bot.click("mo_fimp_confirm", _token(prompt, "mo_fimp_confirm"), msg_ts=prompt.response["ts"])
    assert "covers every case open on or after 1 Jan 2024" in bot.reply(ts, 2)
    with bot.rt.sessions() as s:
        declared_by = s.scalars(select(ImportBatch.covers_from).order_by(ImportBatch.id)).all()
    assert declared_by == [None, dt.date(2024, 1, 1), dt.date(2024, 1, 1)]
