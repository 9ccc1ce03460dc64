"""Deferred `/mo` requests, kept from their acknowledgement until they are answered (the ``accepted_request`` table).

A request answered later ("working on it", then the answer through its ``response_url``) used to live only in the
memory of the process answering it: when that process stopped — a deploy, a crash, a kill — the user had been told
an answer was coming and none came, and nothing recorded that the request had been made. Now:

1. **Accepted, durably, before the acknowledgement.** :meth:`AcceptedWork.accept` writes the request's row and its
   ``accept`` audit row in one transaction; only then does the listener acknowledge. If that write cannot be made
   the request is not acknowledged as accepted (the listener says so instead).
2. **Held with a lease while answered.** The accepting process holds the row (``holder``, ``lease_expires_at``) and
   renews the lease of everything it is still answering (:meth:`renew`, every few seconds); the answer marks the
   row done (:meth:`finish`) and clears its ``response_url``.
3. **Taken up by another process when the holder stops.** A row whose lease lapsed belongs to a process that no
   longer renews it. :meth:`take_unfinished` claims such rows with a conditional UPDATE (the lease re-checked in
   the WHERE clause, so two processes racing for one row cannot both win: on PostgreSQL the loser's UPDATE
   re-evaluates against the winner's version and matches nothing), as long as Slack still takes an answer at the
   ``response_url`` — up to 5 posts within 30 minutes of the command. An older one is recorded as expired, with an
   audit row saying it was accepted and not answered (:meth:`expire_stale`).

Exactly once, in the sense the claims give: one process at a time answers a row. A process that stopped after
answering and before marking the row done has its request answered again by the next one (the answer is sent
twice; a change is made once — changes are idempotent per interaction); that window is the few milliseconds
between the answer and the UPDATE.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.audit import AuditEntry, record
from bot.clock import Clock
from bot.db import lock_wait_at_most, rowcount, session_scope
from bot.models import AcceptedRequest
from bot.withheld import withhold_reference

RUNNING, DONE, EXPIRED = "running", "done", "expired"
# Slack takes an answer at a slash command's response_url up to 5 times within 30 minutes of the command.
ANSWER_WINDOW = dt.timedelta(minutes=30)
# How long a holder's claim lasts without renewal; the holder renews every RENEW_EVERY. A stopped process's
# requests are taken up at most this long after it stopped.
LEASE = dt.timedelta(seconds=20)
RENEW_EVERY = dt.timedelta(seconds=5)
KEEP = dt.timedelta(days=1)  # finished rows are deleted after this
# Writing a request down waits at most this long for a lock — SQLite has one writer at a time, and an import holds
# it for seconds to tens of seconds — and the request is otherwise not accepted (the caller says so): the
# acknowledgement must reach Slack within 3 seconds.
ACCEPT_WAIT_MS = 1000
TAKE_AT_ONCE = 50


@dataclass(frozen=True)
class NewRequest:
    """What answering a deferred request needs, as Slack sent it."""

    trigger_id: str | None
    user_id: str
    team_id: str | None
    channel_id: str | None
    channel_is_dm: bool
    text: str
    response_url: str
    force: str | None = None


@dataclass(frozen=True)
class Accepted:
    id: int
    request: NewRequest
    accepted_at: dt.datetime
    attempts: int


def new_holder_id() -> str:
    """Unique per process, readable in the table: host, process and a random suffix."""
    return f"{socket.gethostname()[:48]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class AcceptedWork:
    """The ``accepted_request`` rows of one process (see the module docstring)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        *,
        lease: dt.timedelta = LEASE,
        window: dt.timedelta = ANSWER_WINDOW,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.holder = new_holder_id()
        self.lease = lease
        self.window = window
        self._lock = threading.Lock()
        self._answering: set[int] = set()  # rows this process holds and is still answering

    # -- the accepting process ---------------------------------------------------------------------------------

    def accept(self, req: NewRequest, audit: AuditEntry) -> Accepted:
        """Write the request and its audit row (one transaction) before it is acknowledged. Raises what the database
        raised — waiting for a lock is bounded (:data:`ACCEPT_WAIT_MS`) — and then nothing was written."""
        now = self.clock.now()
        row = AcceptedRequest(
            trigger_id=req.trigger_id[:160] if req.trigger_id else None,
            user_id=req.user_id,
            team_id=req.team_id,
            channel_id=req.channel_id,
            channel_is_dm=req.channel_is_dm,
            force=req.force,
            text=req.text,
            response_url=req.response_url,
            accepted_at=now,
            status=RUNNING,
            holder=self.holder,
            lease_expires_at=now + self.lease,
            attempts=1,
        )
        with self.sessions() as s:
            with lock_wait_at_most(s, ACCEPT_WAIT_MS):
                s.add(row)
                s.flush()
                record(s, audit, at=now)
            s.commit()
        with self._lock:
            self._answering.add(row.id)
        return Accepted(row.id, req, now, 1)

    def finish(self, accepted: Accepted, outcome: str) -> bool:
        """Mark the request answered (``outcome``: the answer's, or ``undelivered``); False if this process no longer
        held it (its lease lapsed and another took it up)."""
        with self._lock:
            self._answering.discard(accepted.id)
        with session_scope(self.sessions) as s:
            done = s.execute(
                update(AcceptedRequest)
                .where(
                    AcceptedRequest.id == accepted.id,
                    AcceptedRequest.holder == self.holder,
                    AcceptedRequest.status == RUNNING,
                )
                .values(
                    status=DONE,
                    outcome=outcome[:16],
                    finished_at=self.clock.now(),
                    response_url=None,
                    lease_expires_at=None,
                )
            )
            return rowcount(done) == 1

    def answering(self) -> list[int]:
        with self._lock:
            return sorted(self._answering)

    def renew(self) -> int:
        """Extend the lease of every request this process is still answering; how many rows it renewed."""
        ids = self.answering()
        if not ids:
            return 0
        with session_scope(self.sessions) as s:
            return rowcount(
                s.execute(
                    update(AcceptedRequest)
                    .where(
                        AcceptedRequest.id.in_(ids),
                        AcceptedRequest.holder == self.holder,
                        AcceptedRequest.status == RUNNING,
                    )
                    .values(lease_expires_at=self.clock.now() + self.lease)
                )
            )

    # -- any process: requests a stopped one left ----------------------------------------------------------------

    def take_unfinished(self, limit: int = TAKE_AT_ONCE) -> list[Accepted]:
        """Claim (up to ``limit``, oldest first) the requests whose holder stopped (lease lapsed) that Slack still
        takes an answer for."""
        now = self.clock.now()
        mine = set(self.answering())
        with self.sessions() as s:
            ids = s.scalars(
                select(AcceptedRequest.id)
                .where(
                    AcceptedRequest.status == RUNNING,
                    AcceptedRequest.lease_expires_at < now,
                    AcceptedRequest.accepted_at > now - self.window,
                )
                .order_by(AcceptedRequest.accepted_at)
                .limit(limit + len(mine))
            ).all()
        taken: list[Accepted] = []
        for rid in ids:
            if len(taken) >= limit:
                break
            if rid in mine:
                continue  # ours, still being answered (its renewal is late, not lost)
            with session_scope(self.sessions) as s:
                won = rowcount(
                    s.execute(
                        update(AcceptedRequest)
                        .where(
                            AcceptedRequest.id == rid,
                            AcceptedRequest.status == RUNNING,
                            AcceptedRequest.lease_expires_at < now,
                        )
                        .values(
                            holder=self.holder,
                            lease_expires_at=now + self.lease,
                            attempts=AcceptedRequest.attempts + 1,
                        )
                        .execution_options(synchronize_session=False)
                    )
                )
                if won != 1:
                    continue
                row = s.get(AcceptedRequest, rid)
                assert row is not None
                taken.append(_accepted(row))
            with self._lock:
                self._answering.add(rid)
        return taken

    def expire_stale(self) -> list[Accepted]:
        """Record as expired (with an audit row each) the requests whose holder stopped and that Slack no longer
        takes an answer for; returns them."""
        now = self.clock.now()
        with self.sessions() as s:
            ids = s.scalars(
                select(AcceptedRequest.id).where(
                    AcceptedRequest.status == RUNNING,
                    AcceptedRequest.lease_expires_at < now,
                    AcceptedRequest.accepted_at <= now - self.window,
                )
            ).all()
        expired: list[Accepted] = []
        for rid in ids:
            with session_scope(self.sessions) as s:
                row = s.get(AcceptedRequest, rid)
                if row is None:
                    continue
                gone = _accepted(row)
                won = rowcount(
                    s.execute(
                        update(AcceptedRequest)
                        .where(
                            AcceptedRequest.id == rid,
                            AcceptedRequest.status == RUNNING,
                            AcceptedRequest.lease_expires_at < now,
                        )
                        .values(
                            status=EXPIRED,
                            outcome=EXPIRED,
                            finished_at=now,
                            response_url=None,
                            lease_expires_at=None,
                        )
                        .execution_options(synchronize_session=False)
                    )
                )
                if won != 1:
                    continue
                req = gone.request
                record(
                    s,
                    AuditEntry(
                        actor=req.user_id,
                        action="command",
                        outcome="error",
                        detail=f"{withhold_reference(req.text)} — accepted at "
                        f"{gone.accepted_at:%Y-%m-%d %H:%M:%S} UTC and not answered: "
                        f"the process answering it stopped, and Slack takes no answer after "
                        f"{int(self.window.total_seconds() // 60)} minutes",
                        force=req.force,
                        team_id=req.team_id,
                        channel_id=req.channel_id,
                    ),
                    at=now,
                )
                expired.append(gone)
        return expired

    def purge(self) -> int:
        """Delete rows finished more than a day ago (what was asked stays in the audit log)."""
        with session_scope(self.sessions) as s:
            return rowcount(
                s.execute(
                    delete(AcceptedRequest).where(
                        AcceptedRequest.status != RUNNING, AcceptedRequest.finished_at < self.clock.now() - KEEP
                    )
                )
            )

    def get(self, ids: Iterable[int]) -> list[AcceptedRequest]:
        with self.sessions() as s:
            return list(s.scalars(select(AcceptedRequest).where(AcceptedRequest.id.in_(list(ids)))))


def _accepted(row: AcceptedRequest) -> Accepted:
    return Accepted(
        id=row.id,
        request=NewRequest(
            trigger_id=row.trigger_id,
            user_id=row.user_id,
            team_id=row.team_id,
            channel_id=row.channel_id,
            channel_is_dm=row.channel_is_dm,
            text=row.text,
            response_url=row.response_url or "",
            force=row.force,
        ),
        accepted_at=row.accepted_at,
        attempts=row.attempts,
    )
