"""import_batch.settings_sha256: what, besides the file's bytes, decided what an import wrote — so that the same
file imported again under the same settings is known to change nothing, and only its new as-of date is recorded.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Not batch mode: on SQLite that would rebuild import_batch, which the case tables reference. Adding a nullable
    # column, and dropping it, work in place on both databases (SQLite since 3.35).
    op.add_column("import_batch", sa.Column("settings_sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE import_batch DROP COLUMN settings_sha256")
