"""Engine, sessions and schema migrations for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import CursorResult, Engine, Result, create_engine, event, make_url, text
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from bot.audit_chain import SQLITE_FUNCTION, sqlite_link_hash

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).with_name("migrations")


def make_engine(url: str, **kw: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, **kw)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
            cur = dbapi_conn.cursor()
            # WAL lets the web process read while an import writes; foreign keys are off by default in SQLite.
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=10000")
            # A REPLACE's implicit delete then fires delete triggers, so the audit log's refuses it (its own
            # BEFORE INSERT trigger refuses it too, for connections that do not set this).
            cur.execute("PRAGMA recursive_triggers=ON")
            cur.close()
            # The audit log's trigger seals each row in the hash chain with this (SQLite has no SHA-256).
            dbapi_conn.create_function(SQLITE_FUNCTION, 13, sqlite_link_hash, deterministic=True)

        return engine
    kw.setdefault("pool_pre_ping", True)
    if "options" not in make_url(url).query:
        # No parallel query workers: every query the bot runs is a short index-only range, and on a small server
        # starting the workers costs more than they save (1M-row figures, 2 vCPUs: wanted 94 → 72 ms, suspects
        # 85 → 52, bail 133 → 105 ms p50, measured back to back). Index builds keep their own parallel workers
        # (max_parallel_maintenance_workers). An ``options`` parameter in DATABASE_URL replaces this default.
        connect_args = dict(kw.pop("connect_args", None) or {})
        connect_args.setdefault("options", "-c max_parallel_workers_per_gather=0")
        kw["connect_args"] = connect_args
    return create_engine(url, **kw)


T = TypeVar("T")
_per_engine_lock = threading.Lock()


def one_per_engine(registry: weakref.WeakKeyDictionary[Engine, T], engine: Engine, make: Callable[[Engine], T]) -> T:
    """The process's one ``make(engine)`` in ``registry`` (made on first use; the registry holds the engine weakly,
    so its entry goes with it)."""
    found = registry.get(engine)
    if found is None:
        with _per_engine_lock:
            found = registry.get(engine)
            if found is None:
                found = registry[engine] = make(engine)
    return found


def rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE, DELETE or INSERT … SELECT touched. ``Session.execute`` returns a CursorResult for those,
    though it is typed to return any Result."""
    assert isinstance(result, CursorResult)
    return result.rowcount


@contextmanager
def lock_wait_at_most(session: Session, ms: int) -> Iterator[None]:
    """Within the block, a write by ``session`` waits at most ``ms`` for a lock, then raises OperationalError:
    SQLite's busy timeout on the session's connection (restored after the block), PostgreSQL's ``lock_timeout``
    for the rest of the transaction. For writes on the path Slack waits on: SQLite has one writer at a time and an
    import holds the lock for seconds to tens of seconds."""
    if session.get_bind().dialect.name != "sqlite":
        session.execute(text(f"SET LOCAL lock_timeout = '{int(ms)}ms'"))
        yield
        return
    raw = session.connection().connection.driver_connection
    assert raw is not None
    before = int(raw.execute("PRAGMA busy_timeout").fetchone()[0])
    raw.execute(f"PRAGMA busy_timeout = {int(ms)}")
    try:
        yield
    finally:
        raw.execute(f"PRAGMA busy_timeout = {before}")  # while the connection is still this session's


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation would choke on '%' in passwords.
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str) -> None:
    """Bring the schema at ``url`` up to the latest migration (idempotent)."""
    from alembic import command

    command.upgrade(alembic_config(url), "head")


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except Exception:
            return None
