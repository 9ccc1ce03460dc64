"""Exactly-once claims for scheduled runs, in the database every replica shares.

A run is identified by (job, period, scope, channel). Before doing anything visible a replica INSERTs that
row with ``ON CONFLICT DO NOTHING``: the unique constraint lets exactly one replica win, on PostgreSQL under
any concurrency and on SQLite for one process. The winner holds a lease; if it dies, the row stays
``claimed`` with an expired lease and another replica takes it over with a conditional UPDATE that re-checks
the lease (PostgreSQL re-evaluates the WHERE clause on the latest row version, so two replicas racing for
the same takeover cannot both succeed). A failed post is recorded with its reason and a next-attempt time;
the same conditional UPDATE picks it up again later, a bounded number of times. A run whose visible step may or
may not have happened (Slack gave no answer to a post) is recorded as uncertain and never retried by the
scheduler: only an explicit run, after a person has looked, may claim it again.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.db import rowcount, session_scope
from bot.models import JobRun

CLAIMED, POSTED, FAILED, ABANDONED, MISSED = "claimed", "posted", "failed", "abandoned", "missed"
UNCERTAIN = "uncertain"
# MISSED: nobody was running when it was due and it is past the catch-up grace. UNCERTAIN: a post was sent and
# Slack gave no answer, so it may be in the channel; posting again could make it appear twice. Only an explicit
# `mo-bot jobs run` (run_now) may claim either.
STATUSES = (CLAIMED, POSTED, FAILED, ABANDONED, MISSED, UNCERTAIN)
EXPLICIT_ONLY = (MISSED, UNCERTAIN)


@dataclass(frozen=True)
class RunKey:
    job: str
    period: str
    scope: str = "-"  # force slug, "force:district", or "-" for a job that is not per force
    channel: str = "-"  # Slack channel ID, or "-" for a job that posts nowhere


@dataclass(frozen=True)
class Claim:
    """A run this holder owns until ``lease_expires_at``; pass it back to record progress or the result."""

    id: int
    key: RunKey
    holder: str
    attempts: int
    steps_done: int
    posted_ts: str | None
    late: bool
    scheduled_at: dt.datetime
    lease_expires_at: dt.datetime


@dataclass(frozen=True)
class FailureOutcome:
    attempts: int
    will_retry: bool
    next_attempt_at: dt.datetime | None


def new_holder_id() -> str:
    """Unique per scheduler instance, readable in the table: host, process and a random suffix."""
    return f"{socket.gethostname()[:48]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class ClaimStore:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        *,
        lease: dt.timedelta = dt.timedelta(minutes=10),
        max_attempts: int = 5,
        retry_after: dt.timedelta = dt.timedelta(minutes=15),
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.holder = new_holder_id()
        self.lease = lease
        self.max_attempts = max_attempts
        self.retry_after = retry_after

    # -- claiming ---------------------------------------------------------------------------------------

    def claim(
        self, key: RunKey, scheduled_at: dt.datetime, *, late: bool = False, explicit: bool = False
    ) -> Claim | None:
        """Claim the run, or take it over if its holder died or it failed and is due for a retry (or, when a person
        asked for it — ``explicit`` — if it was recorded as missed or uncertain).

        Returns None when someone else holds it, it is already posted, or it has used up its attempts."""
        now = self.clock.now()
        created = self._insert_new(
            key,
            status=CLAIMED,
            late=late,
            scheduled_at=scheduled_at,
            holder=self.holder,
            lease_expires_at=now + self.lease,
            attempts=1,
            claimed_at=now,
        )
        if not created:
            return self._take_over(key, now, explicit=explicit)
        return self._load(key)

    def record_missed(self, key: RunKey, scheduled_at: dt.datetime, reason: str) -> bool:
        """Record a run nobody started as missed (unless a row for it exists); True when this call recorded it,
        so only one replica tells the admins."""
        now = self.clock.now()
        return self._insert_new(
            key,
            status=MISSED,
            late=True,
            scheduled_at=scheduled_at,
            attempts=0,
            last_error=reason[:2000],
            claimed_at=now,
            finished_at=now,
        )

    def _insert_new(self, key: RunKey, **values: object) -> bool:
        """INSERT the run's row unless one exists (``ON CONFLICT DO NOTHING`` on the run's unique key); True
        when this call created it, so exactly one replica wins."""
        row = {"job": key.job, "period": key.period, "scope": key.scope, "channel": key.channel, "steps_done": 0}
        with session_scope(self.sessions) as s:
            dialect = s.get_bind().dialect.name
            ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(JobRun).values(**row, **values)
            # RETURNING says whether this INSERT created the row (rowcount is not reliable for ORM-enabled
            # inserts on every driver); a conflict returns nothing.
            inserted = s.execute(
                ins.on_conflict_do_nothing(index_elements=["job", "period", "scope", "channel"]).returning(JobRun.id)
            ).first()
        return inserted is not None

    def latest_scheduled(self) -> dict[str, dt.datetime]:
        """Per job, the scheduled time of its latest recorded run (any state)."""
        with self.sessions() as s:
            rows = s.execute(select(JobRun.job, func.max(JobRun.scheduled_at)).group_by(JobRun.job)).all()
        return {job: at for job, at in rows if at is not None}

    def _take_over(self, key: RunKey, now: dt.datetime, *, explicit: bool = False) -> Claim | None:
        takeable = [
            and_(
                JobRun.attempts < self.max_attempts,
                or_(
                    and_(JobRun.status == CLAIMED, JobRun.lease_expires_at < now),
                    and_(JobRun.status == FAILED, JobRun.next_attempt_at <= now),
                ),
            )
        ]
        if explicit:
            # A person looked and asked for it: not bounded by the scheduler's attempts.
            takeable.append(JobRun.status.in_(EXPLICIT_ONLY))
        with session_scope(self.sessions) as s:
            taken = rowcount(
                s.execute(
                    update(JobRun)
                    .where(
                        JobRun.job == key.job,
                        JobRun.period == key.period,
                        JobRun.scope == key.scope,
                        JobRun.channel == key.channel,
                        or_(*takeable),
                    )
                    .values(
                        status=CLAIMED,
                        holder=self.holder,
                        lease_expires_at=now + self.lease,
                        attempts=JobRun.attempts + 1,
                        next_attempt_at=None,
                    )
                    .execution_options(synchronize_session=False)
                )
            )
        return self._load(key) if taken == 1 else None

    def _load(self, key: RunKey) -> Claim | None:
        with self.sessions() as s:
            row = s.scalars(
                select(JobRun).where(
                    JobRun.job == key.job,
                    JobRun.period == key.period,
                    JobRun.scope == key.scope,
                    JobRun.channel == key.channel,
                )
            ).one()
            if row.holder != self.holder or row.status != CLAIMED:
                return None
            assert row.lease_expires_at is not None
            return Claim(
                id=row.id,
                key=key,
                holder=self.holder,
                attempts=row.attempts,
                steps_done=row.steps_done,
                posted_ts=row.posted_ts,
                late=row.late,
                scheduled_at=row.scheduled_at,
                lease_expires_at=row.lease_expires_at,
            )

    # -- while holding ----------------------------------------------------------------------------------

    def _mine(self, claim: Claim) -> ColumnElement[bool]:
        # Only the current holder of a live claim may write; a holder whose lease lapsed and was taken over
        # must not overwrite the new holder's progress.
        return and_(JobRun.id == claim.id, JobRun.holder == self.holder, JobRun.status == CLAIMED)

    def record_step(self, claim: Claim, steps_done: int, posted_ts: str | None = None) -> bool:
        """Record progress (and renew the lease). False means the claim was lost: stop without posting more."""
        now = self.clock.now()
        values: dict[str, object] = {"steps_done": steps_done, "lease_expires_at": now + self.lease}
        if posted_ts is not None:
            values["posted_ts"] = posted_ts
        with session_scope(self.sessions) as s:
            return rowcount(s.execute(update(JobRun).where(self._mine(claim)).values(**values))) == 1

    def finish(self, claim: Claim, detail: str) -> bool:
        """Record the run as done (its posted message's ts, if any, was recorded by :meth:`record_step`)."""
        with session_scope(self.sessions) as s:
            done = s.execute(
                update(JobRun)
                .where(self._mine(claim))
                .values(
                    status=POSTED,
                    finished_at=self.clock.now(),
                    lease_expires_at=None,
                    detail=detail[:2000],
                    last_error=None,
                )
            )
            return rowcount(done) == 1

    def fail(self, claim: Claim, error: str) -> FailureOutcome:
        """Record a failed attempt; it is retried after a growing wait until ``max_attempts`` is used up."""
        now = self.clock.now()
        will_retry = claim.attempts < self.max_attempts
        next_at = now + self.retry_after * (2 ** (claim.attempts - 1)) if will_retry else None
        with session_scope(self.sessions) as s:
            s.execute(
                update(JobRun)
                .where(self._mine(claim))
                .values(
                    status=FAILED if will_retry else ABANDONED,
                    last_error=error[:2000],
                    next_attempt_at=next_at,
                    lease_expires_at=None,
                    finished_at=None if will_retry else now,
                )
            )
        return FailureOutcome(attempts=claim.attempts, will_retry=will_retry, next_attempt_at=next_at)

    def uncertain(self, claim: Claim, error: str) -> bool:
        """Record that the run's next visible step may or may not have happened (``steps_done`` says what surely
        did). The scheduler never takes it up again; False if the claim was already lost."""
        with session_scope(self.sessions) as s:
            done = s.execute(
                update(JobRun)
                .where(self._mine(claim))
                .values(status=UNCERTAIN, last_error=error[:2000], next_attempt_at=None, lease_expires_at=None)
            )
            return rowcount(done) == 1

    # -- queries ----------------------------------------------------------------------------------------

    def existing(self, job: str, periods: list[str]) -> set[tuple[str, str, str]]:
        """(period, scope, channel) of the runs of ``job`` already recorded for these periods, in any state."""
        if not periods:
            return set()
        with self.sessions() as s:
            rows = s.execute(
                select(JobRun.period, JobRun.scope, JobRun.channel).where(JobRun.job == job, JobRun.period.in_(periods))
            ).all()
        return {(r[0], r[1], r[2]) for r in rows}

    def due_for_retry(self) -> list[JobRun]:
        """Failed runs whose wait is over, and claims whose holder's lease has lapsed (holder died)."""
        now = self.clock.now()
        with self.sessions() as s:
            return list(
                s.scalars(
                    select(JobRun)
                    .where(
                        JobRun.attempts < self.max_attempts,
                        or_(
                            and_(JobRun.status == FAILED, JobRun.next_attempt_at <= now),
                            and_(JobRun.status == CLAIMED, JobRun.lease_expires_at < now),
                        ),
                    )
                    .order_by(JobRun.scheduled_at, JobRun.id)
                )
            )

    def stuck(self) -> list[JobRun]:
        """Claims whose holder died on its last allowed attempt: nobody may take them over any more."""
        now = self.clock.now()
        with self.sessions() as s:
            return list(
                s.scalars(
                    select(JobRun).where(
                        JobRun.attempts >= self.max_attempts,
                        JobRun.status == CLAIMED,
                        JobRun.lease_expires_at < now,
                    )
                )
            )

    def abandon(self, run_id: int, error: str) -> bool:
        """Give up on a stuck claim (conditional, so only one replica reports it)."""
        now = self.clock.now()
        with session_scope(self.sessions) as s:
            return (
                rowcount(
                    s.execute(
                        update(JobRun)
                        .where(JobRun.id == run_id, JobRun.status == CLAIMED, JobRun.lease_expires_at < now)
                        .values(status=ABANDONED, last_error=error[:2000], finished_at=now, lease_expires_at=None)
                    )
                )
                == 1
            )

    def get(self, key: RunKey) -> JobRun | None:
        with self.sessions() as s:
            return s.scalars(
                select(JobRun).where(
                    JobRun.job == key.job,
                    JobRun.period == key.period,
                    JobRun.scope == key.scope,
                    JobRun.channel == key.channel,
                )
            ).first()

    def last_finished(self, job: str, before_period: str) -> JobRun | None:
        """The latest run of ``job`` recorded as done for a period before ``before_period``."""
        with self.sessions() as s:
            return s.scalars(
                select(JobRun)
                .where(JobRun.job == job, JobRun.status == POSTED, JobRun.period < before_period)
                .order_by(JobRun.period.desc(), JobRun.id.desc())
                .limit(1)
            ).first()

    def runs(self) -> list[JobRun]:
        with self.sessions() as s:
            return list(s.scalars(select(JobRun).order_by(JobRun.scheduled_at, JobRun.id)))
