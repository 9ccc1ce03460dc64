"""When a recurring action comes round again: the period after its completion, or — when more than one period has
passed (a log imported long after it was written, the job not run) — the latest time it came round up to today."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.action_log.recurring import due_again

D = dt.date


@pytest.mark.parametrize(
    ("completed", "months", "today", "due"),
    [
        (D(2026, 10, 15), 1, None, D(2026, 11, 15)),  # no today: the next time
        (D(2026, 10, 15), 1, D(2026, 11, 1), D(2026, 11, 15)),  # not come round yet: the next time
        (D(2026, 10, 15), 1, D(2026, 11, 15), D(2026, 11, 15)),  # comes round today
        (D(2026, 10, 15), 1, D(2026, 12, 14), D(2026, 11, 15)),  # once, not yet twice
        (D(2026, 10, 15), 1, D(2026, 12, 15), D(2026, 12, 15)),  # twice: the latest
        (D(2022, 7, 31), 1, D(2026, 11, 23), D(2026, 10, 31)),  # month ends stay month ends (30 Nov is ahead)
        (D(2022, 7, 31), 1, D(2026, 11, 30), D(2026, 11, 30)),
        (D(2022, 7, 31), 6, D(2026, 11, 23), D(2026, 7, 31)),
        (D(2024, 2, 29), 12, D(2026, 3, 1), D(2026, 2, 28)),  # no 29 Feb in 2026: its last day
    ],
)
def test_due_again(completed: D, months: int, today: D | None, due: D) -> None:
    assert due_again(completed, months, today) == due
