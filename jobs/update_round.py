"""The update round before each meeting (``bot.action_log.update_round``), run every morning by the scheduler:
the owners' first DMs ``round_days_before`` days before the meeting, the nudge two days before (each on the working
day before when it falls at a weekend, on a bank holiday or on one of the force's days off), the chair's digest on
the morning of the meeting. The run itself is claimed once per day (``jobs.claims``); each DM is claimed per person
before it is sent, so a rerun, a takeover or a second replica never sends anyone the same message twice.
Each run first reopens the recurring actions that have come round (``bot.action_log.recurring``).

A force's actions go only to its own people (``belongs_to``); the digest goes to the admins (the chair) who
belong to the force. A DM that fails is left unsent and reported; it is not retried (its claim is kept), so the
chair sees the owner among those who did not reply.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient

from bot.action_log import recurring, update_round
from bot.config import Force
from bot.runtime import Runtime
from bot.slack.action_log_sync import belongs_to, dm
from bot.slack.admins import admin_user_ids
from bot.slack.render_round import render_round_digest, render_round_dm

log = logging.getLogger("mo_bot.jobs.update_round")


@dataclass
class RoundRun:
    sent: dict[str, int] = field(default_factory=dict)  # step -> DMs sent
    failed: list[str] = field(default_factory=list)
    not_in_force: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        parts = [", ".join(f"{n} {step} DM(s)" for step, n in self.sent.items()) or "nothing due"]
        if self.failed:
            parts.append(f"failed for {len(self.failed)}")
        if self.not_in_force:
            parts.append(f"{len(self.not_in_force)} not in the force's workspace")
        return "; ".join(parts)


def _send(
    rt: Runtime,
    client: WebClient,
    force: Force,
    meeting_on: dt.date,
    user: str,
    kind: str,
    message: tuple[str, list[dict[str, Any]]],
    run: RoundRun,
) -> None:
    """Claim, then send: the claim is committed first, so a crash after it loses this DM rather than doubling it."""
    with rt.sessions() as s:
        first = update_round.claim_message(s, force, meeting_on, user, kind, rt.clock.now())
        s.commit()
    if not first:
        return
    posted = dm(client, user, *message)
    if posted is None:
        run.failed.append(user)
        return
    with rt.sessions() as s:
        update_round.message_sent(s, force, meeting_on, user, kind, posted[1])
        s.commit()
    run.sent[kind] = run.sent.get(kind, 0) + 1


def run_round(rt: Runtime, client: WebClient, forces: list[Force] | None = None) -> RoundRun:
    run = RoundRun()
    for force in forces or list(rt.config.forces.values()):
        with rt.sessions() as s:
            # Recurring actions that came round are open again before anyone is asked about their actions.
            recurring.reopen_due(s, force, rt.clock.now())
            s.commit()
        with rt.sessions() as s:
            plan = update_round.plan_round(s, force, rt.clock.now())
            meeting = plan.meeting
            if meeting is None or plan.step == "none":
                continue
            d = update_round.digest(s, force, meeting, rt.clock.now()) if plan.step == "digest" else None
        if d is not None:
            message = render_round_digest(force.name, d)
            for chair in admin_user_ids(rt, client):
                if belongs_to(client, force, chair):
                    _send(rt, client, force, meeting, chair, "digest", message, run)
            continue
        for owner in plan.owners:
            if not belongs_to(client, force, owner.user_id):
                run.not_in_force.append(owner.user_id)
                continue
            message = render_round_dm(force.slug, force.name, meeting, owner.actions, nudge=plan.step == "nudge")
            _send(rt, client, force, meeting, owner.user_id, plan.step, message, run)
    log.info("mo-bot: update round: %s", run)
    return run
