"""The retention job: each force's personal rows closed longer than ``retention_days`` are purged
(:func:`bot.retention.purge_force`), in one transaction per force."""

from __future__ import annotations

import datetime as dt

from bot.clock import today_in
from bot.retention import purge_force
from jobs.context import JobContext


def run(ctx: JobContext) -> str:
    rt = ctx.rt
    results = []
    for force in rt.config.forces.values():
        cutoff = today_in(rt.clock, force.timezone) - dt.timedelta(days=rt.config.retention_days)
        with rt.sessions() as session:
            results.append(purge_force(session, force.slug, cutoff, "job:retention", rt.clock.now()))
            session.commit()
    return "; ".join(f"{r.force}: {r.total} purged (closed before {r.cutoff})" for r in results)
