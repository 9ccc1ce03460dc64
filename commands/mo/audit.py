"""`/mo audit`: the audit log for the data-protection officer (role ``dpo``) and admins, sent by DM as a file.

``/mo audit --since DATE [--until DATE] [--user U…] [--format csv|jsonl]`` exports the asker's force's audit events
(never another force's); ``--reference REF`` instead lists every consultation that disclosed that case reference
(:mod:`bot.disclosures`). The request itself is audited like every `/mo` request, and the file goes only to the
asker's DM."""

from __future__ import annotations

import csv
import io
import json
import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.access import at_least, has_duty
from bot.audit_export import FORMATS, Scope, export_audit, period_bounds
from bot.disclosures import consultations_of, deployment_key, ref_hash
from bot.exports import neutralise_cell
from bot.slack.escape import esc
from bot.withheld import withhold_reference
from commands.mo import values as t
from commands.mo.args import ParsedArgs
from commands.mo.reply import AnswerContext, Reply
from commands.mo.specs import CommandSpec, FlagSpec, Registry

log = logging.getLogger("mo_bot.audit")

DUTY = "dpo"
CONSULTATION_COLUMNS = ("at", "actor", "team_id", "channel_id", "force", "dataset", "command")


def register_commands(reg: Registry) -> None:
    reg.add(
        CommandSpec(
            name="audit",
            summary="The audit log, sent to you by DM (data-protection officer and admins)",
            handler=handle_audit,
            flags=(
                FlagSpec("--since", t.DATE, "first day to include"),
                FlagSpec("--until", t.DATE, "last day to include (default: up to now)"),
                FlagSpec("--user", t.USER_OR_ME, "only what this person did: @user"),
                FlagSpec("--reference", t.TEXT, "every consultation that disclosed this case reference", metavar="REF"),
                FlagSpec("--format", t.choice(*FORMATS), "csv (default) or jsonl"),
            ),
            examples=("audit --since 2026-11-01", "audit --since 2026-01-01 --reference 37/12345/24 --format jsonl"),
            deferred=True,
        )
    )


def handle_audit(ctx: AnswerContext, args: ParsedArgs) -> Reply:
    reply = _handle_audit(ctx, args)
    reference = args.get("reference")
    if reference:
        # Audited with the reference as the disclosures hold it (an HMAC), whatever the outcome.
        h = ref_hash(deployment_key(ctx.session), ctx.force.slug, reference)
        reply.audit_detail = withhold_reference(args.text, f"hmac:{h}")
    return reply


def _handle_audit(ctx: AnswerContext, args: ParsedArgs) -> Reply:
    who = ctx.who
    if not (at_least(ctx.role, "admin") or has_duty(ctx.config, DUTY, who.user_id, who.user_groups)):
        return ctx.refused("`/mo audit` is for the data-protection officer (role dpo) and admins.")
    since = args.get("since")
    if since is None:
        return ctx.invalid("`/mo audit` needs `--since DATE`", "e.g. `/mo audit --since 2026-11-01`")
    try:
        start, end = period_bounds(since, args.get("until"), ctx.force.timezone)
    except ValueError as e:
        return ctx.invalid(str(e))
    fmt = args.get("format") or "csv"
    client = ctx.slack.client if ctx.slack else None
    if client is None:
        return ctx.invalid("the audit file is sent by Slack DM", "in the terminal use `mo-bot audit export`")
    reference = args.get("reference")
    out = io.StringIO()
    if reference:
        n = _consultations(ctx, out, reference, start, end, fmt)
        what, name = f"{n} consultation(s) that disclosed the reference", f"consultations-{ctx.today.isoformat()}"
    else:
        user = args.get("user")
        actor = who.user_id if user == "me" else user
        scope = Scope(ctx.force.slug, ctx.force.slack_team_ids, actor)
        n = export_audit(ctx.session, out, start, end, fmt, scope=scope)
        what, name = f"{n} audit event(s)", f"audit-{ctx.force.slug}-{since.isoformat()}"
    name = f"{name}.{fmt}"
    try:
        dm = client.conversations_open(users=who.user_id)["channel"]["id"]
        client.files_upload_v2(
            channel=dm,
            content=out.getvalue().encode("utf-8"),
            filename=name,
            title=f"{ctx.force.name} {what} since {since.isoformat()}",
            initial_comment=f"{what.capitalize()} since {since.isoformat()} ({ctx.force.name}).",
        )
    except SlackApiError as e:
        log.warning("mo-bot: could not send the audit file to %s: %s", who.user_id, e.response.get("error"))
        return ctx.refused("I couldn't send you the file by DM. Open a DM with me and try again.")
    text = f":page_facing_up: Sent you *{esc(name)}* by DM: {esc(what)}."
    return ctx.ok(text, [{"type": "section", "text": {"type": "mrkdwn", "text": text}}])


def _consultations(ctx: AnswerContext, out: io.StringIO, reference: str, start: Any, end: Any, fmt: str) -> int:
    n = 0
    w = csv.writer(out) if fmt == "csv" else None
    if w is not None:
        w.writerow(CONSULTATION_COLUMNS)
    for d in consultations_of(ctx.session, ctx.force.slug, reference, start, end):
        row = {
            "at": d.at.isoformat(),
            "actor": d.actor,
            "team_id": d.team_id,
            "channel_id": d.channel_id,
            "force": d.force,
            "dataset": d.dataset,
            "command": d.command,
        }
        if w is not None:
            w.writerow(["" if row[c] is None else neutralise_cell(row[c]) for c in CONSULTATION_COLUMNS])
        else:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        n += 1
    return n
