"""An injectable clock, so time-dependent logic is tested without sleeping or patching."""

from __future__ import annotations

import datetime as dt
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """The current time, timezone-aware (UTC)."""
        ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class FixedClock:
    """A clock that stands still until moved; for tests."""

    def __init__(self, at: dt.datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at.astimezone(dt.UTC)

    def now(self) -> dt.datetime:
        return self._at

    def set(self, at: dt.datetime) -> None:
        self._at = at.astimezone(dt.UTC)

    def advance(self, delta: dt.timedelta) -> None:
        self._at += delta


def today_in(clock: Clock, tz: ZoneInfo) -> dt.date:
    """Today's date where the force is (a figure 'as of today' in London is not UTC's today after 23:00 BST)."""
    return clock.now().astimezone(tz).date()
