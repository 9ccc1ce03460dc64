"""Runs scheduled jobs through the claims: what is due (jobs.timetable), who runs it (jobs.claims), what happens
on failure (recorded, retried later, admins told by DM). APScheduler only calls :meth:`JobRunner.tick`; the CLI
and `/mo summary --post` call :meth:`JobRunner.run_now` — the same exactly-once path.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from slack_sdk import WebClient

from bot.audit import AuditEntry, record_separately
from bot.clock import today_in
from bot.runtime import Runtime
from bot.slack.admins import notify_admins
from bot.slack.client import SlackOutcomeUnknown, slack_error_reason
from bot.slack.escape import esc
from bot.summary.monthly import month_refusal
from jobs import watches
from jobs.catalog import JOBS
from jobs.claims import Claim, ClaimStore, RunKey
from jobs.context import ClaimLost, JobContext, JobDef, JobFailed, RunResult, target_from_key
from jobs.timetable import due_runs, missed_runs

log = logging.getLogger("mo_bot.jobs")


class JobRunner:
    def __init__(self, rt: Runtime, client: WebClient | None = None) -> None:
        s = rt.config.jobs
        self.rt = rt
        self.client = client
        # The scheduled jobs, and the one started by imports rather than by the timetable.
        self.jobs: dict[str, JobDef] = {**JOBS, watches.NAME: watches.WATCHES}
        self.claims = ClaimStore(
            rt.sessions,
            rt.clock,
            lease=dt.timedelta(seconds=s.lease_seconds),
            max_attempts=s.max_attempts,
            retry_after=dt.timedelta(minutes=s.retry_minutes),
        )
        # One tick at a time per process: cron and sweep triggers may coincide; claims guard across processes.
        self._busy = threading.Lock()

    # -- entry points -----------------------------------------------------------------------------------

    def tick(self) -> list[RunResult]:
        """Start every due run not yet claimed, retry failed ones whose wait is over, take over dead claims."""
        if not self._busy.acquire(blocking=False):
            return []
        try:
            return self._tick()
        finally:
            self._busy.release()

    def _tick(self) -> list[RunResult]:
        results: list[RunResult] = []
        cfg = self.rt.config
        for occ in due_runs(cfg.jobs, cfg.timezone, self.rt.clock.now()):
            spec = cfg.jobs.specs[occ.job]
            known = self.claims.existing(occ.job, [occ.period])
            for scope, channel in self.jobs[occ.job].keys(self.rt, spec):
                if (occ.period, scope, channel) in known:
                    continue  # claimed, posted or failed already: retries go through the sweep below
                results.append(self.execute(RunKey(occ.job, occ.period, scope, channel), occ.scheduled_at, occ.late))
        for key in watches.due_after_imports(self.rt, self.claims):
            results.append(self.execute(key, self.rt.clock.now(), False))
        for row in self.claims.due_for_retry():
            if row.job in self.jobs:
                key = RunKey(row.job, row.period, row.scope, row.channel)
                results.append(self.execute(key, row.scheduled_at, row.late))
        for row in self.claims.stuck():
            if self.claims.abandon(row.id, "holder stopped during its last allowed attempt"):
                key = RunKey(row.job, row.period, row.scope, row.channel)
                self._tell_admins(key, "its holder stopped during the last allowed attempt", will_retry=False)
                results.append(RunResult(key, "abandoned", "holder died on the last attempt", row.late))
        results += self._record_missed()
        return results

    def _record_missed(self) -> list[RunResult]:
        """Runs past the catch-up grace that nobody started (every replica was down) are recorded as missed,
        visible in `mo-bot jobs list --runs`, and the admins are told once, with the command that posts them."""
        cfg = self.rt.config
        found = missed_runs(cfg.jobs, cfg.timezone, self.rt.clock.now(), self.claims.latest_scheduled())
        if not found:
            return []
        tz = cfg.timezone
        results: list[RunResult] = []
        for occ in found:
            spec = cfg.jobs.specs[occ.job]
            due = f"{occ.scheduled_at.astimezone(tz):%a %d %b %Y %H:%M} ({tz.key})"
            reason = f"not running when due at {due}; past the {cfg.jobs.grace_days}-day catch-up grace"
            for scope, channel in self.jobs[occ.job].keys(self.rt, spec):
                key = RunKey(occ.job, occ.period, scope, channel)
                if self.claims.record_missed(key, occ.scheduled_at, reason):
                    log.warning("mo-bot job %s missed: %s", key, reason)
                    results.append(RunResult(key, "missed", reason, True))
        self._tell_admins_missed(results)
        return results

    def run_now(self, job: str, period: str | None, *, scope: str | None = None) -> list[RunResult]:
        """Run ``job`` for ``period`` now (CLI, `/mo summary --post`), through the same claims. The watches run per
        import batch (``batch-<id>``; None: the latest of each force), not on a timetable."""
        if job not in self.jobs:
            raise ValueError(f"unknown job {job!r}; jobs: {', '.join(self.jobs)}")
        if job == watches.NAME:
            started = self.rt.clock.now()
            return [self.execute(k, started, False, explicit=True) for k in watches.run_keys(self.rt, period, scope)]
        if period is None:
            raise ValueError(f"{job} needs a period")
        if job == "monthly_summary":
            refusal = month_refusal(period, today_in(self.rt.clock, self.rt.config.timezone))
            if refusal is not None:
                raise ValueError(refusal)
        spec = self.rt.config.jobs.specs[job]
        keys = [(s, c) for s, c in self.jobs[job].keys(self.rt, spec) if scope is None or s.split(":")[0] == scope]
        now = self.rt.clock.now()
        # An explicit run may post a run recorded as missed or uncertain: that is what the admins were told to do.
        return [self.execute(RunKey(job, period, s, c), now, False, explicit=True) for s, c in keys]

    # -- one run ----------------------------------------------------------------------------------------

    def execute(self, key: RunKey, scheduled_at: dt.datetime, late: bool, *, explicit: bool = False) -> RunResult:
        claim = self.claims.claim(key, scheduled_at, late=late, explicit=explicit)
        if claim is None:
            return RunResult(key, "skipped", self._why_not(key), late)
        ctx = JobContext(self.rt, self.client, self.claims, claim, target_from_key(key))
        try:
            detail = self.jobs[key.job].run(ctx)
        except ClaimLost as e:
            log.warning("mo-bot job %s: claim lost: %s", key, e)
            return RunResult(key, "lost", str(e), claim.late)
        except JobFailed as e:
            return self._failed(claim, e.reason)
        except SlackOutcomeUnknown as e:
            return self._uncertain(claim, e)
        except Exception as e:
            reason = slack_error_reason(e)
            if reason is None:
                log.exception("mo-bot job %s failed", key)
                reason = f"error: {type(e).__name__}"
            return self._failed(claim, reason)
        if not self.claims.finish(claim, detail):
            return RunResult(key, "lost", "claim taken over before it finished", claim.late)
        log.info("mo-bot job %s done%s: %s", key, " (late)" if claim.late else "", detail)
        return RunResult(key, "done", detail, claim.late)

    def _why_not(self, key: RunKey) -> str:
        row = self.claims.get(key)
        if row is None:
            return "not claimed"
        if row.status == "posted":
            return f"already done at {row.finished_at:%Y-%m-%d %H:%M} UTC" + (
                f" (ts {row.posted_ts})" if row.posted_ts else ""
            )
        if row.status == "claimed":
            return f"being run by {row.holder} (lease until {row.lease_expires_at:%H:%M:%S} UTC)"
        if row.status == "failed":
            return f"failed ({row.last_error}); next attempt at {row.next_attempt_at:%Y-%m-%d %H:%M} UTC"
        if row.status == "missed":
            return f"missed ({row.last_error}); `mo-bot jobs run {key.job} --period {key.period}` posts it"
        if row.status == "uncertain":
            return (
                f"may have been posted ({row.last_error}); if it is not in the channel, "
                f"`mo-bot jobs run {key.job} --period {key.period}` posts it"
            )
        return f"gave up after {row.attempts} attempts ({row.last_error})"

    def _failed(self, claim: Claim, reason: str) -> RunResult:
        out = self.claims.fail(claim, reason)
        log.warning("mo-bot job %s failed (attempt %d): %s", claim.key, out.attempts, reason)
        self._tell_admins(
            claim.key, reason, will_retry=out.will_retry, next_at=out.next_attempt_at, attempt=out.attempts
        )
        return RunResult(claim.key, "failed" if out.will_retry else "abandoned", reason, claim.late)

    def _uncertain(self, claim: Claim, e: SlackOutcomeUnknown) -> RunResult:
        """Slack was sent a post and gave no answer: it may be in the channel. Sending it again could show it twice,
        so the run is recorded as uncertain, the possible post audited, and the admins asked to look; only their
        explicit `mo-bot jobs run` posts it again (it resumes after the steps that surely happened)."""
        key = claim.key
        reason = slack_error_reason(e) or str(e)
        if not self.claims.uncertain(claim, reason):
            return RunResult(key, "lost", "claim taken over before the outcome was recorded", claim.late)
        log.warning("mo-bot job %s: %s; not posting again without a person's say-so", key, reason)
        target = target_from_key(key)
        record_separately(
            self.rt.sessions,
            AuditEntry(
                actor=f"job:{key.job}",
                action="post",
                outcome="error",
                force=target.force if target else None,
                channel_id=key.channel if key.channel != "-" else None,
                detail=f"{key.job} {key.period} {key.scope}: {reason}; it may have been posted",
            ),
            at=self.rt.clock.now(),
        )
        where = f"<#{key.channel}>" if key.channel.startswith(("C", "G")) else "Slack"
        row = self.claims.get(key)
        header_posted = row is not None and row.steps_done >= 1 and key.job == "monthly_summary"
        step = "its charts" if header_posted else "it"
        text = (
            f":warning: Slack did not answer when mo-bot posted *{esc(key.job)}* for {esc(key.period)} "
            f"({esc(key.scope)}) to {where}, so {step} may or may not have been posted (`{esc(e.method)}`). "
            "To make sure it never appears twice, it will not be posted again automatically. Look in "
            f"{where}: if {step} is missing, run `mo-bot jobs run {esc(key.job)} --period {esc(key.period)}`; "
            "if it is there, nothing needs doing."
        )
        notify_admins(self.rt, self.client, text)
        return RunResult(key, "uncertain", f"{reason}; admins asked to check {where}", claim.late)

    def _tell_admins(
        self,
        key: RunKey,
        reason: str,
        *,
        will_retry: bool,
        next_at: dt.datetime | None = None,
        attempt: int | None = None,
    ) -> None:
        tz = self.rt.config.timezone
        where = f" to <#{key.channel}>" if key.channel.startswith(("C", "G")) else ""
        then = (
            f"I will try again at {next_at.astimezone(tz):%H:%M on %d %b} ({tz.key} time)."
            if will_retry and next_at
            else "I have stopped retrying; run `mo-bot jobs run "
            f"{key.job} --period {key.period}` once the cause is fixed."
        )
        text = (
            f":warning: mo-bot could not run *{esc(key.job)}* for {esc(key.period)} ({esc(key.scope)}){where}"
            f"{f' (attempt {attempt})' if attempt else ''}: `{esc(reason)}`. {then}"
        )
        if key.channel != "-" and reason in ("not_in_channel", "channel_not_found"):
            text += " Invite the bot to the channel (`/invite @mo-bot`) or fix the channel ID in the config."
        notify_admins(self.rt, self.client, text)

    def _tell_admins_missed(self, missed: list[RunResult]) -> None:
        """One DM per job for the runs this tick recorded as missed (a week down is one message per job)."""
        by_job: dict[str, list[RunResult]] = {}
        for r in missed:
            by_job.setdefault(r.key.job, []).append(r)
        for job, rs in by_job.items():
            periods = sorted({r.key.period for r in rs})
            more = f" and {len(periods) - 5} more" if len(periods) > 5 else ""
            shown = ", ".join(esc(p) for p in periods[:5]) + more
            text = (
                f":warning: mo-bot was not running when *{esc(job)}* was due for {shown}, and it is now past the "
                f"{self.rt.config.jobs.grace_days}-day catch-up grace, so it was not posted. If it is still wanted: "
                f"`mo-bot jobs run {esc(job)} --period {esc(periods[-1])}`."
            )
            notify_admins(self.rt, self.client, text)
