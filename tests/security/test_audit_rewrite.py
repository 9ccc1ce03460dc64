"""The audit log cannot be rewritten, on either database.

The attacks, replayed as SQL on the test database:

- SQLite: ``INSERT OR REPLACE INTO audit_log (id, …)``, ``REPLACE INTO`` and an UPSERT naming an existing id. A
  REPLACE deletes the row it replaces without firing the delete trigger unless the connection set
  ``recursive_triggers`` — so it is replayed on the bot's own connection and on a bare one that sets no pragma.
- PostgreSQL: ``TRUNCATE audit_log`` (a statement, not a row change: no row trigger fires) and an UPSERT.
- The chain table (``audit_seal``) under the same rewrites, and on SQLite a link written ahead for a row not yet
  written (which would make that row impossible to write).
- PostgreSQL, the two roles (docs/database-roles.md): as a role given exactly the documented grants, TRUNCATE,
  UPDATE, DELETE, ALTER TABLE (to disable the triggers), DROP, writing a link, and replica mode are all refused —
  while the bot works as that role (a `/mo` answer's audit row, sealed by the owner's trigger, and an import).

The promise: every rewrite is refused by the database, the row stays as it was, and the chain still verifies."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, make_url, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from bot.audit import AuditEntry, group_commit, record_separately
from bot.audit_chain import SQLITE_FUNCTION, sqlite_link_hash, verify_chain
from bot.config import Config
from bot.db import make_engine
from bot.importing.service import import_file
from bot.importing.types import ImportRequest
from bot.models import AuditEvent, WantedCirculation
from tests.support.database import IS_PG
from tests.support.paths import REPO_ROOT

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
AS_OF = NOW.date()
COLUMNS = "(id, at, actor, action, detail, outcome, records_disclosed)"
FORGED = "(1, '2026-01-01 00:00:00', 'U0FORGER1', 'command', 'forged', 'ok', 0)"

SQLITE_REWRITES = [
    f"INSERT OR REPLACE INTO audit_log {COLUMNS} VALUES {FORGED}",
    f"REPLACE INTO audit_log {COLUMNS} VALUES {FORGED}",
    f"INSERT INTO audit_log {COLUMNS} VALUES {FORGED} ON CONFLICT(id) DO UPDATE SET detail = excluded.detail",
    "UPDATE audit_log SET detail = 'forged'",
    "DELETE FROM audit_log",
    "INSERT OR REPLACE INTO audit_seal (seq, audit_id, hash) VALUES (1, 1, 'forged')",
    "INSERT OR REPLACE INTO audit_seal (seq, audit_id, hash) VALUES (2, 1, 'forged')",
    "INSERT INTO audit_seal (seq, audit_id, hash) VALUES (2, 2, 'ahead')",
    "UPDATE audit_seal SET hash = 'forged'",
    "DELETE FROM audit_seal",
]
PG_REWRITES = [
    "TRUNCATE audit_log",
    "TRUNCATE audit_seal",
    "TRUNCATE audit_log, audit_seal RESTART IDENTITY CASCADE",
    f"INSERT INTO audit_log {COLUMNS} VALUES {FORGED} ON CONFLICT (id) DO UPDATE SET detail = excluded.detail",
    "UPDATE audit_log SET detail = 'forged'",
    "DELETE FROM audit_log",
    "UPDATE audit_seal SET hash = 'forged'",
    "DELETE FROM audit_seal",
]


def _one_row(sessions) -> None:
    record_separately(sessions, AuditEntry(actor="U0HONEST1", action="command", outcome="ok", detail="wanted"))


def _unchanged(sessions) -> None:
    with sessions() as s:
        assert s.execute(select(AuditEvent.id, AuditEvent.actor, AuditEvent.detail)).all() == [
            (1, "U0HONEST1", "wanted")
        ]
        report = verify_chain(s)
    assert report.ok and report.links == 1, report.summary()


@pytest.mark.parametrize("statement", PG_REWRITES if IS_PG else SQLITE_REWRITES)
def test_a_rewrite_on_the_bots_own_connection_is_refused(engine: Engine, sessions, statement: str) -> None:
    _one_row(sessions)
    with engine.connect() as c, pytest.raises(DBAPIError, match="is append-only"):
        c.exec_driver_sql(statement)
    _unchanged(sessions)


@pytest.mark.skipif(IS_PG, reason="SQLite: a connection of its own, without the bot's pragmas")
@pytest.mark.parametrize("statement", SQLITE_REWRITES)
def test_a_rewrite_on_a_bare_sqlite_connection_is_refused(db_url: str, sessions, statement: str) -> None:
    _one_row(sessions)
    conn = sqlite3.connect(make_url(db_url).database or "", isolation_level=None)
    # As someone who knows the scheme: the link function is there, recursive_triggers is not.
    conn.create_function(SQLITE_FUNCTION, 13, sqlite_link_hash)
    assert conn.execute("PRAGMA recursive_triggers").fetchone() == (0,)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="is append-only"):
            conn.execute(statement)
    finally:
        conn.close()
    _unchanged(sessions)


# ------------------------------------------------------------------------------------ PostgreSQL: the two roles


def _documented_grants(app_role: str) -> list[str]:
    """The grants block of docs/database-roles.md (the one run after every `mo-bot db upgrade`), for ``app_role``."""
    doc = (REPO_ROOT / "docs" / "database-roles.md").read_text(encoding="utf-8")
    block = re.search(r"```sql\n-- grants\n(.*?)```", doc, re.S)
    assert block, "docs/database-roles.md has no ```sql block starting with '-- grants'"
    sql = "\n".join(ln for ln in block.group(1).splitlines() if not ln.startswith("--"))
    return [s.strip() for s in sql.replace("mobot_app", f'"{app_role}"').split(";") if s.strip()]


@pytest.fixture
def app_role(engine: Engine, db_url: str) -> Iterator[str]:
    """A throwaway login role given exactly the documented grants; the URL to connect as it."""
    role = f"mobot_app_{uuid.uuid4().hex[:8]}"
    with engine.begin() as c:
        c.execute(text(f'CREATE ROLE "{role}" LOGIN'))
        c.execute(text(f'GRANT CONNECT ON DATABASE "{make_url(db_url).database}" TO "{role}"'))
        for stmt in _documented_grants(role):
            c.execute(text(stmt))
    url = make_url(db_url).set(username=role).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with engine.begin() as c:
            c.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'"))
            c.execute(text(f'DROP OWNED BY "{role}"'))
            c.execute(text(f'DROP ROLE "{role}"'))


@pytest.mark.skipif(not IS_PG, reason="PostgreSQL: roles and privileges")
@pytest.mark.parametrize(
    ("statement", "refusal"),
    [
        ("TRUNCATE audit_log", "permission denied"),
        ("TRUNCATE audit_seal", "permission denied"),
        ("UPDATE audit_log SET detail = 'forged'", "permission denied"),
        ("DELETE FROM audit_log", "permission denied"),
        ("UPDATE audit_seal SET hash = 'forged'", "permission denied"),
        ("DELETE FROM audit_seal", "permission denied"),
        ("INSERT INTO audit_seal (seq, audit_id, hash) VALUES (2, 2, 'forged')", "permission denied"),
        ("ALTER TABLE audit_log DISABLE TRIGGER USER", "must be owner"),
        ("ALTER TABLE audit_seal DISABLE TRIGGER ALL", "must be owner"),
        ("DROP TRIGGER audit_log_no_truncate ON audit_log", "must be owner"),
        ("DROP TABLE audit_log", "must be owner"),
        ("SET session_replication_role = replica", "permission denied"),
        # Replacing the guard's function: not its owner, and no right to create anything in the schema.
        ("CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$ SELECT NULL $$", "permission denied"),
    ],
)
def test_the_bots_role_cannot_rewrite_or_unguard_the_audit_tables(
    sessions, app_role: str, statement: str, refusal: str
) -> None:
    _one_row(sessions)
    app = make_engine(app_role)
    try:
        with app.connect() as c, pytest.raises(DBAPIError, match=refusal):
            c.exec_driver_sql(statement)
    finally:
        app.dispose()
    _unchanged(sessions)


@pytest.mark.skipif(not IS_PG, reason="PostgreSQL: roles and privileges")
def test_the_bot_works_as_its_role_and_its_rows_are_sealed(config: Config, app_role: str, tmp_path: Path) -> None:
    app = make_engine(app_role)
    try:
        group_commit(app).append(AuditEntry(actor="U0ASKER01", action="command", outcome="ok", detail="wanted"))
        export = tmp_path / "wanted.csv"
        export.write_text(
            "reference,offence,district,reason,circulated_on,status\n"
            "W-1,burglary,ipswich,never_arrested,2026-10-01,open\n",
            encoding="utf-8",
        )
        with Session(app) as s:
            assert s.execute(text("SELECT current_user")).scalar() == make_url(app_role).username
            report = import_file(s, config, ImportRequest("wanted", export, as_of=AS_OF, actor="test"), NOW)
            assert report.ok, report
            s.commit()
        with Session(app) as s:
            assert s.scalars(select(WantedCirculation.reference)).all() == ["W-1"]
            chain = verify_chain(s)  # the bot's role may read the chain
    finally:
        app.dispose()
    assert chain.ok and chain.links == chain.rows == 2, chain.summary()
