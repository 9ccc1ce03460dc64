"""The answer pipeline shared by Slack's `/mo` and `mo-bot ask`: parse → access → domain service → render → audit.

``plan(text)`` is the cheap part the slash-command listener runs before acking (parse only, no database): it says
whether the answer is ``deferred`` — ack at once and finish through ``response_url`` — or fast enough to send
inside the ack. ``answer(rt, asker, text)`` does the rest and never raises: user mistakes become an ``invalid``
reply, rules a ``refused`` one, and anything unexpected an ``error`` reply carrying a short reference
(``E-7F3A2C``) that also appears in the log line and in the audit event. Every call appends exactly one audit
event, whatever the outcome (DPA 2018 s.62).
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
import secrets
import time
from dataclasses import dataclass, replace

from bot.access import ROLE_UNCONFIRMED, Asker, Requester, at_least
from bot.audit import AuditEntry, append, group_commit
from bot.clock import today_in
from bot.config import Force
from bot.reads import Reads
from bot.runtime import Runtime
from bot.slack.render_replies import render_error, render_help, render_invalid, render_refused
from bot.withheld import withhold_reference
from commands.mo.args import ParsedArgs
from commands.mo.catalog import default_registry
from commands.mo.help import command_help, overview_help
from commands.mo.parser import ParseError, normalise, parse, visible_controls
from commands.mo.phrases import NotUnderstood, understand
from commands.mo.reply import AnswerContext, Reply, SlackContext
from commands.mo.specs import Registry
from commands.mo.values import ParseContext

log = logging.getLogger("mo_bot.pipeline")

OUTCOMES = ("ok", "refused", "invalid", "error")
# The audit keeps what was asked; a pasted essay is cut rather than stored whole.
MAX_AUDIT_DETAIL = 1000


@dataclass(frozen=True)
class Plan:
    command: str | None  # canonical sub-command, or None when the text does not parse
    deferred: bool  # ack first and answer through response_url
    error_kind: str | None = None


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
    asker: Asker,
    text: str,
    *,
    slack: SlackContext | None = None,
    registry: Registry | None = None,
    deferred: bool = False,
) -> Reply:
    """Answer one `/mo` request from ``asker`` (:func:`bot.access.identify`: the Slack middleware, or the terminal).
    Never raises; always audits exactly once."""
    started = time.perf_counter()
    who = asker.requester
    detail = audit_detail(text)
    seen = _Seen()
    try:
        reply, audited = _answer(rt, asker, text, registry or default_registry(), slack, detail, seen)
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
    asker: Asker,
    text: str,
    reg: Registry,
    slack: SlackContext | None,
    detail: str,
    seen: _Seen,
) -> tuple[Reply, bool]:
    """The reply, and whether it was already audited (in the handler's transaction)."""
    seen.force = asker.force
    refusal = asker.command_refusal
    if refusal is not None:
        return _refused(refusal), False
    force = asker.force
    assert force is not None  # identify() refuses whenever it finds no force
    today = today_in(rt.clock, force.timezone)
    try:
        args = _parse(text, reg, force, today)
    except ParseError as e:
        # Not a command: perhaps a question in the asker's own words ("how many…", "wanted ipswich").
        if e.kind not in ("unknown_command", "unexpected_argument"):
            return _invalid(e), False
        return _phrased(rt, asker, text, e, reg, force, today, slack, detail, seen)
    seen.command = args.command
    return _dispatch(
        rt, asker.requester, force, asker.role, today, args, reg, slack, detail, role_pending=asker.role_unconfirmed
    )


def _phrased(
    rt: Runtime,
    asker: Asker,
    text: str,
    error: ParseError,
    reg: Registry,
    force: Force,
    today: dt.date,
    slack: SlackContext | None,
    detail: str,
    seen: _Seen,
) -> tuple[Reply, bool]:
    """A question in the asker's own words (:mod:`commands.mo.phrases`), answered as the command it means with that
    command shown; or the parser's own refusal, with the closest commands when the words were not understood."""
    found = understand(text, force, reg)
    if isinstance(found, NotUnderstood) and found.no_year is not None:
        return _invalid(_no_year(found.no_year, today, error.command)), False
    if isinstance(found, NotUnderstood):
        # The bare sub-command the parser already names (its hint says what to add) is no guess worth repeating.
        suggestions = [c for c in found.suggestions if c != error.command and f"did you mean `{c}`" not in error.hint]
        if suggestions:
            guesses = " or ".join(f"`/mo {c}`" for c in suggestions)
            error = ParseError(error.kind, error.message, f"did you mean {guesses}? {error.hint}", error.command)
        return _invalid(error), False
    try:
        args = _parse(found.command, reg, force, today)
    except ParseError as e:
        return _invalid(e), False
    seen.command = args.command
    reply, audited = _dispatch(
        rt, asker.requester, force, asker.role, today, args, reg, slack, audit_detail(f"{text} (as {found.command})")
    )
    note = {"type": "context", "elements": [{"type": "mrkdwn", "text": f"as `/mo {found.command}`"}]}
    blocks = [*reply.blocks, note] if len(reply.blocks) < 50 else reply.blocks
    return replace(reply, text=f"{reply.text} (as /mo {found.command})", blocks=blocks), audited


def _no_year(day_month: tuple[int, int], today: dt.date, command: str | None) -> ParseError:
    """A date said without its year is not guessed at: the refusal names it and shows it whole, with the year of its
    latest day up to today (an example; the answer would be a guess)."""
    day, month = day_month
    said = f"{day} {dt.date(2000, month, 1):%b}"
    year = today.year if (month, day) <= (today.month, today.day) else today.year - 1
    while not calendar.isleap(year) and (month, day) == (2, 29):  # 29 Feb: the latest year that had one
        year -= 1
    return ParseError(
        "bad_value", f"`{said}` is a date without its year", f"say it whole, e.g. `on {said} {year}`", command
    )


# Parses of recent questions: the same few hundred questions are asked all day, and a parse (tokenising, value
# conversion, district lookup) costs more than the rest of a cached answer. The result depends only on the text,
# the registry, the force (districts) and today (relative dates), which make the key; registry and force are keyed
# by identity and kept in the value so a recycled id() can never match. Only successful parses of short texts are
# kept (a stream of distinct long notes must not pile up megabytes here).
_PARSED: dict[tuple[str, int, int, dt.date], tuple[Registry, Force, ParsedArgs]] = {}
_PARSED_MAX = 4096
_PARSED_MAX_CHARS = 500


def _parse(text: str, reg: Registry, force: Force, today: dt.date) -> ParsedArgs:
    key = (text, id(reg), id(force), today)
    hit = _PARSED.get(key)
    if hit is not None and hit[0] is reg and hit[1] is force:
        return hit[2]
    args = parse(text, reg, ParseContext(force=force, today=today))
    if len(text) > _PARSED_MAX_CHARS:
        return args
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
    *,
    role_pending: bool = False,
) -> tuple[Reply, bool]:
    if args.help:
        spec = reg.get(args.help_topic) if args.help_topic else None
        page = command_help(spec) if spec else overview_help(reg)
        text, blocks = render_help(page, force)
        return Reply(text=text, blocks=blocks), False
    spec = reg.get(args.command)
    assert spec is not None
    if not at_least(role, spec.min_role):
        if role_pending:
            return _refused(ROLE_UNCONFIRMED), False
        return _refused(f"`/mo {spec.name}` is for {spec.min_role}s; you are a {role}."), False
    for f in spec.flags:
        if args.has(f.name) and not at_least(role, f.min_role):
            if role_pending:
                return _refused(ROLE_UNCONFIRMED), False
            why = " Case lists are for analysts and admins; counts are open to everyone." if f.name == "--list" else ""
            return _refused(f"`{f.name}` is for {f.min_role}s and up; you are a {role}.{why}"), False
    if args.has("--share") and args.has("--list"):
        return (
            _refused("lists of cases are never posted to the channel; drop `--share` to see the list yourself."),
            False,
        )
    if args.has("--share") and who.channel_is_dm and who.bot_dm is not True:
        return _refused(_share_in_dm(who)), False

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
            slack=slack,
            command=spec.name,
        )
        reply = spec.handler(ctx, args)
        if reply.outcome == "ok" and args.has("--share"):
            reply.response_type = "in_channel"
        session = db.opened
        if session is not None and not db.changed_nothing():
            # The handler used the session (it may have changed something): the audit event commits with its
            # changes, or neither does.
            append(session, _entry(who, force, detail, reply), at=rt.clock.now())
            session.commit()
        else:
            # Nothing changed (a cached answer, or one only read): its event is committed with the other requests'
            # (one transaction for a burst) before the answer leaves.
            group_commit(rt.engine).append(_entry(who, force, detail, reply), at=rt.clock.now())
    finally:
        db.close()
    return reply, True


def _share_in_dm(who: Requester) -> str:
    """Why ``--share`` is refused in a direct message that is not (or not yet known to be) the asker's with me."""
    if who.bot_dm is None:
        return (
            "I couldn't confirm yet that this is your direct message with me, so I haven't shared anything. "
            "Try again in a moment, or drop `--share` to see the answer yourself."
        )
    return (
        "`--share` posts the answer for everyone in the conversation, and this is a direct message between people, "
        "not with me — so I haven't shared anything. Drop `--share` to see the answer yourself, or share it in a "
        "channel I answer in."
    )


def _entry(who: Requester, force: Force | None, detail: str, reply: Reply) -> AuditEntry:
    return AuditEntry(
        actor=who.user_id,
        action="command",
        outcome=reply.outcome,
        detail=audit_detail(reply.audit_detail, withhold=False) if reply.audit_detail is not None else detail,
        force=force.slug if force else None,
        team_id=who.team_id,
        channel_id=who.channel_id,
        records_disclosed=reply.records_disclosed,
        reference=reply.reference,
    )


def _audit(rt: Runtime, who: Requester, force: Force | None, detail: str, reply: Reply) -> None:
    group_commit(rt.engine).append(_entry(who, force, detail, reply), at=rt.clock.now())


def audit_detail(text: str, *, withhold: bool = True) -> str:
    """What the audit keeps of the text: normalised, cut to ``MAX_AUDIT_DETAIL``, and storable whatever arrived — a
    control character is written as its name (``<U+0000 (NUL)>``), since PostgreSQL refuses a NUL in text and the
    row must be written for the very request that is refused for carrying one. A ``--reference`` value is withheld
    (:mod:`bot.withheld`) unless ``withhold`` is false."""
    head = text[: MAX_AUDIT_DETAIL + 1]  # only what can be kept is worked on, however long the text
    safe = visible_controls(head)
    try:
        norm = normalise(safe)
    except Exception:  # normalise is total, but the audit must not depend on it
        norm = safe
    norm = norm or "help"
    if withhold:  # what a handler wrote for the audit has had its values replaced already
        norm = withhold_reference(norm)
    if len(norm) <= MAX_AUDIT_DETAIL and len(text) == len(head):
        return norm
    return norm[: MAX_AUDIT_DETAIL - 1] + "…"


def _refused(reason: str) -> Reply:
    text, blocks = render_refused(reason)
    return Reply(text=text, blocks=blocks, outcome="refused")


def _invalid(e: ParseError) -> Reply:
    text, blocks = render_invalid(e.message, e.hint, command=e.command)
    return Reply(text=text, blocks=blocks, outcome="invalid")
