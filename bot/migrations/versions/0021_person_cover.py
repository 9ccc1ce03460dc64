"""The open rows by person cover the people questions: ``ix_<table>_person`` also holds the opened date, the
filters' columns (bail: its kind and end date) and the closed date (NULL in every entry, but SQLite reads an index
as covering only when it names every column of the query, the partial index's own condition included). So a
distinct count of people that the forward aggregates cannot answer (``--older-than``, a past date) reads the index
alone instead of a table page per open row.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 14:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, index stem, closed column, the columns covered after force and person_ref)
PERSON_INDEXES = (
    ("wanted", "wanted", "closed_on", ("circulated_on", "district", "reason", "offence", "closed_on")),
    ("suspect", "suspect", "closed_on", ("identified_on", "district", "offence", "closed_on")),
    ("bail_period", "bail", "ended_on", ("kind", "started_on", "bail_end_on", "district", "offence", "ended_on")),
)


def _recreate(covered: bool) -> None:
    for table, stem, closed, cover in PERSON_INDEXES:
        where = sa.text(f"{closed} IS NULL AND person_ref IS NOT NULL")
        columns = ["force", "person_ref", *(cover if covered else ())]
        op.drop_index(f"ix_{stem}_person", table_name=table)
        op.create_index(f"ix_{stem}_person", table, columns, sqlite_where=where, postgresql_where=where)


def upgrade() -> None:
    _recreate(covered=True)


def downgrade() -> None:
    _recreate(covered=False)
