"""The retention job: each force's personal rows closed longer than ``retention_days`` are purged
(:func:`bot.retention.purge_force`), and what self-service in Slack left behind after its own period
(:func:`bot.retention_self_service.purge_leftovers`), in one transaction per force."""

from __future__ import annotations

import datetime as dt

from bot.clock import today_in
from bot.retention import purge_force
from bot.retention_self_service import purge_leftovers
from jobs.context import JobContext


def run(ctx: JobContext) -> str:
    rt = ctx.rt
    results = []
    for force in rt.config.forces.values():
        cutoff = today_in(rt.clock, force.timezone) - dt.timedelta(days=rt.config.retention_days)
        with rt.sessions() as session:
            cases = purge_force(
                session, force.slug, cutoff, "job:retention", rt.clock.now(), review_days=rt.config.wanted_review_days
            )
            left = purge_leftovers(session, force.slug, rt.clock.now(), "job:retention")
            session.commit()
        line = f"{cases.force}: {cases.total} purged (closed before {cases.cutoff})"
        if left.file_imports or left.watches:
            line += f", {left.file_imports} finished Slack file imports and {left.watches} removed watches"
        results.append(line)
    return "; ".join(results)
