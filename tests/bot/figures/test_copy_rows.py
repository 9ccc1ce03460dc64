"""Adding rows to counts already kept (bot/figures/copy_rows.py ``add_rows``): a key not there yet is inserted, a key
already there has each count increased, other rows are left alone, and nothing is left behind — on both databases,
as the day counts and their checkpoints use it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.figures.copy_rows import add_rows
from bot.figures.day_counts import COLUMNS
from bot.models import CountDay

KEYS = ("force", "dataset", "day", "kind", "district", "reason", "offence")
REST = tuple(c for c in COLUMNS if c not in ("open", "opened", "closed"))
COUNTS = ("open", "opened", "closed", *REST)
ZEROS = (0,) * len(REST)
D1, D2 = dt.date(2026, 3, 1), dt.date(2026, 3, 2)


def _day(session: Session, day: dt.date, district: str, open_: int, opened: int, closed: int) -> None:
    session.add(CountDay(force="suffolk", dataset="wanted", day=day, kind="", district=district, reason="r",
                         offence="theft", open=open_, opened=opened, closed=closed))  # fmt: skip


def _counts(session: Session) -> dict[tuple[dt.date, str], tuple[int, int, int]]:
    rows = session.execute(select(CountDay.day, CountDay.district, CountDay.open, CountDay.opened, CountDay.closed))
    return {(d, k): (o, n, c) for d, k, o, n, c in rows}


def test_add_rows_inserts_new_keys_and_adds_to_existing_ones(session: Session) -> None:
    _day(session, D1, "ipswich", 5, 2, 0)
    _day(session, D2, "ipswich", 7, 3, 1)
    session.flush()
    add_rows(
        session,
        "count_day",
        KEYS,
        COUNTS,
        [
            ("suffolk", "wanted", D1, "", "ipswich", "r", "theft", -2, 1, 4, *ZEROS),
            ("suffolk", "wanted", D1, "", "lowestoft", "r", "theft", 3, 3, 0, *ZEROS),
        ],
    )
    assert _counts(session) == {
        (D1, "ipswich"): (3, 3, 4),
        (D2, "ipswich"): (7, 3, 1),
        (D1, "lowestoft"): (3, 3, 0),
    }
    # Nothing left behind: a second call in the same transaction starts from an empty table of its own.
    add_rows(
        session, "count_day", KEYS, COUNTS, [("suffolk", "wanted", D2, "", "ipswich", "r", "theft", 1, 0, 0, *ZEROS)]
    )
    assert _counts(session)[(D2, "ipswich")] == (8, 3, 1)
    assert _counts(session)[(D1, "ipswich")] == (3, 3, 4)


def test_add_rows_of_nothing_changes_nothing(session: Session) -> None:
    _day(session, D1, "ipswich", 5, 2, 0)
    session.flush()
    add_rows(session, "count_day", KEYS, COUNTS, iter(()))
    assert _counts(session) == {(D1, "ipswich"): (5, 2, 0)}
