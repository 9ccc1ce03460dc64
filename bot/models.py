"""The store: SQLAlchemy 2 typed models.

Personal datasets hold only pseudonymous references (person_ref, crime_ref) and officer collar numbers or
initials — never names or dates of birth (DPA 2018 Part 3, data minimisation). Every row carries its force,
and every query filters on it, so one force's data is never shown to another.

Indexes follow the figures queries: "open at D" is ``opened_on <= D AND (closed_on IS NULL OR closed_on > D)``
within one force; the covering indexes let the counts and GROUP BYs run from the index alone.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    or_,
    select,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, column_property, mapped_column, relationship

# Stable constraint names so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BigInteger ids on PostgreSQL (10M+ rows), but SQLite only auto-increments a plain INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")
# A case reference from an export. Compared byte for byte on PostgreSQL as SQLite's BINARY does, so both order
# references alike, and the unique key's b-tree is maintained with memcmp instead of the locale's strcoll (a
# million-row import: the unique key's upkeep during COPY 2.7 -> 1.3 s of server time, with the key led by the
# reference).
CaseReference = String(64).with_variant(String(64, collation="C"), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite keeps naive UTC; UTC is re-attached on load)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value


# "Valid since before any data": the valid_from of a row's first version, so that it answers for every date
# before the first import that revised it (bot/figures/history.py).
SINCE_EVER = dt.date(1, 1, 1)
SINCE_EVER_SQL = "'0001-01-01'"


class ImportBatch(Base):
    """One import of one export file: what it was, when, and what it changed."""

    __tablename__ = "import_batch"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    force: Mapped[str] = mapped_column(String(32))
    dataset: Mapped[str] = mapped_column(String(16))
    file_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64))
    as_of: Mapped[dt.date] = mapped_column(Date)
    snapshot: Mapped[bool] = mapped_column(Boolean, default=False)
    # The date from which the file holds every case that was open (`mo-bot import --covers-from`); None: from
    # as_of only. A dataset's history is complete from the earliest of these (bot/coverage.py).
    covers_from: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    rows_in_file: Mapped[int] = mapped_column(Integer, default=0)
    rows_added: Mapped[int] = mapped_column(Integer, default=0)
    rows_updated: Mapped[int] = mapped_column(Integer, default=0)
    rows_closed: Mapped[int] = mapped_column(Integer, default=0)
    rows_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    imported_by: Mapped[str] = mapped_column(String(64), default="cli")
    # SHA-256 of everything besides the file's bytes that decides what importing it writes (the --force given, the
    # forces' districts, the vocabularies, the retention period, the importer's columns and rules): with the same
    # file_sha256 too, importing the file again can change no row (bot/importing/unchanged.py). None: not recorded.
    settings_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __table_args__ = (Index("ix_import_batch_force_dataset_at", "force", "dataset", "imported_at"),)


def open_indexes(stem: str, prefix: list[str], closed: str, groups: list[str], dates: list[str]) -> tuple[Index, Index]:
    """The two indexes every figure reads, one per half of "open at D" (``closed IS NULL`` / ``closed > D``,
    see :mod:`bot.figures.source`); between them they hold each row once, so an import builds no more entries
    than one index over the table would. Both cover every column the figures read (``prefix``: force, and
    bail's kind; ``groups``: what the figures group by; ``dates``: the opened date and the other dates they
    compare), so the table is never visited (index-only scans).

    - ``ix_<stem>_open``, partial, the rows not closed: ``prefix``, ``groups``, ``dates``. The figures' GROUP BY
      follows the equality prefix, so both databases stream the groups in index order: no hash and no sort
      (PostgreSQL cannot see that order past a ``closed IS NULL`` key column, so it hashed: 48 → 31 ms for the
      bail open-rows pass on a million rows). The closed column comes last, always NULL here, so that SQLite
      also sees the index as covering.
    - ``ix_<stem>_closed``, partial, the closed rows, dates first: the closed date (ranges: "closed after D",
      "closed in a recent window" — a row never closes before it opens), the other dates, then ``prefix`` and
      ``groups``, checked in the index. With the fixed-width dates ahead of the text columns, PostgreSQL's
      index build compares and deforms far less (1M wanted rows: 5.3 → 2.5 s) and a recent-window scan is
      quicker too, although it steps over every force's entries (13.6 → 9.7 ms)."""
    return (
        Index(
            f"ix_{stem}_open",
            *prefix,
            *groups,
            *dates,
            closed,
            sqlite_where=text(f"{closed} IS NULL"),
            postgresql_where=text(f"{closed} IS NULL"),
        ),
        Index(
            f"ix_{stem}_closed",
            closed,
            *dates,
            *prefix,
            *groups,
            sqlite_where=text(f"{closed} IS NOT NULL"),
            postgresql_where=text(f"{closed} IS NOT NULL"),
        ),
    )


# The bail periods that lapse at some date: bail with an end date, still open or ended after it. Written exactly
# so in the index and in the query that uses it (bot/figures/lapsed.py): SQLite matches the terms word for word.
LAPSING_SQL = "kind = 'bail' AND bail_end_on IS NOT NULL AND (ended_on IS NULL OR ended_on > bail_end_on)"


# What the people queries read besides force and person (bot/figures/outcomes.py, bot/figures/people_ahead.py):
# the opened date (``--older-than``, "opened by D"), the filters' columns, for bail its kind and end date, and
# the closed date last — NULL in every entry, but SQLite reads an index as covering only when it holds every
# column the query names, the partial index's own condition included.
WANTED_PERSON_COVER = ("circulated_on", "district", "reason", "offence", "closed_on")
SUSPECT_PERSON_COVER = ("identified_on", "district", "offence", "closed_on")
BAIL_PERSON_COVER = ("kind", "started_on", "bail_end_on", "district", "offence", "ended_on")


def person_index(stem: str, closed: str, *cover: str) -> Index:
    """The open rows that name a person, by force and person, with ``cover``: the opened date and every column
    a question filters on. An import finds the rows of the people it touched (bot/figures/people_ahead.py)
    without a scan of the force's rows; and a distinct count of people that the forward aggregates cannot answer
    (``--older-than``, a past date) reads this index alone, not one table page per open row. Partial: the open
    rows only, a small part of the table."""
    where = text(f"{closed} IS NULL AND person_ref IS NOT NULL")
    return Index(f"ix_{stem}_person", "force", "person_ref", *cover, sqlite_where=where, postgresql_where=where)


def revised_index(stem: str) -> Index:
    """The rows an import has revised (valid_from set), by force and date: a figure at an earlier date takes
    them out (bot/figures/history.py). Partial: a first version (SINCE_EVER, every row of an initial load) is
    not in it, so a load builds no entries."""
    where = text(f"valid_from > {SINCE_EVER_SQL}")
    return Index(f"ix_{stem}_revised", "force", "valid_from", sqlite_where=where, postgresql_where=where)


class WantedCirculation(Base):
    """One wanted circulation (PNC), for one of the three circumstances of §9.3 of the report."""

    __tablename__ = "wanted"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    force: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(CaseReference)
    person_ref: Mapped[str | None] = mapped_column(String(64))
    crime_ref: Mapped[str | None] = mapped_column(String(64))
    offence: Mapped[str] = mapped_column(String(64))
    district: Mapped[str] = mapped_column(String(48))
    reason: Mapped[str] = mapped_column(String(32))
    circulated_on: Mapped[dt.date] = mapped_column(Date)
    last_reviewed_on: Mapped[dt.date | None] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    # How it closed (arrested, located, cancelled …: the closure_outcome vocabulary); None while open or unsaid.
    outcome: Mapped[str | None] = mapped_column(String(32))
    oic: Mapped[str | None] = mapped_column(String(32))
    import_batch_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("import_batch.id"))
    # The as-of date of the import that gave this row its current values; SINCE_EVER while no import has revised
    # it (its first version stands for every date before the next). The values it replaced are in the history.
    valid_from: Mapped[dt.date] = mapped_column(Date, server_default=text(SINCE_EVER_SQL))

    __table_args__ = (
        UniqueConstraint("reference", "force", name="uq_wanted_force_reference"),  # reference first: see 0005
        revised_index("wanted"),
        *open_indexes(
            "wanted", ["force"], "closed_on", ["district", "reason", "offence"], ["circulated_on", "last_reviewed_on"]
        ),
        person_index("wanted", "closed_on", *WANTED_PERSON_COVER),
    )


class OutstandingSuspect(Base):
    """A person identified as a suspect in a reported crime, not yet arrested or dealt with (§9.5)."""

    __tablename__ = "suspect"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    force: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(CaseReference)
    person_ref: Mapped[str | None] = mapped_column(String(64))
    crime_ref: Mapped[str | None] = mapped_column(String(64))
    offence: Mapped[str] = mapped_column(String(64))
    district: Mapped[str] = mapped_column(String(48))
    identified_on: Mapped[dt.date] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    # How it closed (arrested, located, cancelled …: the closure_outcome vocabulary); None while open or unsaid.
    outcome: Mapped[str | None] = mapped_column(String(32))
    oic: Mapped[str | None] = mapped_column(String(32))
    import_batch_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("import_batch.id"))
    # The as-of date of the import that gave this row its current values; SINCE_EVER while no import has revised
    # it (its first version stands for every date before the next). The values it replaced are in the history.
    valid_from: Mapped[dt.date] = mapped_column(Date, server_default=text(SINCE_EVER_SQL))

    __table_args__ = (
        UniqueConstraint("reference", "force", name="uq_suspect_force_reference"),  # reference first: see 0005
        revised_index("suspect"),
        *open_indexes("suspect", ["force"], "closed_on", ["district", "offence"], ["identified_on"]),
        person_index("suspect", "closed_on", *SUSPECT_PERSON_COVER),
    )


class BailPeriod(Base):
    """One period of pre-charge bail or release under investigation (RUI)."""

    __tablename__ = "bail_period"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    force: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(CaseReference)
    person_ref: Mapped[str | None] = mapped_column(String(64))
    crime_ref: Mapped[str | None] = mapped_column(String(64))
    offence: Mapped[str] = mapped_column(String(64))
    district: Mapped[str] = mapped_column(String(48))
    kind: Mapped[str] = mapped_column(String(8))  # 'bail' | 'rui'
    started_on: Mapped[dt.date] = mapped_column(Date)
    bail_end_on: Mapped[dt.date | None] = mapped_column(Date)
    ended_on: Mapped[dt.date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(String(32))
    oic: Mapped[str | None] = mapped_column(String(32))
    import_batch_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("import_batch.id"))
    # The as-of date of the import that gave this row its current values; SINCE_EVER while no import has revised
    # it (its first version stands for every date before the next). The values it replaced are in the history.
    valid_from: Mapped[dt.date] = mapped_column(Date, server_default=text(SINCE_EVER_SQL))

    __table_args__ = (
        UniqueConstraint("reference", "force", name="uq_bail_period_force_reference"),  # reference first: see 0005
        revised_index("bail"),
        *open_indexes("bail", ["force", "kind"], "ended_on", ["district", "offence"], ["started_on", "bail_end_on"]),
        person_index("bail", "ended_on", *BAIL_PERSON_COVER),
        # Lapsed bail at each month end of the series: a range of bail_end_on over the periods that ever lapse.
        Index(
            "ix_bail_lapsing",
            "force",
            "bail_end_on",
            "started_on",
            "ended_on",
            "district",
            "offence",
            sqlite_where=text(LAPSING_SQL),
            postgresql_where=text(LAPSING_SQL),
        ),
        # Bail ending soon: a short range of bail_end_on in list order (bail_end_on, reference), "active" checked
        # and every listed column read in the index (index-only). RUI has no bail end date: not in it.
        Index(
            "ix_bail_ending",
            "force",
            "kind",
            "bail_end_on",
            "reference",
            "started_on",
            "ended_on",
            "district",
            "offence",
            sqlite_where=text("bail_end_on IS NOT NULL"),
            postgresql_where=text("bail_end_on IS NOT NULL"),
        ),
    )


def history_indexes(stem: str, case_table: str) -> tuple[Index, Index]:
    """A history table's two indexes: the versions valid at D of one force are one range (valid_to > D, checked
    valid_from <= D in the index), and a purged case's versions are found by its id."""
    return (
        Index(f"ix_{stem}_history_valid", "force", "valid_to", "valid_from"),
        Index(f"ix_{stem}_history_case", "case_id"),
    )


class WantedHistory(Base):
    """A superseded version of a wanted circulation: its values from ``valid_from`` (an import's as-of date, or
    SINCE_EVER for the first version) until ``valid_to``, the as-of date of the import that changed them."""

    __tablename__ = "wanted_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # The case row's id. No foreign key: an initial load on PostgreSQL drops and rebuilds the case table's
    # primary key (bot/importing/merge.py rebuilt_indexes); the retention purge deletes a case's versions itself.
    case_id: Mapped[int] = mapped_column(BigId)
    force: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(CaseReference)
    offence: Mapped[str] = mapped_column(String(64))
    district: Mapped[str] = mapped_column(String(48))
    reason: Mapped[str] = mapped_column(String(32))
    circulated_on: Mapped[dt.date] = mapped_column(Date)
    last_reviewed_on: Mapped[dt.date | None] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(32))
    person_ref: Mapped[str | None] = mapped_column(String(64))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date] = mapped_column(Date)

    __table_args__ = history_indexes("wanted", "wanted")


class SuspectHistory(Base):
    """A superseded version of an outstanding suspect (see :class:`WantedHistory`)."""

    __tablename__ = "suspect_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # The case row's id. No foreign key: an initial load on PostgreSQL drops and rebuilds the case table's
    # primary key (bot/importing/merge.py rebuilt_indexes); the retention purge deletes a case's versions itself.
    case_id: Mapped[int] = mapped_column(BigId)
    force: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(CaseReference)
    offence: Mapped[str] = mapped_column(String(64))
    district: Mapped[str] = mapped_column(String(48))
    identified_on: Mapped[dt.date] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(32))
    person_ref: Mapped[str | None] = mapped_column(String(64))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date] = mapped_column(Date)

    __table_args__ = history_indexes("suspect", "suspect")


class BailHistory(Base):
    """A superseded version of a bail or RUI period (see :class:`WantedHistory`)."""

    __tablename__ = "bail_period_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # The case row's id. No foreign key: an initial load on PostgreSQL drops and rebuilds the case table's
    # primary key (bot/importing/merge.py rebuilt_indexes); the retention purge deletes a case's versions itself.
    case_id: Mapped[int] = mapped_column(BigId)
    force: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(CaseReference)
    offence: Mapped[str] = mapped_column(String(64))
    district: Mapped[str] = mapped_column(String(48))
    kind: Mapped[str] = mapped_column(String(8))
    started_on: Mapped[dt.date] = mapped_column(Date)
    bail_end_on: Mapped[dt.date | None] = mapped_column(Date)
    ended_on: Mapped[dt.date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(String(32))
    person_ref: Mapped[str | None] = mapped_column(String(64))
    oic: Mapped[str | None] = mapped_column(String(32))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date] = mapped_column(Date)

    __table_args__ = history_indexes("bail", "bail_period")


class RetentionCutoff(Base):
    """The latest retention purge of a force: rows closed before ``cutoff`` were deleted, so no figure before
    that date can be complete any more (bot/coverage.py starts every dataset's coverage there at the earliest)."""

    __tablename__ = "retention_cutoff"

    force: Mapped[str] = mapped_column(String(32), primary_key=True)
    cutoff: Mapped[dt.date] = mapped_column(Date)


class MonthFlow(Base):
    """Rows opened and closed per calendar month and group, per dataset (bail and RUI apart): what the monthly
    series sums, so a 13-month trend reads a few thousand aggregate rows instead of every case row in the
    window. Rebuilt for a force by every import into the dataset, in the import's transaction
    (:mod:`bot.figures.month_flow`); trusted only while :class:`MonthFlowState` names the force's latest batch."""

    __tablename__ = "month_flow"

    force: Mapped[str] = mapped_column(String(32), primary_key=True)
    series: Mapped[str] = mapped_column(String(16), primary_key=True)  # wanted | suspects | bail | rui
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)  # its first day
    district: Mapped[str] = mapped_column(String(48), primary_key=True)
    offence: Mapped[str] = mapped_column(String(64), primary_key=True)
    reason: Mapped[str] = mapped_column(String(32), primary_key=True)  # wanted only; '' otherwise
    opened: Mapped[int] = mapped_column(Integer)
    closed: Mapped[int] = mapped_column(Integer)


class MonthFlowState(Base):
    """Which import the month flows of a force and dataset were built from."""

    __tablename__ = "month_flow_state"

    force: Mapped[str] = mapped_column(String(32), primary_key=True)
    dataset: Mapped[str] = mapped_column(String(16), primary_key=True)
    import_batch_id: Mapped[int] = mapped_column(BigId)


class RevisionDelta(Base):
    """What one import's revisions changed in a count, for one group on one day (bot/figures/revisions.py): the
    figures at a past date take them away from today's rows' counts instead of reading the revised rows."""

    __tablename__ = "revision_delta"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    force: Mapped[str] = mapped_column(String(32))
    dataset: Mapped[str] = mapped_column(String(16))  # wanted | suspects | bail
    revised_on: Mapped[dt.date] = mapped_column(Date)  # the as-of date of the import
    measure: Mapped[str] = mapped_column(String(16))  # open, opened, closed, lapsed, overdue, age28 …, len3 …
    kind: Mapped[str] = mapped_column(String(8))  # bail | rui; '' otherwise
    district: Mapped[str] = mapped_column(String(48))
    reason: Mapped[str] = mapped_column(String(32))  # wanted only; '' otherwise
    offence: Mapped[str] = mapped_column(String(64))
    day: Mapped[dt.date] = mapped_column(Date)
    delta: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_revision_delta_at", "force", "dataset", "revised_on", "day"),)


class RevisionCheckpoint(Base):
    """The running total of one import's :class:`RevisionDelta` rows for a measure and group at an anchor day (every
    Sunday and month end before the import's as-of date): a correction at a past date reads these plus at most six
    days of changes, not every day before it."""

    __tablename__ = "revision_checkpoint"

    force: Mapped[str] = mapped_column(String(32), primary_key=True)
    dataset: Mapped[str] = mapped_column(String(16), primary_key=True)
    at: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    revised_on: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    measure: Mapped[str] = mapped_column(String(16), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    district: Mapped[str] = mapped_column(String(48), primary_key=True)
    reason: Mapped[str] = mapped_column(String(32), primary_key=True)
    offence: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


class RevisionDeltaState(Base):
    """Which import :class:`RevisionDelta` of a force and dataset was built up to, and for which review period
    (the "review overdue" changes depend on it)."""

    __tablename__ = "revision_delta_state"

    force: Mapped[str] = mapped_column(String(32), primary_key=True)
    dataset: Mapped[str] = mapped_column(String(16), primary_key=True)
    import_batch_id: Mapped[int | None] = mapped_column(BigId)
    review_days: Mapped[int] = mapped_column(Integer)


# The current rows' counts per group and day (bot/figures/day_counts.py): one row per group and day on which a
# count moves, and the running totals at anchor days. Columns by dataset — wanted and suspects: ``band1``…``band4``
# open at least 28/91/181/366 days, ``flag`` review overdue (wanted); bail and RUI: ``band1``…``band4`` open at
# least 3/6/9/12 months, ``flag`` lapsed, ``flag_band1``…``flag_band4`` lapsed and that long.
COUNT_STATES = ("open", "band1", "band2", "band3", "band4", "flag", "flag_band1", "flag_band2", "flag_band3",
                "flag_band4")  # fmt: skip
COUNT_EVENTS = ("opened", "closed")


class CountDay(Base):
    """How much each count of the force's current rows moves on ``day``, for one group: the state counts' steps
    (+1 where a row starts counting, −1 where it stops) and the events (rows opened, closed) of that day."""

    __tablename__ = "count_day"

    force: Mapped[str] = mapped_column(String(32), primary_key=True)
    dataset: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # bail | rui; '' otherwise
    district: Mapped[str] = mapped_column(String(48), primary_key=True)
    reason: Mapped[str] = mapped_column(String(32), primary_key=True)  # wanted only; '' otherwise
    offence: Mapped[str] = mapped_column(String(64), primary_key=True)
    open: Mapped[int] = mapped_column(Integer, default=0)
    opened: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)
    band1: Mapped[int] = mapped_column(Integer, default=0)
    band2: Mapped[int] = mapped_column(Integer, default=0)
    band3: Mapped[int] = mapped_column(Integer, default=0)
    band4: Mapped[int] = mapped_column(Integer, default=0)
    flag: Mapped[int] = mapped_column(Integer, default=0)
    flag_band1: Mapped[int] = mapped_column(Integer, default=0)
    flag_band2: Mapped[int] = mapped_column(Integer, default=0)
    flag_band3: Mapped[int] = mapped_column(Integer, default=0)
    flag_band4: Mapped[int] = mapped_column(Integer, default=0)


class CountCheckpoint(Base):
    """The state counts of the force's current rows at an anchor day (every Sunday and month end up to the latest
    import's as-of date, and that date), per group; a group whose counts are all zero there has no row."""

    __tablename__ = "count_checkpoint"

    force: Mapped[str] = mapped_column(String(32), primary_key=True)
    dataset: Mapped[str] = mapped_column(String(16), primary_key=True)
    at: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    district: Mapped[str] = mapped_column(String(48), primary_key=True)
    reason: Mapped[str] = mapped_column(String(32), primary_key=True)
    offence: Mapped[str] = mapped_column(String(64), primary_key=True)
    open: Mapped[int] = mapped_column(Integer, default=0)
    band1: Mapped[int] = mapped_column(Integer, default=0)
    band2: Mapped[int] = mapped_column(Integer, default=0)
    band3: Mapped[int] = mapped_column(Integer, default=0)
    band4: Mapped[int] = mapped_column(Integer, default=0)
    flag: Mapped[int] = mapped_column(Integer, default=0)
    flag_band1: Mapped[int] = mapped_column(Integer, default=0)
    flag_band2: Mapped[int] = mapped_column(Integer, default=0)
    flag_band3: Mapped[int] = mapped_column(Integer, default=0)
    flag_band4: Mapped[int] = mapped_column(Integer, default=0)


class CountState(Base):
    """Which import the day counts of a force and dataset hold, for which review period, the first day they
    move and the last anchor (the latest as-of date)."""

    __tablename__ = "count_state"

    force: Mapped[str] = mapped_column(String(32), primary_key=True)
    dataset: Mapped[str] = mapped_column(String(16), primary_key=True)
    import_batch_id: Mapped[int | None] = mapped_column(BigId)
    review_days: Mapped[int] = mapped_column(Integer)
    first_day: Mapped[dt.date | None] = mapped_column(Date)
    anchor: Mapped[dt.date | None] = mapped_column(Date)


class PeopleAhead(Base):
    """Distinct people among the force's current rows, from the latest import on (bot/figures/people_ahead.py):
    per group at each level of the answers' filters (a filter not given is ``'*'``), how many people stop being
    counted on ``leaves`` — the day after the last day any of their rows in the group is open (bail: active) — and
    how many of the rows that name a person stop counting then."""

    __tablename__ = "people_ahead"

    force: Mapped[str] = mapped_column(String(32), primary_key=True)
    dataset: Mapped[str] = mapped_column(String(16), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # bail | rui; '' otherwise
    district: Mapped[str] = mapped_column(String(48), primary_key=True)  # '*': any
    reason: Mapped[str] = mapped_column(String(32), primary_key=True)  # wanted only ('*': any); '' otherwise
    offence: Mapped[str] = mapped_column(String(64), primary_key=True)  # lower-cased; '*': any
    leaves: Mapped[dt.date] = mapped_column(Date, primary_key=True)  # 9999-12-31: no end known
    people: Mapped[int] = mapped_column(Integer)
    # The rows naming a person in the group that stop counting on ``leaves`` (their own end, not their person's).
    named: Mapped[int] = mapped_column(Integer, server_default="0")


class ClosedAhead(Base):
    """The current rows closed per group, day and recorded outcome (``''``: none recorded), from the 1st of the
    latest import's month on (bot/figures/closed_ahead.py): a month's closures by outcome without the rows."""

    __tablename__ = "closed_ahead"

    force: Mapped[str] = mapped_column(String(32), primary_key=True)
    dataset: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # bail | rui; '' otherwise
    district: Mapped[str] = mapped_column(String(48), primary_key=True)
    reason: Mapped[str] = mapped_column(String(32), primary_key=True)  # wanted only; '' otherwise
    offence: Mapped[str] = mapped_column(String(64), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(32), primary_key=True)
    closed: Mapped[int] = mapped_column(Integer)


class AheadState(Base):
    """Which import ``people_ahead`` and ``closed_ahead`` hold for a force and dataset, and the first day they
    answer for (bot/figures/ahead.py)."""

    __tablename__ = "ahead_state"

    force: Mapped[str] = mapped_column(String(32), primary_key=True)
    dataset: Mapped[str] = mapped_column(String(16), primary_key=True)
    import_batch_id: Mapped[int | None] = mapped_column(BigId)
    start: Mapped[dt.date] = mapped_column(Date)


class SharedAnswer(Base):
    """A `/mo` answer as rendered for one import generation of a force's dataset, computed once after the import
    and read by every process and replica (bot/shared_answers.py). ``key`` names the question (sub-command, its
    arguments, the date, whether the data was stale); ``key_hash`` is its SHA-256."""

    __tablename__ = "shared_answer"

    force: Mapped[str] = mapped_column(String(32), primary_key=True)
    dataset: Mapped[str] = mapped_column(String(16), primary_key=True)
    generation: Mapped[int] = mapped_column(BigId, primary_key=True)  # the import batch id
    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)  # JSON
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SharedAnswerWarm(Base):
    """Which process computes the shared answers of an import generation: the first to insert the row."""

    __tablename__ = "shared_answer_warm"

    force: Mapped[str] = mapped_column(String(32), primary_key=True)
    dataset: Mapped[str] = mapped_column(String(16), primary_key=True)
    generation: Mapped[int] = mapped_column(BigId, primary_key=True)
    claimed_by: Mapped[str] = mapped_column(String(64))
    claimed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    answers: Mapped[int | None] = mapped_column(Integer)  # how many were written; None until done


# The note of every history row an action-log import writes ("import actions-2022-07.csv"): its changes are
# corrections of the transcript, true of the log from the start, not changes a person made on a day.
IMPORT_NOTE_PREFIX = "import "


class ActionHistory(Base):
    """One changed field of an action: old → new, who, when, why."""

    __tablename__ = "action_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    action_id: Mapped[int] = mapped_column(BigId, ForeignKey("action.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(String(64))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)
    # The action's version after this change: a writer who saw version N is shown the rows with version > N.
    version: Mapped[int | None] = mapped_column(Integer)
    # The day the change took effect when it was recorded later (``--on``), e.g. completed at last week's meeting.
    effective_on: Mapped[dt.date | None] = mapped_column(Date)

    action: Mapped[Action] = relationship(back_populates="history")


class Action(Base):
    """An item of the Managing Offenders strategy action log (Appendix 1 of the report)."""

    __tablename__ = "action"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    force: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(String(32))  # short and stable: "A-12"
    pillar: Mapped[str] = mapped_column(String(16))  # detect | divert | deliver | demonstrate
    title: Mapped[str] = mapped_column(String(500))
    detail: Mapped[str | None] = mapped_column(Text)
    owner_initials: Mapped[str | None] = mapped_column(String(16))
    owner_user_id: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # open | ongoing | held | complete | cancelled
    due_on: Mapped[dt.date | None] = mapped_column(Date)
    completed_on: Mapped[dt.date | None] = mapped_column(Date)
    source: Mapped[str | None] = mapped_column(String(500))
    notes: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64), default="import")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Optimistic concurrency: a writer names the version it saw; a stale version is refused.
    version: Mapped[int] = mapped_column(Integer, default=1)
    import_batch_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("import_batch.id"))
    # action | achievement (recorded as done, never worked as an action) | hmic (an HMICFRS recommendation, which
    # is tracked apart: it is never counted as an open action).
    kind: Mapped[str] = mapped_column(String(16), default="action", server_default="action")
    # A recurring action (e.g. every 6 months) reopens itself this many months after it was last completed.
    recur_months: Mapped[int | None] = mapped_column(Integer)
    # The date the action existed from (an imported log's date, or the day it was added): a change dated in the
    # past (``--on``) may not be earlier.
    opened_on: Mapped[dt.date | None] = mapped_column(Date)
    # An HMIC recommendation's closing evidence (what closed it, and who said so).
    evidence: Mapped[str | None] = mapped_column(Text)

    history: Mapped[list[ActionHistory]] = relationship(
        back_populates="action", order_by="ActionHistory.id", cascade="all, delete-orphan"
    )
    # Whether a person recorded the completion in the bot (a change of status to complete that no import wrote): its
    # date is then the day they gave. An imported completion whose log states no date is known only as done "by"
    # the log's date (bot.action_log.completion). Loaded with the row, so every view can say which.
    completion_recorded: Mapped[bool] = column_property(
        select(ActionHistory.id)
        .where(
            ActionHistory.action_id == id,
            ActionHistory.field == "status",
            ActionHistory.new_value == "complete",
            or_(ActionHistory.note.is_(None), ~ActionHistory.note.startswith(IMPORT_NOTE_PREFIX)),
        )
        .correlate_except(ActionHistory)
        .exists()
    )
    # Every owner of the action, in the order the log names them ("JM & JG"); loaded with the action.
    owners: Mapped[list[ActionOwner]] = relationship(
        order_by="ActionOwner.position", cascade="all, delete-orphan", lazy="selectin"
    )

    __table_args__ = (
        UniqueConstraint("force", "reference", name="uq_action_force_reference"),
        Index("ix_action_force_status_due", "force", "status", "due_on"),
        Index("ix_action_owner", "force", "owner_user_id", "status"),
        # Lists filter by kind as well (HMIC recommendations are listed apart): a covering index for their count.
        Index("ix_action_force_kind_status_due", "force", "kind", "status", "due_on"),
    )


class ActionOwner(Base):
    """One owner of an action: initials as the log writes them (mapped to Slack through the force's ``owners``
    config) and/or a Slack user set in Slack. An action may have several ("JM & JG")."""

    __tablename__ = "action_owner"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    action_id: Mapped[int] = mapped_column(BigId, ForeignKey("action.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    initials: Mapped[str | None] = mapped_column(String(16))
    user_id: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (
        UniqueConstraint("action_id", "position", name="uq_action_owner_action_position"),
        Index("ix_action_owner_user", "user_id"),
        Index("ix_action_owner_initials", "initials"),
    )


class Meeting(Base):
    """A date of the subgroup's meeting, set by the chair (``/mo meeting``); the update round runs before it."""

    __tablename__ = "meeting"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    force: Mapped[str] = mapped_column(String(32))
    held_on: Mapped[dt.date] = mapped_column(Date)
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (UniqueConstraint("force", "held_on", name="uq_meeting_force_held_on"),)


class RoundMessage(Base):
    """One DM of a meeting's update round (``first``, ``nudge``, or the chair's ``digest``) to one person.

    The row is inserted (unique on force, meeting, user, kind) before the DM is sent, so a person is sent each
    message of a round at most once across runs and replicas; ``ts`` is filled in once Slack accepted it."""

    __tablename__ = "round_message"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    force: Mapped[str] = mapped_column(String(32))
    meeting_on: Mapped[dt.date] = mapped_column(Date)
    user_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(8))  # first | nudge | digest
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ts: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (
        UniqueConstraint("force", "meeting_on", "user_id", "kind", name="uq_round_message_force_meeting_user_kind"),
    )


class RoundAnswer(Base):
    """An owner's answer in a meeting's update round for one action: no_change | update | done."""

    __tablename__ = "round_answer"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    force: Mapped[str] = mapped_column(String(32))
    meeting_on: Mapped[dt.date] = mapped_column(Date)
    action_id: Mapped[int] = mapped_column(BigId, ForeignKey("action.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    answer: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_round_answer_force_meeting", "force", "meeting_on"),
        # One answer per owner, action and meeting: a repeated click can't record a second.
        Index("uq_round_answer_force_meeting_action_user", "force", "meeting_on", "action_id", "user_id", unique=True),
    )


class AuditEvent(Base):
    """Append-only log of every consultation, disclosure, change and erasure (DPA 2018 s.62).

    Database triggers refuse UPDATE and DELETE (the initial migration), and TRUNCATE and a REPLACE of an existing
    row (0006); each row is sealed in the hash chain of :class:`AuditSeal` as it is written (:mod:`bot.audit_chain`).
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))  # Slack user ID, or "cli:<login>", or "job:<name>"
    team_id: Mapped[str | None] = mapped_column(String(32))
    channel_id: Mapped[str | None] = mapped_column(String(32))
    force: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))  # command | view | change | import | purge | export …
    detail: Mapped[str] = mapped_column(Text, default="")  # the command text or what was changed
    outcome: Mapped[str] = mapped_column(String(16))  # ok | refused | invalid | error
    records_disclosed: Mapped[int] = mapped_column(Integer, default=0)
    reference: Mapped[str | None] = mapped_column(String(32))  # error reference shown to the user


class AuditSeal(Base):
    """The audit log's hash chain: link ``seq`` seals one audit row with the hash of that row and of link ``seq - 1``.

    Written only by the database's own trigger when an audit row is written (:mod:`bot.audit_chain`), never by the
    bot; append-only like the log (triggers refuse UPDATE, DELETE, TRUNCATE and REPLACE)."""

    __tablename__ = "audit_seal"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    audit_id: Mapped[int] = mapped_column(BigId, unique=True)
    hash: Mapped[str] = mapped_column(String(64))


class ActionMessage(Base):
    """A bot message about one action (channel + ts), so a change can update it in place and reply in its thread."""

    __tablename__ = "action_message"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    action_id: Mapped[int] = mapped_column(BigId, ForeignKey("action.id", ondelete="CASCADE"))
    channel_id: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str] = mapped_column(String(32))
    posted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        UniqueConstraint("action_id", "channel_id", "ts", name="uq_action_message_action_id"),
        Index("ix_action_message_action", "action_id", "posted_at"),
    )


class ActionReminder(Base):
    """Reminder log per action: 'sent' (a DM listed it) or 'snooze' (the owner asked to be reminded next week).

    An action is reminded at most once a week: it is due again at max(sent at + 7 days, snoozed until)."""

    __tablename__ = "action_reminder"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    action_id: Mapped[int] = mapped_column(BigId, ForeignKey("action.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(8))  # sent | snooze
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    until: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_action_reminder_action", "action_id", "until"),)


class JobRun(Base):
    """One run of a scheduled job for one period and target: the claim that makes posting exactly-once.

    A replica INSERTs the row (unique job, period, scope, channel) before doing anything visible; a crashed
    holder's claim is taken over once ``lease_expires_at`` has passed; ``steps_done`` and ``posted_ts`` record
    how far a multi-step post got, so a takeover resumes instead of posting the header again.
    """

    __tablename__ = "job_run"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    job: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(16))  # 2026-11 | 2026-11-23 | 2026-W48
    scope: Mapped[str] = mapped_column(String(64))  # force slug (or force:district), or "-" for global jobs
    channel: Mapped[str] = mapped_column(String(32))  # Slack channel ID, or "-" when the job posts nowhere
    status: Mapped[str] = mapped_column(String(16))  # claimed | posted | failed | abandoned | missed
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    scheduled_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    holder: Mapped[str | None] = mapped_column(String(96))
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    steps_done: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    posted_ts: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text)  # counts or a one-line result, never personal data
    claimed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("job", "period", "scope", "channel", name="uq_job_run_job_period_scope_channel"),
        Index("ix_job_run_status_next", "status", "next_attempt_at"),
    )


class SlackDelivery(Base):
    """An event Slack delivered, claimed once (key: its event_id) so that Slack's retry of it (``X-Slack-Retry-Num``)
    is acknowledged without doing the work twice — across gunicorn workers and replicas, hence a table rather than
    a per-process cache. Rows older than a day are purged as new ones are claimed (Slack retries within minutes)."""

    __tablename__ = "slack_delivery"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class AcceptedRequest(Base):
    """A `/mo` request acknowledged with "working on it" and answered later: kept from before the acknowledgement
    until it is answered, so that a process stopped in between (a deploy, a crash, a kill) does not lose it — another
    process answers it while Slack still takes an answer at its ``response_url`` (30 minutes), or records it expired.

    Claimed by one process at a time (``holder`` with a lease it renews while it works), so one answer per request
    across workers and replicas. ``trigger_id`` is Slack's for the invocation: a change made again for it (a
    request answered again after a restart) is made once (:mod:`bot.deliveries`). Personal data: who asked (Slack
    IDs) and what, as the audit log holds; the ``response_url`` is cleared once answered. Rows are deleted a day after
    they finish."""

    __tablename__ = "accepted_request"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    trigger_id: Mapped[str | None] = mapped_column(String(160))
    team_id: Mapped[str | None] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str | None] = mapped_column(String(32))
    channel_is_dm: Mapped[bool] = mapped_column(Boolean, default=False)
    force: Mapped[str | None] = mapped_column(String(32))  # as resolved when accepted, for the audit of an expiry
    text: Mapped[str] = mapped_column(Text)
    response_url: Mapped[str | None] = mapped_column(String(512))
    accepted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16))  # running | done | expired
    holder: Mapped[str | None] = mapped_column(String(96))
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str | None] = mapped_column(String(16))  # the answer's outcome, "undelivered" or "expired"

    __table_args__ = (Index("ix_accepted_request_status_lease", "status", "lease_expires_at"),)


class SlackFileImport(Base):
    """An export sent to the bot in Slack that waits for its sender: a ``--snapshot`` import waiting for Confirm
    (it would close open records), or a file whose dataset the bot could not tell, waiting for a button.

    Nothing of the file is kept: its Slack file id and SHA-256 only; on Confirm the bot downloads it again and
    imports it only if the bytes are the same. ``token`` (random) is what the buttons carry; a row is decided
    once (``state`` moves from ``pending`` by one conditional UPDATE) and is void after ``expires_at``."""

    __tablename__ = "slack_file_import"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # confirm | dataset
    state: Mapped[str] = mapped_column(String(16))  # pending | confirmed | cancelled | expired | chosen
    team_id: Mapped[str | None] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    force: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    thread_ts: Mapped[str] = mapped_column(String(32))
    file_id: Mapped[str] = mapped_column(String(32))
    file_name: Mapped[str] = mapped_column(String(255))
    file_url: Mapped[str] = mapped_column(String(1024))  # url_private_download: useless without the bot token
    file_sha256: Mapped[str] = mapped_column(String(64))
    dataset: Mapped[str | None] = mapped_column(String(16))
    as_of: Mapped[dt.date | None] = mapped_column(Date)
    snapshot: Mapped[bool] = mapped_column(Boolean, default=False)
    covers_from: Mapped[dt.date | None] = mapped_column(Date)  # --covers-from, as the sender declared it
    would_close: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Watch(Base):
    """A line one person asked to be told about (``/mo watch rui --district ipswich --older-than 12m --above 50``):
    after each import that changes the figure, a DM when the line is crossed, and not again until it is crossed
    back (``armed``). The figure is one of the `/mo` counts under the same filters; ``last_value`` is the figure
    as it was after the last import checked. Who and what only (Slack IDs, filters); never case data."""

    __tablename__ = "watch"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    force: Mapped[str] = mapped_column(String(32))
    team_id: Mapped[str | None] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    figure: Mapped[str] = mapped_column(String(16))  # wanted | suspects | bail | rui
    district: Mapped[str | None] = mapped_column(String(64))
    offence: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(String(32))
    older_than: Mapped[str | None] = mapped_column(String(8))  # "12m", "90d", "6w"
    kind: Mapped[str] = mapped_column(String(16))  # above | below | change_above
    threshold: Mapped[int] = mapped_column(Integer)  # a count, or a percentage for change_above
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    removed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_value: Mapped[int | None] = mapped_column(Integer)
    armed: Mapped[bool] = mapped_column(Boolean, default=True)
    fired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_watch_force_removed", "force", "removed_at"),)


class Disclosure(Base):
    """A case reference a `/mo … --list` answer showed: who, when, where, the command — and the reference only as an
    HMAC with the deployment's own key (:mod:`bot.disclosures`), so that the data-protection officer can list every
    consultation that disclosed one person's record (``/mo audit --reference REF``) while nobody reading this table
    or an export of it learns a reference. Kept as long as the audit log."""

    __tablename__ = "disclosure"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(64))
    team_id: Mapped[str | None] = mapped_column(String(32))
    channel_id: Mapped[str | None] = mapped_column(String(32))
    force: Mapped[str] = mapped_column(String(32))
    dataset: Mapped[str] = mapped_column(String(16))
    command: Mapped[str] = mapped_column(Text)
    ref_hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_disclosure_force_ref_hash", "force", "ref_hash"),)


class DeploymentSecret(Base):
    """Secrets this deployment makes for itself, by name (``disclosure``: the HMAC key of :class:`Disclosure`)."""

    __tablename__ = "deployment_secret"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
