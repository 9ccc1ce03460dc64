"""Shared helpers for CLI sub-commands."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import sys

from bot.audit import AuditEntry, record_separately
from bot.db import alembic_config, current_revision, upgrade
from bot.runtime import Runtime
from bot.settings import read_environment
from commands.mo.values import BadValue, parse_date


def open_runtime(args: argparse.Namespace) -> Runtime:
    """Load config and connect. On the default SQLite file the schema is brought up to date automatically,
    so a newcomer needs no setup; on PostgreSQL a schema behind the code is an error naming the fix."""
    rt = Runtime.from_settings(read_environment(), getattr(args, "config", None))
    if rt.engine.dialect.name == "sqlite":
        upgrade(rt.config.database_url)
    else:
        from alembic.script import ScriptDirectory

        head = ScriptDirectory.from_config(alembic_config(rt.config.database_url)).get_current_head()
        have = current_revision(rt.engine)
        if have != head:
            print(
                f"mo-bot: database schema is at {have or 'nothing'}, code needs {head}: run `mo-bot db upgrade`",
                file=sys.stderr,
            )
            raise SystemExit(2)
    return rt


def audit_cli(
    rt: Runtime,
    force: str | None,
    detail: str,
    *,
    action: str = "command",
    disclosed: int = 0,
    at: dt.datetime | None = None,
) -> None:
    """Append one audit row for a CLI run that consulted or exported data, as the person at the terminal, in its own
    transaction."""
    entry = AuditEntry(
        actor=cli_actor(), action=action, outcome="ok", force=force, detail=detail[:2000], records_disclosed=disclosed
    )
    record_separately(rt.sessions, entry, at=at or rt.clock.now())


def cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli:unknown"


def cli_date(value: str) -> dt.date:
    """argparse type for a date, read as `/mo` reads one: 2026-11-30, 30/11/2026 (or 30.11.2026), "30 Nov 2026"."""
    try:
        return parse_date(value)
    except BadValue as e:
        raise argparse.ArgumentTypeError(f"{e.message}; {e.hint}") from None
