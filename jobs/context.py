"""What a scheduled job is and what one run of it gets: the types the runner and every job share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk import WebClient

from bot.config import JobSpec, JobTarget
from bot.runtime import Runtime
from jobs.claims import Claim, ClaimStore, RunKey


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
    client: WebClient | None  # None when no Slack token is configured
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

    def slack(self) -> WebClient:
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
    outcome: str  # done | skipped | failed | abandoned | lost | missed | uncertain
    detail: str = ""
    late: bool = False


def target_keys(_rt: Runtime, spec: JobSpec) -> list[tuple[str, str]]:
    return [(t.scope, t.channel) for t in spec.targets]


def target_from_key(key: RunKey) -> JobTarget | None:
    if key.scope == "-":
        return None
    force, _, district = key.scope.partition(":")
    return JobTarget(force=force, channel=key.channel, district=district or None)
