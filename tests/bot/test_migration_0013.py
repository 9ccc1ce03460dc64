"""Migration 0013 (disclosure append-only, the deployment's key written once) on a database that already holds
disclosures and a key: both are kept, the guards come with the migration and go with its downgrade, and a key
missing from an older database is still made on first use. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from bot.db import alembic_config, make_engine, make_session_factory
from bot.disclosures import deployment_key, ref_hash
from bot.models import DeploymentSecret, Disclosure
from tests.support.database import IS_PG

AT = dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC)


def test_an_existing_database_keeps_its_disclosures_and_key_and_gains_the_guards(fresh_url: str) -> None:
    cfg = alembic_config(fresh_url)
    command.upgrade(cfg, "0011")
    engine = make_engine(fresh_url)
    try:
        with engine.begin() as c:
            key = c.execute(text("SELECT value FROM deployment_secret WHERE name = 'disclosure'")).scalar_one()
            c.execute(
                text(
                    "INSERT INTO disclosure (at, actor, team_id, channel_id, force, dataset, command, ref_hash) "
                    "VALUES (:at, 'U0ANALYST', 'T1', 'C1', 'suffolk', 'wanted', 'wanted --list', :h)"
                ),
                {"at": AT if IS_PG else "2026-11-01 09:00:00", "h": ref_hash(bytes.fromhex(key), "suffolk", "SUW-1")},
            )
            c.execute(text("UPDATE disclosure SET command = 'wanted --list --district ipswich'"))  # not yet guarded
        command.upgrade(cfg, "head")
        sessions = make_session_factory(engine)
        with sessions() as s:
            assert s.scalars(select(Disclosure.command)).all() == ["wanted --list --district ipswich"]
            assert deployment_key(s).hex() == key
        with engine.connect() as c, pytest.raises(DBAPIError, match="disclosure is append-only"):
            c.execute(text("DELETE FROM disclosure"))
        with engine.connect() as c, pytest.raises(DBAPIError, match="deployment_secret is written once"):
            c.execute(text("UPDATE deployment_secret SET value = 'ab'"))
        engine.dispose()

        command.downgrade(cfg, "0011")
        with engine.begin() as c:  # the guards are gone with the migration; the rows stayed
            assert c.execute(text("SELECT count(*) FROM disclosure")).scalar_one() == 1
            c.execute(text("DELETE FROM deployment_secret"))
        engine.dispose()
        command.upgrade(cfg, "head")
        with sessions() as s:  # a database that lost its key makes one on first use, once
            made = deployment_key(s).hex()
            assert deployment_key(s).hex() == made != key
            s.commit()
        with sessions() as s:
            assert s.scalars(select(DeploymentSecret.value)).all() == [made]
    finally:
        engine.dispose()
