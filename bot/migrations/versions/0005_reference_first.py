"""Case tables: the unique key leads with the reference, and on PostgreSQL references compare byte for byte

The (force, reference) key was the costliest part of the server's work in a million-row COPY: each insert compared
the force first (two values, always a tie) and then the reference through the locale's strcoll. Led by the
reference, compared with memcmp (COLLATE "C", which is also how SQLite's BINARY orders them), the same upkeep costs
half (measured: 2.7 -> 1.3 s of server time per million rows). Lookups are by both columns, so the order does not
matter to them. The constraint keeps its name.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 20:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("wanted", "suspect", "bail_period")


def _rekey(columns: list[str], collation: str | None) -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    for table in TABLES:
        name = f"uq_{table}_force_reference"
        # SQLite cannot alter a table constraint: batch mode rebuilds the table (indexes, partial ones included,
        # are reflected and made again); PostgreSQL alters it in place.
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(name, type_="unique")
            if pg:
                batch.alter_column("reference", type_=sa.String(64, collation=collation), existing_nullable=False)
            batch.create_unique_constraint(name, columns)


def upgrade() -> None:
    _rekey(["reference", "force"], "C")


def downgrade() -> None:
    _rekey(["force", "reference"], None)
