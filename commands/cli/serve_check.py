"""`mo-bot serve --check`: the settings, the config, the database and the scheduler, checked and reported without
changing anything — no migration, no file created, no row written — so it can be run against production.

A SQLite database is opened read-only with the sqlite3 module (the app's engine would set its pragmas, and a
missing file would be created); PostgreSQL is only read. A schema behind the code is reported: on SQLite a normal
start migrates it, on PostgreSQL it is an error naming ``mo-bot db upgrade``."""

from __future__ import annotations

import argparse
import datetime as dt
import sqlite3
from pathlib import Path

from sqlalchemy import make_url

from bot.db import alembic_config, current_revision, make_engine
from bot.runtime import config_from_settings
from bot.settings import Settings


def run_check(args: argparse.Namespace, settings: Settings) -> int:
    # Alembic and the jobs' catalog only for `serve --check`: not at every `mo-bot` start-up.
    from alembic.script import ScriptDirectory

    from jobs.catalog import JOBS
    from jobs.timetable import next_run

    config = config_from_settings(settings, getattr(args, "config", None))
    url = config.database_url
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    problem, schema = _schema(url, head)
    if problem is not None:
        print(f"mo-bot serve: {problem}")
        return 2
    mode = "Socket Mode" if settings.socket_mode else f"HTTP on port {settings.port}"
    print(f"mo-bot serve: settings, config ({config.source}) and database OK; would run {mode}")
    print(f"mo-bot serve: database schema {schema}")
    if getattr(args, "no_scheduler", False):
        print("mo-bot serve: scheduler: not run by serve (--no-scheduler); run `mo-bot jobs run-scheduler` beside it")
        return 0
    tz = config.timezone
    now = dt.datetime.now(dt.UTC)
    upcoming = []
    for name in JOBS:
        spec = config.jobs.specs[name]
        nxt = next_run(spec, tz, now)
        upcoming.append(f"{name} {nxt.astimezone(tz):%a %d %b %H:%M %Z}" if nxt else f"{name} disabled")
    print("mo-bot serve: scheduler: would run beside the app; next: " + "; ".join(upcoming))
    if not any(config.slack.summary_channels.values()):
        print("mo-bot serve: scheduler: no [slack.summary_channels]: the monthly summary has nowhere to post")
    return 0


def _schema(url: str, head: str | None) -> tuple[str | None, str]:
    """(problem or None, how the schema stands), reading only."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        path = u.database
        if not path or path == ":memory:":
            return None, "in memory (created at start)"
        if not Path(path).exists():
            return None, f"not created yet: {path} is made and migrated to {head} at start"
        have = _sqlite_revision(path)
        if have == head:
            return None, f"at {have} (current)"
        return None, f"at {have or 'nothing'}; a normal start migrates it to {head}"
    engine = make_engine(url)
    try:
        have = current_revision(engine)
    except Exception as e:  # unreachable, refused: one line, as serve says it
        return f"database unreachable ({type(e).__name__})", ""
    finally:
        engine.dispose()
    if have != head:
        return f"database schema is at {have or 'nothing'}, code needs {head}: run `mo-bot db upgrade`", ""
    return None, f"at {have} (current)"


def _sqlite_revision(path: str) -> str | None:
    # A database in WAL mode that no process has open has no -wal file: immutable=1 reads it without creating the
    # -wal and -shm files a read-only connection would. When a -wal file exists (serve is running), its last
    # commits may be only there, so it is read through them (mode=ro writes no data).
    in_use = Path(path + "-wal").exists()
    for flags in ("mode=ro",) if in_use else ("mode=ro&immutable=1",):
        try:
            con = sqlite3.connect(f"file:{Path(path).resolve()}?{flags}", uri=True)
        except sqlite3.Error:
            continue
        try:
            row = con.execute("SELECT version_num FROM alembic_version").fetchone()
            return str(row[0]) if row else None
        except sqlite3.Error:
            continue
        finally:
            con.close()
    return None
