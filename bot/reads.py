"""One request's database access (:class:`Reads`), for answers that are usually cached: the import generations the
cache keys need, without a transaction, and a session only if something is actually computed."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.import_generations.reader import generation_reader, import_generation
from bot.import_generations.sources import generation_source


class Reads:
    """One request's database access for answers that are usually cached: the import generations it needs — as this
    process was last told them (pushed or polled, ``bot.import_generations``) or read outside any transaction on
    a connection the serving thread keeps (each read sees every import committed before it — the check that makes
    a cached answer safe across processes), and an ORM :class:`Session` opened only if something
    is actually computed (a cache miss, a case list, the status page).

    Not shared between threads. :meth:`close` closes the session if one was opened; committing it is the caller's
    business (the `/mo` pipeline commits it with the request's audit event)."""

    def __init__(self, engine: Engine, sessions: sessionmaker[Session]) -> None:
        self.engine = engine
        self.sessions = sessions
        self._session: Session | None = None
        self._owned = True
        self._generations: dict[tuple[str, str], int] = {}

    def use(self, session: Session) -> None:
        """Read through ``session``, a transaction the caller owns (an import's, before it commits: its generations
        are the ones it is creating); :meth:`close` leaves it open."""
        self._session = session
        self._owned = False
        self._generations.clear()

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = self.sessions()
        return self._session

    @property
    def opened(self) -> Session | None:
        """The session, if one was opened; None when the request needed none."""
        return self._session

    def changed_nothing(self) -> bool:
        """Whether the request surely wrote nothing through its session (or opened none). Known on SQLite, where a
        transaction begins only with the first INSERT, UPDATE or DELETE; elsewhere a session that was used counts as
        having written. A request that wrote nothing need not commit its audit row with its session: on SQLite that
        commit would wait for the write lock an import may hold for many seconds (``bot.audit.GroupCommit`` does
        not wait: it spools)."""
        s = self._session
        if s is None or s.get_transaction() is None:
            return True
        if s.new or s.dirty or s.deleted or self.engine.dialect.name != "sqlite":
            return False
        raw = s.connection().connection.driver_connection
        return raw is not None and not raw.in_transaction

    def generation(self, force: str, dataset: str) -> int:
        """The latest import batch id of ``force``'s ``dataset``, once per request: from the session if one is
        open, else from what this process has been told (pushed or polled), else read from the database."""
        key = (force, dataset)
        found = self._generations.get(key)
        if found is None:
            if self._session is not None:
                found = import_generation(self._session, force, dataset)
            else:
                source = generation_source(self.engine)
                known = source.get(force, dataset) if source is not None else None
                found = known if known is not None else generation_reader(self.engine)(force, dataset)
            self._generations[key] = found
        return found

    def close(self) -> None:
        if self._session is not None and self._owned:
            self._session.close()
        self._session = None
