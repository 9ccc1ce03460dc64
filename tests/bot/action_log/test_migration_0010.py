"""An existing database holding the July 2022 log as it was first shipped migrates to 0010 (owners, kinds, dates)
and re-imports the corrected log with its history kept, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import subprocess
from pathlib import Path

from alembic import command
from sqlalchemy import select, text

from bot.config import load_config
from bot.db import alembic_config, make_engine, make_session_factory
from bot.importing.service import import_file
from bot.importing.types import ImportRequest
from bot.models import Action, ActionHistory, ActionOwner
from tests.support.database import IS_PG
from tests.support.paths import REPO_ROOT

SEED = "bot/data/actions-2022-07.csv"
FIRST_SHIPPED = "b7a8c8e"  # the log as shipped before this migration


def test_old_log_migrates_and_reimports_to_the_corrected_state(fresh_url: str, tmp_path: Path) -> None:
    old_csv = tmp_path / "actions-2022-07.csv"
    old_csv.write_bytes(subprocess.run(["git", "show", f"{FIRST_SHIPPED}:{SEED}"], cwd=REPO_ROOT, check=True,
                                       capture_output=True).stdout)  # fmt: skip
    cfg = alembic_config(fresh_url)
    command.upgrade(cfg, "0007")
    engine = make_engine(fresh_url)
    now = dt.datetime(2026, 12, 1, 10, tzinfo=dt.UTC)
    stored_at = now if IS_PG else now.replace(tzinfo=None)  # how each database keeps an instant
    try:
        with engine.begin() as c:  # the old log, as the old import stored it (one owner text per action)
            for r in csv.DictReader(old_csv.open(encoding="utf-8")):
                c.execute(
                    text("INSERT INTO action (force, reference, pillar, title, owner_initials, status, source, notes, "
                         "created_by, created_at, updated_at, version) VALUES ('suffolk', :ref, :p, :t, :o, :s, :src, "
                         ":n, 'import', :at, :at, 1)"),
                    {"ref": r["reference"], "p": r["pillar"], "t": r["title"], "o": r["owner"] or None,
                     "s": r["status"], "src": r["source"], "n": r["notes"], "at": stored_at},
                )  # fmt: skip
            a1 = c.execute(text("SELECT id FROM action WHERE reference = 'A-1'")).scalar_one()
            c.execute(
                text("INSERT INTO action_history (action_id, field, old_value, new_value, changed_by, changed_at, "
                     "note, version) VALUES (:id, 'note', NULL, NULL, 'U0CHAIR03', :at, 'data at next meeting', 2)"),
                {"id": a1, "at": stored_at},
            )  # fmt: skip
        command.upgrade(cfg, "head")
        sessions = make_session_factory(engine)
        with sessions() as s:
            a6 = s.scalars(select(Action).where(Action.reference == "A-6")).one()
            assert [(o.initials, o.user_id) for o in a6.owners] == [("JM", None), ("JG", None)]
            kinds = dict(s.execute(select(Action.reference, Action.kind)).all())
            assert (kinds["A-1"], kinds["A-17"], kinds["A-44"]) == ("action", "achievement", "hmic")
            assert s.scalar(select(ActionOwner.initials).join(Action).where(Action.reference == "A-1")) == "HH"
        config = load_config(database_url=fresh_url)
        with sessions() as s:
            report = import_file(s, config, ImportRequest("actions", REPO_ROOT / SEED, force="suffolk"), now)
            s.commit()
        assert report.ok, report
        with sessions() as s:
            by_ref = {a.reference: a for a in s.scalars(select(Action))}
            assert (by_ref["A-5"].status, by_ref["A-27"].status) == ("complete", "cancelled")
            assert by_ref["A-17"].completed_on == dt.date(2021, 9, 13)
            assert (by_ref["A-33"].kind, by_ref["A-33"].recur_months) == ("action", 6)
            assert by_ref["A-49"].evidence == "Closed by HMIC 2/22"
            history = s.execute(
                select(ActionHistory.field, ActionHistory.note).where(ActionHistory.action_id == by_ref["A-1"].id)
            ).all()
            assert ("note", "data at next meeting") in history  # what was there before is kept
            a5 = s.execute(
                select(ActionHistory.old_value, ActionHistory.new_value)
                .where(ActionHistory.action_id == by_ref["A-5"].id, ActionHistory.field == "status")
            ).all()  # fmt: skip
            assert a5 == [("open", "complete")]
    finally:
        engine.dispose()
