"""The scheduled jobs by name: what each does and which runs (scope, channel) one period has."""

from __future__ import annotations

from bot.config import JobSpec
from bot.runtime import Runtime
from jobs import audit_check, bail_digest, freshness_check, monthly_summary, reminders, retention, update_round
from jobs.context import JobContext, JobDef, JobFailed, target_keys


def _once(_rt: Runtime, _spec: JobSpec) -> list[tuple[str, str]]:
    return [("-", "-")]


def _admins(_rt: Runtime, _spec: JobSpec) -> list[tuple[str, str]]:
    return [("-", "admins")]


def _reminders(ctx: JobContext) -> str:
    result = reminders.send_reminders(ctx.rt, ctx.slack())
    if result.failed_users:
        # Owners already reminded are recorded (record_sent) and not listed again, so a retry reaches only
        # the ones whose DM failed.
        raise JobFailed(f"reminder DM failed for {len(result.failed_users)} owner(s); {result.dms_sent} sent")
    ctx.step(1)
    return str(result)[:500]


def _update_round(ctx: JobContext) -> str:
    result = update_round.run_round(ctx.rt, ctx.slack())
    ctx.step(1)
    return str(result)[:500]


JOBS: dict[str, JobDef] = {
    j.name: j
    for j in (
        JobDef(
            "monthly_summary",
            "Monthly summary with charts, per force and channel (first working day of the month)",
            target_keys,
            monthly_summary.run,
        ),
        JobDef("bail_digest", "Bail deadlines digest for the bail management channel", target_keys, bail_digest.run),
        JobDef("reminders", "Weekly DM reminders to owners of overdue or due-soon actions", _once, _reminders),
        JobDef("freshness_check", "DM admins when an export is overdue for refresh", _admins, freshness_check.run),
        JobDef("retention", "Purge personal rows closed longer than retention_days (audited)", _once, retention.run),
        JobDef("audit_check", "Verify the audit log's hash chain; DM admins if it is broken", _admins, audit_check.run),
        JobDef(
            "update_round",
            "The update round before each meeting: owners' DMs, the nudge two days before, the chair's digest",
            _once,
            _update_round,
        ),
    )
}
