"""The record of which references each `--list` answer disclosed (``disclosure``) cannot be rewritten, and the key
its HMACs are made with (``deployment_secret``) cannot be changed once written — on either database, on the bot's
own connection, on a bare SQLite connection without the bot's pragmas, and (PostgreSQL) as a role given exactly
the grants of docs/database-roles.md, as which the bot still records disclosures. The rewrites are replayed as SQL,
as tests/security/test_audit_rewrite.py does for the audit log; the rows stay as they were."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from sqlalchemy import Engine, make_url, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from bot.db import make_engine
from bot.disclosures import KEY_NAME, deployment_key, record_disclosures
from bot.models import DeploymentSecret, Disclosure
from tests.security.test_audit_rewrite import app_role  # noqa: F401 - the fixture
from tests.support.database import IS_PG

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
DISCLOSED = "(1, '2026-01-01 00:00:00', 'U0FORGER1', 'suffolk', 'wanted', 'forged', 'forged')"
COLUMNS = "(id, at, actor, force, dataset, command, ref_hash)"

SQLITE_REWRITES = [
    ("UPDATE disclosure SET actor = 'U0FORGER1'", "disclosure is append-only"),
    ("DELETE FROM disclosure", "disclosure is append-only"),
    (f"INSERT OR REPLACE INTO disclosure {COLUMNS} VALUES {DISCLOSED}", "disclosure is append-only"),
    (f"REPLACE INTO disclosure {COLUMNS} VALUES {DISCLOSED}", "disclosure is append-only"),
    (
        f"INSERT INTO disclosure {COLUMNS} VALUES {DISCLOSED} ON CONFLICT(id) DO UPDATE SET actor = excluded.actor",
        "disclosure is append-only",
    ),
    ("UPDATE deployment_secret SET value = 'ab'", "deployment_secret is written once"),
    ("DELETE FROM deployment_secret", "deployment_secret is written once"),
    ("INSERT OR REPLACE INTO deployment_secret (name, value) VALUES ('disclosure', 'ab')", "written once"),
    ("REPLACE INTO deployment_secret (name, value) VALUES ('disclosure', 'ab')", "written once"),
    (
        "INSERT INTO deployment_secret (name, value) VALUES ('disclosure', 'ab') "
        "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
        "written once",
    ),
]
PG_REWRITES = [
    ("UPDATE disclosure SET actor = 'U0FORGER1'", "disclosure is append-only"),
    ("DELETE FROM disclosure", "disclosure is append-only"),
    ("TRUNCATE disclosure", "disclosure is append-only"),
    (
        f"INSERT INTO disclosure {COLUMNS} VALUES {DISCLOSED} ON CONFLICT (id) DO UPDATE SET actor = excluded.actor",
        "disclosure is append-only",
    ),
    ("UPDATE deployment_secret SET value = 'ab'", "deployment_secret is written once"),
    ("DELETE FROM deployment_secret", "deployment_secret is written once"),
    ("TRUNCATE deployment_secret", "deployment_secret is written once"),
    (
        "INSERT INTO deployment_secret (name, value) VALUES ('disclosure', 'ab') "
        "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        "deployment_secret is written once",
    ),
]


def _one_disclosure(sessions) -> str:
    """A `--list` answer's disclosure of one reference; the key it was made with."""
    with sessions() as s:
        record_disclosures(
            s, force="suffolk", dataset="wanted", actor="U0ANALYST", team_id="T1", channel_id="C1",
            command="wanted --list", references=["SUW-1"], at=NOW,
        )  # fmt: skip
        key = deployment_key(s).hex()
        s.commit()
    return key


def _unchanged(sessions, key: str) -> None:
    with sessions() as s:
        rows = s.execute(select(Disclosure.id, Disclosure.actor, Disclosure.command)).all()
        secret = s.scalars(select(DeploymentSecret.value).where(DeploymentSecret.name == KEY_NAME)).all()
    assert rows == [(1, "U0ANALYST", "wanted --list")]
    assert secret == [key]


@pytest.mark.parametrize(("statement", "refusal"), PG_REWRITES if IS_PG else SQLITE_REWRITES)
def test_a_rewrite_on_the_bots_own_connection_is_refused(
    engine: Engine, sessions, statement: str, refusal: str
) -> None:
    key = _one_disclosure(sessions)
    with engine.connect() as c, pytest.raises(DBAPIError, match=refusal):
        c.exec_driver_sql(statement)
    _unchanged(sessions, key)


@pytest.mark.skipif(IS_PG, reason="SQLite: a connection of its own, without the bot's pragmas")
@pytest.mark.parametrize(("statement", "refusal"), SQLITE_REWRITES)
def test_a_rewrite_on_a_bare_sqlite_connection_is_refused(db_url: str, sessions, statement: str, refusal: str) -> None:
    key = _one_disclosure(sessions)
    conn = sqlite3.connect(make_url(db_url).database or "", isolation_level=None)
    assert conn.execute("PRAGMA recursive_triggers").fetchone() == (0,)
    try:
        with pytest.raises(sqlite3.DatabaseError, match=refusal):
            conn.execute(statement)
    finally:
        conn.close()
    _unchanged(sessions, key)


def test_the_key_is_read_not_remade_and_disclosures_still_append(sessions) -> None:
    key = _one_disclosure(sessions)
    with sessions() as s:
        assert deployment_key(s).hex() == key
        record_disclosures(
            s, force="suffolk", dataset="bail", actor="U0ANALYST", team_id="T1", channel_id="C1",
            command="bail --list", references=["SUB-1", "SUB-2"], at=NOW,
        )  # fmt: skip
        s.commit()
    with sessions() as s:
        assert s.scalars(select(Disclosure.dataset).order_by(Disclosure.id)).all() == ["wanted", "bail", "bail"]
        assert s.scalars(select(DeploymentSecret.value)).all() == [key]


@pytest.mark.skipif(not IS_PG, reason="PostgreSQL: roles and privileges")
@pytest.mark.parametrize(
    ("statement", "refusal"),
    [
        ("UPDATE disclosure SET actor = 'U0FORGER1'", "permission denied"),
        ("DELETE FROM disclosure", "permission denied"),
        ("TRUNCATE disclosure", "permission denied"),
        ("UPDATE deployment_secret SET value = 'ab'", "permission denied"),
        ("DELETE FROM deployment_secret", "permission denied"),
        ("TRUNCATE deployment_secret", "permission denied"),
        ("ALTER TABLE disclosure DISABLE TRIGGER USER", "must be owner"),
        ("DROP TRIGGER deployment_secret_no_change ON deployment_secret", "must be owner"),
    ],
)
def test_the_bots_role_cannot_rewrite_disclosures_or_the_key(
    sessions,
    app_role: str,  # noqa: F811
    statement: str,
    refusal: str,
) -> None:
    key = _one_disclosure(sessions)
    app = make_engine(app_role)
    try:
        with app.connect() as c, pytest.raises(DBAPIError, match=refusal):
            c.exec_driver_sql(statement)
    finally:
        app.dispose()
    _unchanged(sessions, key)


@pytest.mark.skipif(not IS_PG, reason="PostgreSQL: roles and privileges")
def test_the_bot_records_disclosures_as_its_role(sessions, app_role: str) -> None:  # noqa: F811
    key = _one_disclosure(sessions)
    app = make_engine(app_role)
    try:
        with Session(app) as s:
            n = record_disclosures(
                s, force="suffolk", dataset="rui", actor="U0ANALYST", team_id="T1", channel_id="C1",
                command="rui --list", references=["SUB-9"], at=NOW,
            )  # fmt: skip
            assert n == 1 and deployment_key(s).hex() == key
            s.commit()
    finally:
        app.dispose()
    with sessions() as s:
        assert s.scalars(select(Disclosure.dataset).order_by(Disclosure.id)).all() == ["wanted", "rui"]
