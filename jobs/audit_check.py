"""The daily audit-chain check: recompute the audit log's hash chain (:func:`bot.audit_chain.verify_chain`) and DM
the admins when any row is not as it was sealed. A clean check is recorded quietly: its run's result (with the
head link, to compare with later) and an audit row (``verify``); nobody is messaged.

A break stays in the chain for good (the rows cannot be put back as they were sealed), so the admins are told once
per state of the breaks: a night that finds the same breaks as the last reported run records them quietly, and a
new break (another row changed, a later one deleted) is told again."""

from __future__ import annotations

from bot.audit import AuditEntry, record_separately
from bot.audit_chain import verify_chain
from bot.slack.admins import has_admins, notify_admins
from bot.slack.escape import esc
from jobs.context import JobContext, JobFailed

ACTOR = "job:audit_check"


def run(ctx: JobContext) -> str:
    rt = ctx.rt
    with rt.sessions() as session:
        report = verify_chain(session)
    outcome = "ok" if report.ok else "error"
    record_separately(
        rt.sessions, AuditEntry(actor=ACTOR, action="verify", outcome=outcome, detail=report.summary()), rt.clock.now()
    )
    if report.ok:
        return f"intact: {report.rows} rows; head #{report.head_seq} {report.head_hash[:16]}"
    broken = f"chain broken at {report.breaks[0]}"
    if report.break_count > 1:
        broken += f" ({report.break_count} breaks)"
    previous = ctx.claims.last_finished(ctx.claim.key.job, ctx.period)
    if previous is not None and (previous.detail or "").startswith(f"{broken}; told "):
        return f"{broken}; unchanged since the run of {previous.period}, which told the admins: not told again"
    if not has_admins(rt):
        raise JobFailed(f"{broken}, but no admin user or user group in slack.roles.admin to tell")
    lines = [f"• {esc(str(b))}" for b in report.breaks]
    if report.break_count > len(report.breaks):
        lines.append(f"• … and {report.break_count - len(report.breaks)} more")
    text = (
        ":rotating_light: The audit log is not as it was written: rows were changed, deleted or added behind the "
        "bot's back. The first breaks in its hash chain:\n"
        + "\n".join(lines)
        + "\nRun `mo-bot audit verify` for the full list, and keep a copy of the database as it is now."
    )
    told = notify_admins(rt, ctx.slack(), text)
    if told == 0:
        raise JobFailed(f"{broken}; could not DM any admin")
    ctx.step(1)
    return f"{broken}; told {told} admin(s)"
