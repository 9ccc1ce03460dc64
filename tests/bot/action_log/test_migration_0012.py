"""An existing database whose update round recorded an owner's answer twice (a second "No change" click) migrates
to 0012: the latest answer is kept, everything else is untouched, and a second answer can no longer be stored.
On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from bot.db import alembic_config, make_engine
from tests.support.database import IS_PG


def test_duplicate_round_answers_fold_into_the_latest_and_cannot_recur(fresh_url: str) -> None:
    cfg = alembic_config(fresh_url)
    command.upgrade(cfg, "0011")
    engine = make_engine(fresh_url)
    at = dt.datetime(2026, 10, 23, 9, tzinfo=dt.UTC)
    stored = at if IS_PG else at.replace(tzinfo=None)
    meeting = dt.date(2026, 10, 27)
    answer = text("INSERT INTO round_answer (force, meeting_on, action_id, user_id, answer, note, at) "
                  "VALUES ('suffolk', :m, :a, :u, :w, :n, :at)")  # fmt: skip
    try:
        with engine.begin() as c:
            for ref in ("A-6", "A-9"):
                c.execute(
                    text("INSERT INTO action (force, reference, pillar, title, status, created_by, created_at, "
                         "updated_at, version, kind) VALUES ('suffolk', :r, 'divert', 't', 'open', 'import', :at, "
                         ":at, 1, 'action')"),
                    {"r": ref, "at": stored},
                )  # fmt: skip
            ids = dict(c.execute(text("SELECT reference, id FROM action")).all())
            rows = [
                (ids["A-6"], "U0JM", "no_change", None),
                (ids["A-6"], "U0JM", "no_change", None),  # the second click
                (ids["A-6"], "U0JG", "no_change", None),  # the other owner's own answer
                (ids["A-9"], "U0JM", "no_change", None),
                (ids["A-9"], "U0JM", "update", "brief drafted"),  # the latest: kept
            ]
            for a, u, w, n in rows:
                c.execute(answer, {"m": meeting, "a": a, "u": u, "w": w, "n": n, "at": stored})
        command.upgrade(cfg, "head")
        with engine.connect() as c:
            left = sorted(c.execute(text("SELECT action_id, user_id, answer, note FROM round_answer")).all())
        assert left == sorted([
            (ids["A-6"], "U0JM", "no_change", None),
            (ids["A-6"], "U0JG", "no_change", None),
            (ids["A-9"], "U0JM", "update", "brief drafted"),
        ])  # fmt: skip
        with pytest.raises(IntegrityError), engine.begin() as c:
            c.execute(answer, {"m": meeting, "a": ids["A-6"], "u": "U0JM", "w": "done", "n": None, "at": stored})
        command.downgrade(cfg, "0011")  # and back, for a rollback of the release
        command.upgrade(cfg, "head")
    finally:
        engine.dispose()
