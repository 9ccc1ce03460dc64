"""The answer pipeline shared by Slack's `/mo` and `mo-bot ask`: parse → access → domain service → render → audit.

``plan(text)`` is the cheap part the slash-command listener runs before acking (parse only, no database): it says
whether the answer is ``deferred`` — ack at once and finish through ``response_url`` — or fast enough to send
inside the ack. ``answer(rt, who, text)`` does the rest and never raises: user mistakes become an ``invalid``
reply, rules a ``refused`` one, and anything unexpected an ``error`` reply carrying a short reference
(``E-7F3A2C``) that also appears in the log line and in the audit event. Every call appends exactly one audit
event, whatever the outcome (DPA 2018 s.62).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from bot.access import Refused, at_least, resolve
from bot.audit import AuditEntry, append, group_commit
from bot.clock import today_in
from bot.config import Config, Force
from bot.figures.cache import Reads
from bot.runtime import Runtime
from bot.slack.render_replies import render_error, render_help, render_invalid, render_refused
from commands.mo.parser import ParsedArgs, ParseError, command_help, normalise, overview_help, parse
from commands.mo.specs import Registry, default_registry
from commands.mo.values import ParseContext

log = logging.getLogger("mo_bot.conversation")

OUTCOMES = ("ok", "refused", "invalid", "error")
# The audit keeps what was asked; a pasted essay is cut rather than stored whole.
MAX_AUDIT_DETAIL = 1000


@dataclass(frozen=True)
class Requester:
    user_id: str  # Slack user ID, or "cli:<login>" for the terminal
    team_id: str | None  # None only for the CLI (then config.default_force, unless force_override)
    channel_id: str | None
    channel_is_dm: bool = False  # a DM with the bot (channel IDs starting with "D")
    user_groups: tuple[str, ...] = ()  # user-group IDs (S…) the user belongs to, if known
    force_override: str | None = None  # CLI only
    # The terminal (`mo-bot ask`). A "cli:<login>" user is always the terminal; `--user U…` sets this. A request
    # without a team that is not from the terminal is refused, so a Slack payload missing its team_id never
    # falls back to the default force.
    terminal: bool = False

    @property
    def is_terminal(self) -> bool:
        return self.terminal or self.user_id.startswith("cli:")


@dataclass
class Reply:
    text: str  # plain-text fallback (escaped), always present
    blocks: list[dict[str, Any]]  # Block Kit JSON, validated, ≤ 50 blocks
    response_type: str = "ephemeral"  # "ephemeral" | "in_channel" (only --share of an aggregate)
    outcome: str = "ok"  # ok | refused | invalid | error (as audited)
    records_disclosed: int = 0  # case records shown (list rows); 0 for counts
    deferred: bool = False  # the answer took the lazy path (ack first, then response_url)
    reference: str | None = None  # error reference, when outcome == "error"


@dataclass(frozen=True)
class Plan:
    command: str | None  # canonical sub-command, or None when the text does not parse
    deferred: bool  # ack first and answer through response_url
    error_kind: str | None = None


@dataclass(frozen=True)
class SlackContext:
    """What a handler may need from the Slack request beyond the text (modals, DMs, file uploads)."""

    client: Any = None  # slack_sdk.WebClient
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
    registry: Registry
    slack: SlackContext | None = None
    command: str = ""  # the sub-command being answered (its --help is offered after an invalid request)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def config(self) -> Config:
        return self.rt.config

    @property
    def session(self) -> Session:
        """The request's ORM session, opened on first use; committed by the pipeline with the audit event."""
        return self.db.session

    def is_at_least(self, role: str) -> bool:
        return at_least(self.role, role)

    def ok(self, text: str, blocks: list[dict[str, Any]], *, records_disclosed: int = 0) -> Reply:
        return Reply(text=text, blocks=blocks, outcome="ok", records_disclosed=records_disclosed)

    def refused(self, reason: str) -> Reply:
        text, blocks = render_refused(reason)
        return Reply(text=text, blocks=blocks, outcome="refused")

    def invalid(self, message: str, hint: str = "") -> Reply:
        text, blocks = render_invalid(message, hint, command=self.command or None)
        return Reply(text=text, blocks=blocks, outcome="invalid")


def new_reference() -> str:
    return "E-" + secrets.token_hex(3).upper()


def plan(text: str, registry: Registry | None = None) -> Plan:
    """Parse only (no database, no force): which sub-command, and whether to answer lazily."""
    reg = registry or default_registry()
    try:
        args = parse(text, reg)
    except ParseError as e:
        return Plan(command=None, deferred=False, error_kind=e.kind)
    if args.help:
        return Plan(command=args.command, deferred=False)
    spec = reg.get(args.command)
    assert spec is not None
    return Plan(command=spec.name, deferred=spec.deferred or any(args.has(f) for f in spec.deferred_flags))


def answer(
    rt: Runtime,
    who: Requester,
    text: str,
    *,
    slack: SlackContext | None = None,
    registry: Registry | None = None,
    deferred: bool = False,
) -> Reply:
    """Answer one `/mo` request. Never raises; always audits exactly once."""
    started = time.perf_counter()
    detail = _detail(text)
    seen = _Seen()
    try:
        reply, audited = _answer(rt, who, text, registry or default_registry(), slack, detail, seen)
        if not audited:
            _audit(rt, who, seen.force, detail, reply)
    except Exception:
        ref = new_reference()
        log.exception("mo-bot: /mo %s failed [%s] user=%s team=%s", seen.command, ref, who.user_id, who.team_id)
        text_, blocks = render_error(ref)
        reply = Reply(text=text_, blocks=blocks, outcome="error", reference=ref)
        try:
            _audit(rt, who, seen.force, detail, reply)
        except Exception:
            log.exception("mo-bot: could not audit failed request [%s]", ref)
    reply.deferred = deferred
    # Every request is in the audit log already; the log line is for operators, so a routine answer is DEBUG (one
    # formatted write per request to stderr costs a visible share of a cached answer) and anything else INFO.
    log.log(
        logging.DEBUG if reply.outcome == "ok" else logging.INFO,
        "mo-bot: /mo %s -> %s (%d records, %.1f ms)",
        seen.command,
        reply.outcome,
        reply.records_disclosed,
        (time.perf_counter() - started) * 1000,
    )
    return reply


@dataclass
class _Seen:
    """What is known so far about a request, for the audit and the log line if a later step fails."""

    force: Force | None = None
    command: str = "?"


def _answer(
    rt: Runtime,
    who: Requester,
    text: str,
    reg: Registry,
    slack: SlackContext | None,
    detail: str,
    seen: _Seen,
) -> tuple[Reply, bool]:
    """The reply, and whether it was already audited (in the handler's transaction)."""
    try:
        access = resolve(rt.config, who)
    except Refused as r:
        seen.force = r.force
        return _refused(r.reason), False
    seen.force = access.force
    today = today_in(rt.clock, access.force.timezone)
    try:
        args = _parse(text, reg, access.force, today)
    except ParseError as e:
        return _invalid(e), False
    seen.command = args.command
    return _dispatch(rt, who, access.force, access.role, today, args, reg, slack, detail)


# Parses of recent questions: the same few hundred questions are asked all day, and a parse (tokenising, value
# conversion, district lookup) costs more than the rest of a cached answer. The result depends only on the text,
# the registry, the force (districts) and today (relative dates), which make the key; registry and force are keyed
# by identity and kept in the value so a recycled id() can never match. Only successful parses are kept.
_PARSED: dict[tuple[str, int, int, dt.date], tuple[Registry, Force, ParsedArgs]] = {}
_PARSED_MAX = 4096


def _parse(text: str, reg: Registry, force: Force, today: dt.date) -> ParsedArgs:
    key = (text, id(reg), id(force), today)
    hit = _PARSED.get(key)
    if hit is not None and hit[0] is reg and hit[1] is force:
        return hit[2]
    args = parse(text, reg, ParseContext(force=force, today=today))
    if len(_PARSED) >= _PARSED_MAX:
        _PARSED.clear()  # crude but bounded; a day's questions refill it at once
    _PARSED[key] = (reg, force, args)
    return args


def _dispatch(
    rt: Runtime,
    who: Requester,
    force: Force,
    role: str,
    today: dt.date,
    args: ParsedArgs,
    reg: Registry,
    slack: SlackContext | None,
    detail: str,
) -> tuple[Reply, bool]:
    if args.help:
        spec = reg.get(args.help_topic) if args.help_topic else None
        page = command_help(spec) if spec else overview_help(reg)
        text, blocks = render_help(page, force)
        return Reply(text=text, blocks=blocks), False
    spec = reg.get(args.command)
    assert spec is not None
    if not at_least(role, spec.min_role):
        return _refused(f"`/mo {spec.name}` is for {spec.min_role}s; you are a {role}."), False
    for f in spec.flags:
        if args.has(f.name) and not at_least(role, f.min_role):
            why = " Case lists are for analysts and admins; counts are open to everyone." if f.name == "--list" else ""
            return _refused(f"`{f.name}` is for {f.min_role}s and up; you are a {role}.{why}"), False
    if args.has("--share") and args.has("--list"):
        return (
            _refused("lists of cases are never posted to the channel; drop `--share` to see the list yourself."),
            False,
        )

    db = Reads(rt.engine, rt.sessions)
    try:
        ctx = AnswerContext(
            rt=rt,
            db=db,
            who=who,
            force=force,
            role=role,
            today=today,
            now=rt.clock.now(),
            registry=reg,
            slack=slack,
            command=spec.name,
        )
        reply = spec.handler(ctx, args)
        if reply.outcome == "ok" and args.has("--share"):
            reply.response_type = "in_channel"
        session = db.opened
        if session is not None:
            # The handler used the session (it may have changed something): the audit event commits with its
            # changes, or neither does.
            append(session, _entry(who, force, detail, reply), at=rt.clock.now())
            session.commit()
        else:
            # A cached answer: nothing read through the ORM and nothing changed. Its event is committed with the
            # other requests' (one transaction for a burst) before the answer leaves.
            group_commit(rt.engine).append(_entry(who, force, detail, reply), at=rt.clock.now())
    finally:
        db.close()
    return reply, True


def _entry(who: Requester, force: Force | None, detail: str, reply: Reply) -> AuditEntry:
    return AuditEntry(
        actor=who.user_id,
        action="command",
        outcome=reply.outcome,
        detail=detail,
        force=force.slug if force else None,
        team_id=who.team_id,
        channel_id=who.channel_id,
        records_disclosed=reply.records_disclosed,
        reference=reply.reference,
    )


def _audit(rt: Runtime, who: Requester, force: Force | None, detail: str, reply: Reply) -> None:
    group_commit(rt.engine).append(_entry(who, force, detail, reply), at=rt.clock.now())


def _detail(text: str) -> str:
    try:
        norm = normalise(text)
    except Exception:  # normalise is total, but the audit must not depend on it
        norm = text
    norm = norm or "help"
    return norm if len(norm) <= MAX_AUDIT_DETAIL else norm[: MAX_AUDIT_DETAIL - 1] + "…"


def _refused(reason: str) -> Reply:
    text, blocks = render_refused(reason)
    return Reply(text=text, blocks=blocks, outcome="refused")


def _invalid(e: ParseError) -> Reply:
    text, blocks = render_invalid(e.message, e.hint, command=e.command)
    return Reply(text=text, blocks=blocks, outcome="invalid")
