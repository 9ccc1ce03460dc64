"""The daily data-freshness check: DM the admins when any force's export is overdue (older than its
``refresh_days``, or never imported), or its action log has not changed within its interval (the log lives in the
bot: its owners update it in Slack, so the remedy is theirs, not an import). Nothing is sent when everything is
fresh, and nothing for a force that keeps no action log."""

from __future__ import annotations

from bot.freshness import ACTION_LOG, dataset_freshness, freshness_detail
from bot.slack.admins import has_admins, notify_admins
from bot.slack.escape import esc
from bot.slack.render_figures import DATASET_LABELS
from jobs.context import JobContext, JobFailed

LOG_REMEDY = (
    " — its owners update it in Slack, not by an import: `/mo meeting` sets the next meeting, whose update round"
    " asks them"
)


def overdue_lines(ctx: JobContext) -> tuple[list[str], bool]:
    """One line per overdue dataset of each force, and whether any of them is an export (to be imported)."""
    rt = ctx.rt
    exports = False
    now = rt.clock.now()
    lines: list[str] = []
    with rt.sessions() as session:
        for force in rt.config.forces.values():
            for f in dataset_freshness(session, rt.config, force, now):
                if not f.stale:
                    continue
                label = esc(DATASET_LABELS.get(f.dataset, f.dataset))
                exports = exports or f.dataset != ACTION_LOG
                if f.updated_at is None:
                    lines.append(f"• {esc(force.name)}: *{label}* has never been imported")
                    continue
                # The data's own date first: an export weeks old that was imported this morning is overdue too,
                # and "imported today" alone would not say why.
                line = f"• {esc(force.name)}: *{label}* {freshness_detail(f, force)}"
                if f.dataset == ACTION_LOG:
                    line += LOG_REMEDY
                lines.append(line)
    return lines, exports


def run(ctx: JobContext) -> str:
    lines, exports = overdue_lines(ctx)
    if not lines:
        return "all datasets fresh"
    if not has_admins(ctx.rt):
        return f"{len(lines)} overdue, but no admin user or user group in slack.roles.admin to tell"
    head = "Data overdue for refresh — please import the latest exports" if exports else "Data overdue for refresh"
    text = f":hourglass: {head}:\n" + "\n".join(lines)
    told = notify_admins(ctx.rt, ctx.slack(), text)
    if told == 0:
        raise JobFailed("could not DM any admin")
    ctx.step(1)
    return f"{len(lines)} overdue; told {told} admin(s)"
