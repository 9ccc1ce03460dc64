"""What a `/mo` sub-command handler is given and what it returns."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.access import Requester
from bot.config import Config, Force
from bot.reads import Reads
from bot.runtime import Runtime
from bot.slack.render_replies import render_invalid, render_refused


@dataclass
class Reply:
    text: str  # plain-text fallback (escaped), always present
    blocks: list[dict[str, Any]]  # Block Kit JSON, validated, ≤ 50 blocks
    response_type: str = "ephemeral"  # "ephemeral" | "in_channel" (only --share of an aggregate)
    outcome: str = "ok"  # ok | refused | invalid | error (as audited)
    records_disclosed: int = 0  # case records shown (list rows); 0 for counts
    deferred: bool = False  # the answer took the lazy path (ack first, then response_url)
    reference: str | None = None  # error reference, when outcome == "error"
    # A modal to open with the request's trigger_id — by the listener, right after the ack, never inside it: Slack
    # gives up on an ack after 3 s, and views.open may be slow.
    open_view: dict[str, Any] | None = None
    # What the audit event records instead of the typed text, when that holds a value not to be kept as typed
    # (bot.withheld); None: the typed text.
    audit_detail: str | None = None


@dataclass(frozen=True)
class SlackContext:
    """What a handler may need from the Slack request beyond the text (modals, DMs, file uploads)."""

    client: WebClient | None = None
    trigger_id: str | None = None
    response_url: str | None = None


@dataclass
class AnswerContext:
    """Everything a sub-command handler gets besides its parsed arguments."""

    rt: Runtime
    db: Reads  # the request's database access: import generations, and a session opened on first use
    who: Requester
    force: Force
    role: str
    today: dt.date  # in the force's timezone
    now: dt.datetime  # aware UTC, from the injected clock
    slack: SlackContext | None = None
    command: str = ""  # the sub-command being answered (its --help is offered after an invalid request)

    @property
    def config(self) -> Config:
        return self.rt.config

    @property
    def session(self) -> Session:
        """The request's ORM session, opened on first use; committed by the pipeline with the audit event."""
        return self.db.session

    def ok(self, text: str, blocks: list[dict[str, Any]], *, records_disclosed: int = 0) -> Reply:
        return Reply(text=text, blocks=blocks, outcome="ok", records_disclosed=records_disclosed)

    def opening(self, text: str, view: dict[str, Any]) -> Reply:
        """Tell the user a form is opening; the listener opens ``view`` once the ack has gone."""
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
        return Reply(text=text, blocks=blocks, outcome="ok", open_view=view)

    def refused(self, reason: str) -> Reply:
        text, blocks = render_refused(reason)
        return Reply(text=text, blocks=blocks, outcome="refused")

    def invalid(self, message: str, hint: str = "") -> Reply:
        text, blocks = render_invalid(message, hint, command=self.command or None)
        return Reply(text=text, blocks=blocks, outcome="invalid")
