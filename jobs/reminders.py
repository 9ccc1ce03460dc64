"""The weekly action reminders: each owner gets one DM listing their overdue and due-within-7-days actions, with
"Done", "Update" and "Remind me next week" on each; an action is listed at most once a week.

Called by the scheduler (``jobs.catalog``) and by ``mo-bot remind``. Selection is the pure domain function
``bot.action_log.reminders.plan_reminders``; a DM that Slack accepted is logged (``record_sent``) in its own
transaction, so one owner's failure never blocks or repeats another's.

A force's actions are DMed only to its own people (``bot.slack.action_log_sync.belongs_to``: its ``owners``
config, or a member of one of its workspaces as Slack says). An owner who is not — recorded before owners were
checked, or moved to another workspace since — gets nothing; the run reports those actions (``not_in_force``)
for the chair to re-assign.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from slack_sdk import WebClient

from bot.action_log import recurring, reminders
from bot.action_log.types import ActionView, OwnerReminder, ReminderPlan
from bot.config import Force
from bot.runtime import Runtime
from bot.slack.action_log_sync import belongs_to, dm
from bot.slack.render_actions import REMINDER_MAX, render_reminder

log = logging.getLogger("mo_bot.jobs.reminders")


@dataclass
class ReminderRun:
    dms_sent: int = 0
    actions_listed: int = 0
    failed_users: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)  # references whose owner has no Slack user yet
    not_in_force: list[str] = field(default_factory=list)  # force:reference whose owner is not one of its people

    def __str__(self) -> str:
        parts = [f"{self.dms_sent} DM(s), {self.actions_listed} action(s)"]
        if self.failed_users:
            parts.append(f"failed for {', '.join(self.failed_users)}")
        if self.unmapped:
            parts.append(f"owner not on Slack: {', '.join(self.unmapped)}")
        if self.not_in_force:
            parts.append(f"owner not in the force's workspace: {', '.join(self.not_in_force)}")
        return "; ".join(parts)


def plan_all(rt: Runtime, forces: list[Force] | None = None) -> list[tuple[Force, ReminderPlan]]:
    out = []
    for force in forces or list(rt.config.forces.values()):
        with rt.sessions() as s:
            out.append((force, reminders.plan_reminders(s, force, rt.clock.now())))
    return out


def reopen_recurring(
    rt: Runtime, forces: list[Force] | None = None, dry_run: bool = False
) -> list[tuple[Force, ActionView]]:
    """Reopen the recurring actions that have come round (``dry_run``: only say which would be), committed before
    anyone is reminded so the reopened ones are among the reminders."""
    out: list[tuple[Force, ActionView]] = []
    for force in forces or list(rt.config.forces.values()):
        with rt.sessions() as s:
            out += [(force, a) for a in recurring.reopen_due(s, force, rt.clock.now(), dry_run=dry_run)]
            if not dry_run:
                s.commit()
    return out


def send_reminders(rt: Runtime, client: WebClient, forces: list[Force] | None = None) -> ReminderRun:
    run = ReminderRun()
    reopen_recurring(rt, forces)
    for force, plan in plan_all(rt, forces):
        run.unmapped.extend(a.reference for a in plan.unmapped)
        for full in plan.reminders:
            if not belongs_to(client, force, full.user_id):
                log.warning("mo-bot: reminders: %s is not one of %s's people; not DMed", full.user_id, force.slug)
                run.not_in_force.extend(f"{force.slug}:{a.reference}" for a in full.actions)
                continue
            # Only the actions the DM can show are logged as reminded; the rest come up next time.
            r = _cap(full, REMINDER_MAX)
            text, blocks = render_reminder(r, force.name, more=len(full.actions) - len(r.actions))
            posted = dm(client, r.user_id, text, blocks)
            if posted is None:
                run.failed_users.append(r.user_id)
                continue
            with rt.sessions() as s:
                reminders.record_sent(s, force, r, rt.clock.now())
                s.commit()
            run.dms_sent += 1
            run.actions_listed += len(r.actions)
    log.info("mo-bot: reminders: %s", run)
    return run


def _cap(r: OwnerReminder, n: int) -> OwnerReminder:
    """The first ``n`` actions of a reminder, overdue ones first."""
    overdue = r.overdue[:n]
    return OwnerReminder(r.user_id, overdue, r.due_soon[: max(0, n - len(overdue))])
