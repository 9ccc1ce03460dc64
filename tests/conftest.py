"""Shared fixtures. The database comes from ``MO_TEST_DATABASE_URL``: unset means a fresh SQLite file per test;
a PostgreSQL URL (e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/test``) makes this run create its own
database on that server, migrate it once, and truncate every table before each test."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import FixedClock
from bot.config import Config, load_config
from bot.db import make_engine, make_session_factory, upgrade
from bot.import_generations.sources import forget_generations
from bot.models import Base
from bot.runtime import Runtime
from tests.support.database import DEFAULT_NOW, IS_PG, TEST_DB


def pytest_report_header(config: pytest.Config) -> str:
    return f"mo-bot test database: {'PostgreSQL ' + make_url(TEST_DB).render_as_string() if IS_PG else 'SQLite'}"


@pytest.fixture(autouse=True)
def _fresh_figures_cache() -> None:
    """Each test's database restarts import-batch ids, so an answer cached by an earlier test could match."""
    from bot.figures.cache import figures_cache

    figures_cache.clear()


@pytest.fixture(scope="session")
def _database_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Migrate once per test run: a SQLite template file to copy, or a private PostgreSQL database."""
    if IS_PG:
        base = make_url(TEST_DB)
        if base.drivername in ("postgresql", "postgres"):
            base = base.set(drivername="postgresql+psycopg")
        name = f"mobot_t_{uuid.uuid4().hex[:10]}"
        admin = make_engine(base.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        url = base.set(database=name).render_as_string(hide_password=False)
        upgrade(url)
        try:
            yield url
        finally:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    else:
        path = tmp_path_factory.mktemp("dbtemplate") / "template.db"
        upgrade(f"sqlite:///{path}")
        yield str(path)


_pg_engine: Engine | None = None


@pytest.fixture
def db_url(_database_template: str, tmp_path: Path) -> str:
    """A migrated, empty database for this test."""
    global _pg_engine
    if IS_PG:
        if _pg_engine is None:
            _pg_engine = make_engine(_database_template)
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        extra = [r for r in _extra_tables(_pg_engine) if r not in {t.name for t in Base.metadata.sorted_tables}]
        with _pg_engine.begin() as c:
            # The audit tables refuse TRUNCATE (a trigger), as they must for the bot. Emptying them between tests
            # is the test harness's privilege, as the superuser it connects as: replica mode skips ordinary
            # triggers for this one transaction (SET LOCAL), and the triggers themselves stay as they are.
            c.execute(text("SET LOCAL session_replication_role = replica"))
            c.execute(text(f"TRUNCATE {', '.join([tables, *extra])} RESTART IDENTITY CASCADE"))
        # The ids restart: what the import listeners remember of the last test's batches must go too.
        forget_generations()
        return _database_template
    path = tmp_path / "test.db"
    shutil.copyfile(_database_template, path)
    return f"sqlite:///{path}"


def _extra_tables(engine: Engine) -> list[str]:
    """Tables created by later migrations but not (yet) in Base.metadata, except Alembic's own."""
    with engine.connect() as c:
        rows = c.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")).scalars()
        return [r for r in rows if r != "alembic_version"]


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    if IS_PG:
        assert _pg_engine is not None
        yield _pg_engine
        return
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as s:
        yield s


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(DEFAULT_NOW)


@pytest.fixture
def config(db_url: str) -> Config:
    return load_config(database_url=db_url)


@pytest.fixture
def runtime(config: Config, engine: Engine, clock: FixedClock) -> Runtime:
    return Runtime.create(config, clock=clock, engine=engine)


@pytest.fixture
def fresh_url(tmp_path: Path) -> Iterator[str]:
    """An empty database of its own, not migrated: for tests that run the migrations from an old revision (an
    existing database upgrading with its data). SQLite: a new file; PostgreSQL: a private database, dropped after."""
    if not IS_PG:
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    base = make_url(TEST_DB).set(drivername="postgresql+psycopg")
    name = f"mobot_fresh_{uuid.uuid4().hex[:8]}"
    admin = make_engine(base.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
