"""The daily data-freshness check: DM the admins when any force's export is overdue (older than its
``refresh_days``, or never imported). Nothing is sent when everything is fresh."""

from __future__ import annotations

from bot.freshness import dataset_freshness
from bot.slack.admins import has_admins, notify_admins
from bot.slack.escape import esc
from bot.slack.render_figures import freshness_detail
from jobs.context import JobContext, JobFailed


def overdue_lines(ctx: JobContext) -> list[str]:
    rt = ctx.rt
    now = rt.clock.now()
    lines: list[str] = []
    with rt.sessions() as session:
        for force in rt.config.forces.values():
            for f in dataset_freshness(session, rt.config, force, now):
                if not f.stale:
                    continue
                if f.imported_at is None:
                    lines.append(f"• {esc(force.name)}: *{esc(f.dataset)}* has never been imported")
                else:
                    # The data's own date first: an export weeks old that was imported this morning is overdue
                    # too, and "imported today" alone would not say why.
                    lines.append(f"• {esc(force.name)}: *{esc(f.dataset)}* {freshness_detail(f, force)}")
    return lines


def run(ctx: JobContext) -> str:
    lines = overdue_lines(ctx)
    if not lines:
        return "all datasets fresh"
    if not has_admins(ctx.rt):
        return f"{len(lines)} overdue, but no admin user or user group in slack.roles.admin to tell"
    text = ":hourglass: Data overdue for refresh — please import the latest exports:\n" + "\n".join(lines)
    told = notify_admins(ctx.rt, ctx.slack(), text)
    if told == 0:
        raise JobFailed("could not DM any admin")
    ctx.step(1)
    return f"{len(lines)} overdue; told {told} admin(s)"
