"""After every import: tell the watchers whose line it crossed (:mod:`bot.watches`), by DM.

One run per force and import — period ``batch-<id>`` of the force's latest import batch — claimed through the same
exactly-once claims as every scheduled job (:mod:`jobs.claims`), so two schedulers never tell anyone twice, and
started by the scheduler's tick (:meth:`jobs.runner.JobRunner.tick`, every few minutes), never on a request's ack
path. Each watcher is checked against the rules when it fires — workspace still the watch's force, role still
``analyst`` or above (user groups read from Slack as for a request) — and one who may no longer be told is not; both
are audited. The watches' state is committed before the DMs: a DM that fails is recorded as the run's failure and
not sent again, rather than risk telling anyone twice.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select

from bot.access import Requester, at_least, identify
from bot.audit import AuditEntry, record
from bot.clock import today_in
from bot.config import JobSpec
from bot.models import ImportBatch, Watch
from bot.runtime import Runtime
from bot.slack.blocks import Rendered
from bot.slack.render_watches import render_firing
from bot.slack.user_groups import UserGroups
from bot.watches import WATCH_ROLE, check_watches
from jobs.claims import ClaimStore, RunKey
from jobs.context import JobContext, JobDef, JobFailed
from jobs.watch_answers import watch_answer

NAME = "watches"
_BATCH_PERIOD = re.compile(r"^batch-([1-9][0-9]{0,17})$")


def due_after_imports(rt: Runtime, claims: ClaimStore) -> list[RunKey]:
    """A run for each force with active watches whose latest import has not been checked yet."""
    with rt.sessions() as s:
        watched = set(s.scalars(select(Watch.force).where(Watch.removed_at.is_(None)).distinct()))
        if not watched:
            return []
        latest = s.execute(
            select(ImportBatch.force, func.max(ImportBatch.id))
            .where(ImportBatch.force.in_(watched))
            .group_by(ImportBatch.force)
        ).all()
    keys = [RunKey(NAME, f"batch-{b}", f, "-") for f, b in latest if f in rt.config.forces]
    known = claims.existing(NAME, [k.period for k in keys])
    return [k for k in keys if (k.period, k.scope, k.channel) not in known]


def run_keys(rt: Runtime, period: str | None = None, force: str | None = None) -> list[RunKey]:
    """The runs an explicit `mo-bot jobs run watches [--period batch-<id>] [--force F]` asks for: by default the
    latest import batch of each configured force (or of ``force``) that has one, checked or not (the claims say
    whether it was); with ``period``, that one batch. Raises ValueError naming a bad period."""
    with rt.sessions() as s:
        if period is None:
            stmt = select(ImportBatch.force, func.max(ImportBatch.id)).group_by(ImportBatch.force)
            if force is not None:
                stmt = stmt.where(ImportBatch.force == force)
            latest = sorted(s.execute(stmt).all())
            return [RunKey(NAME, f"batch-{b}", f, "-") for f, b in latest if f in rt.config.forces]
        m = _BATCH_PERIOD.match(period)
        if m is None:
            raise ValueError(f"period {period!r} for {NAME}: expected batch-<import batch id>, e.g. batch-12")
        batch = s.get(ImportBatch, int(m[1]))
    if batch is None or batch.force not in rt.config.forces:
        raise ValueError(f"period {period!r} for {NAME}: there is no import batch {m[1]}")
    if force is not None and batch.force != force:
        raise ValueError(f"period {period!r} for {NAME}: import batch {m[1]} is {batch.force}'s, not {force}'s")
    return [RunKey(NAME, period, batch.force, "-")]


def _no_keys(_rt: Runtime, _spec: JobSpec) -> list[tuple[str, str]]:
    return []  # never on a timetable: due_after_imports names the runs


def run(ctx: JobContext) -> str:
    rt = ctx.rt
    cfg = rt.config
    force = cfg.force(ctx.claim.key.scope)
    client = ctx.slack()
    groups = UserGroups.for_config(cfg)
    # A job may wait on Slack (nobody is waiting for an ack): the roles are read now, whole, or the run is retried.
    if not groups.refresh(client):
        raise JobFailed("could not read the user groups that give roles; watches not checked yet")

    def may_be_told(user: str, team: str | None) -> str | None:
        who = identify(
            cfg,
            Requester(user_id=user, team_id=team, channel_id=None, user_groups=groups.membership(user).groups),
        )
        if who.refusal is not None or who.force is None or who.force.slug != force.slug:
            return "their workspace is no longer this force's"
        if not at_least(who.role, WATCH_ROLE):
            return f"their role is now {who.role}; watches are for analysts and admins"
        return None

    now = rt.clock.now()
    today = today_in(rt.clock, force.timezone)
    answers: dict[str, Rendered] = {}  # by the question the watch follows
    with rt.sessions() as s:
        checked = check_watches(s, cfg, force, today, now, may_be_told)
        for n in checked.not_told:
            detail = f"watch {n.watch_id} `{n.command}` crossed; not told: {n.why}"
            record(
                s,
                AuditEntry(actor=n.user_id, action="watch", outcome="refused", detail=detail, force=force.slug),
                at=now,
            )
        s.commit()
        # Each DM carries the answer its watch follows, read from the data that crossed the line.
        for f in checked.fired:
            if f.spec is not None and f.spec.answer_command() not in answers:
                answers[f.spec.answer_command()] = watch_answer(s, cfg, force, f.spec, today, now)
    ctx.step(1)
    failed = 0
    for f in checked.fired:
        answer = answers.get(f.spec.answer_command()) if f.spec is not None else None
        text, blocks = render_firing(f, force.name, answer)
        try:
            client.chat_postMessage(channel=f.user_id, text=text, blocks=blocks)
            outcome = "ok"
        except Exception:
            failed += 1
            outcome = "error"
        with rt.sessions() as s, s.begin():
            detail = f"watch {f.watch_id} `{f.command}` crossed: {f.value} (was {f.previous}); DM {outcome}"
            record(
                s, AuditEntry(actor=f.user_id, action="watch", outcome=outcome, detail=detail, force=force.slug), at=now
            )
    summary = f"{checked.watches} watches, {len(checked.fired)} crossed and told, {len(checked.not_told)} not told"
    if failed:
        raise JobFailed(f"{failed} watch DM(s) failed; {summary}")
    return summary


WATCHES = JobDef(NAME, "Tell watchers whose line the latest import crossed (after every import)", _no_keys, run)
