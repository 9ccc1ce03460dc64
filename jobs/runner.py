"""Runs scheduled jobs through the claims: what is due (jobs.timetable), who runs it (jobs.claims), what happens
on failure (recorded, retried later, admins told by DM). APScheduler only calls :meth:`JobRunner.tick`; the CLI
and `/mo summary --post` call :meth:`JobRunner.run_now` — the same exactly-once path.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.config import JobSpec, JobTarget
from bot.runtime import Runtime
from jobs.claims import Claim, ClaimStore, RunKey
from jobs.timetable import due_runs, missed_runs

log = logging.getLogger("mo_bot.jobs")


class JobFailed(Exception):
    """A run could not complete; ``reason`` is short and holds no personal data (e.g. ``not_in_channel``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ClaimLost(Exception):
    """Our lease lapsed and another replica took the run over: stop without posting anything more."""


@dataclass
class JobContext:
    rt: Runtime
    client: Any  # slack_sdk.WebClient, or None when no Slack token is configured
    claims: ClaimStore
    claim: Claim
    target: JobTarget | None  # None for jobs that do not post per force/channel

    @property
    def period(self) -> str:
        return self.claim.key.period

    def step(self, steps_done: int, posted_ts: str | None = None) -> None:
        """Record progress before the next visible action; raises ClaimLost if another replica took over."""
        if not self.claims.record_step(self.claim, steps_done, posted_ts):
            raise ClaimLost(f"{self.claim.key} was taken over")

    def slack(self) -> Any:
        if self.client is None:
            raise JobFailed("no Slack client: set SLACK_BOT_TOKEN")
        return self.client


@dataclass(frozen=True)
class JobDef:
    name: str
    description: str
    # (scope, channel) of each run for one period; the claim is unique per job, period, scope and channel.
    keys: Callable[[Runtime, JobSpec], list[tuple[str, str]]]
    run: Callable[[JobContext], str]  # returns a one-line result (counts), never personal data


@dataclass(frozen=True)
class RunResult:
    key: RunKey
    outcome: str  # done | skipped | failed | abandoned | lost | missed
    detail: str = ""
    late: bool = False


def target_keys(_rt: Runtime, spec: JobSpec) -> list[tuple[str, str]]:
    return [(t.scope, t.channel) for t in spec.targets]


def target_from_key(key: RunKey) -> JobTarget | None:
    if key.scope == "-":
        return None
    force, _, district = key.scope.partition(":")
    return JobTarget(force=force, channel=key.channel, district=district or None)


def slack_error_reason(exc: BaseException) -> str | None:
    """Slack's error code for a failed Web API call (``not_in_channel``, ``ratelimited``, ``http_503``…)."""
    from slack_sdk.errors import SlackApiError, SlackClientError

    if isinstance(exc, SlackApiError):
        resp = exc.response
        err = resp.get("error") if resp is not None and hasattr(resp, "get") else None
        status = getattr(resp, "status_code", None)
        if status == 429:
            return "ratelimited (429 after retries)"
        if status is not None and status >= 500:
            return f"http_{status}"
        return str(err or f"http_{status}")
    if isinstance(exc, SlackClientError | OSError):
        return f"connection: {type(exc).__name__}"
    return None


class JobRunner:
    def __init__(self, rt: Runtime, client: Any = None, *, holder: str | None = None) -> None:
        from jobs.catalog import JOBS

        s = rt.config.jobs
        self.rt = rt
        self.client = client
        self.jobs: dict[str, JobDef] = JOBS
        self.claims = ClaimStore(
            rt.sessions,
            rt.clock,
            holder=holder,
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

    def run_now(self, job: str, period: str, *, scope: str | None = None) -> list[RunResult]:
        """Run ``job`` for ``period`` now (CLI, `/mo summary --post`), through the same claims."""
        if job not in self.jobs:
            raise ValueError(f"unknown job {job!r}; jobs: {', '.join(self.jobs)}")
        spec = self.rt.config.jobs.specs[job]
        keys = [(s, c) for s, c in self.jobs[job].keys(self.rt, spec) if scope is None or s.split(":")[0] == scope]
        now = self.rt.clock.now()
        # An explicit run may post a run that was recorded as missed: that is what the admins were told to do.
        return [self.execute(RunKey(job, period, s, c), now, False, missed_ok=True) for s, c in keys]

    # -- one run ----------------------------------------------------------------------------------------

    def execute(self, key: RunKey, scheduled_at: dt.datetime, late: bool, *, missed_ok: bool = False) -> RunResult:
        claim = self.claims.claim(key, scheduled_at, late=late, missed_ok=missed_ok)
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
        return f"gave up after {row.attempts} attempts ({row.last_error})"

    def _failed(self, claim: Claim, reason: str) -> RunResult:
        out = self.claims.fail(claim, reason)
        log.warning("mo-bot job %s failed (attempt %d): %s", claim.key, out.attempts, reason)
        self._tell_admins(
            claim.key, reason, will_retry=out.will_retry, next_at=out.next_attempt_at, attempt=out.attempts
        )
        return RunResult(claim.key, "failed" if out.will_retry else "abandoned", reason, claim.late)

    def _tell_admins(
        self,
        key: RunKey,
        reason: str,
        *,
        will_retry: bool,
        next_at: dt.datetime | None = None,
        attempt: int | None = None,
    ) -> None:
        from bot.slack.escape import esc

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
        from bot.slack.escape import esc

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


def admin_user_ids(rt: Runtime, client: Any = None) -> list[str]:
    """Who is told when a job needs a person: the admins named by user ID in ``slack.roles.admin`` and, with a
    ``client``, the members of the user groups (``S…``) named there, read with ``usergroups.users.list`` each
    time (these messages are rare, and a stale member list would tell someone who has left the group). An
    unreadable group is logged and skipped. In order, each once."""
    named = rt.config.slack.roles.get("admin", ())
    users = [u for u in named if u.startswith(("U", "W"))]
    if client is not None:
        for gid in (g for g in named if g.startswith("S")):
            try:
                users += [u for u in client.usergroups_users_list(usergroup=gid).get("users", []) if isinstance(u, str)]
            except Exception as e:
                log.warning("mo-bot: could not read admin user group %s: %s", gid, slack_error_reason(e) or e)
    return list(dict.fromkeys(users))


def has_admins(rt: Runtime) -> bool:
    """Whether ``slack.roles.admin`` names anyone to tell (a user or a user group)."""
    return any(u.startswith(("U", "W", "S")) for u in rt.config.slack.roles.get("admin", ()))


def notify_admins(rt: Runtime, client: Any, text: str) -> int:
    """DM every admin; returns how many were told. Failures are logged, never raised (this is the fallback)."""
    if client is None:
        log.warning("mo-bot: no Slack client to tell admins: %s", text)
        return 0
    told = 0
    for user in admin_user_ids(rt, client):
        try:
            im = client.conversations_open(users=user)
            client.chat_postMessage(channel=im["channel"]["id"], text=text, unfurl_links=False)
            told += 1
        except Exception as e:
            log.error("mo-bot: could not DM admin %s (%s): %s", user, slack_error_reason(e) or type(e).__name__, text)
    return told
