"""disclosure is append-only like the audit log, and the deployment's secret is written once

``disclosure`` (which case references each `--list` answer showed, as HMACs) is the half of the audit trail that
``/mo audit --reference`` reads: UPDATE, DELETE and TRUNCATE are refused on it as on ``audit_log`` (PostgreSQL row
and statement triggers; SQLite row triggers, and a REPLACE of an existing id refused before its implicit delete).
``deployment_secret`` holds the HMAC key: once a row is written it cannot be changed, deleted, replaced or
truncated — a new key would silently orphan every disclosure recorded under the old one. Rows already in both
tables are kept as they are.

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-06 04:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SECRET_MESSAGE = "deployment_secret is written once and never changed"


def _pg_upgrade() -> None:
    # audit_append_only() (migration 0006) raises "<table> is append-only".
    op.execute(
        "CREATE TRIGGER disclosure_no_change BEFORE UPDATE OR DELETE ON disclosure "
        "FOR EACH ROW EXECUTE FUNCTION audit_append_only()"
    )
    op.execute(
        "CREATE TRIGGER disclosure_no_truncate BEFORE TRUNCATE ON disclosure "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()"
    )
    op.execute(
        "CREATE FUNCTION deployment_secret_fixed() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN RAISE EXCEPTION '{SECRET_MESSAGE}'; END $$"
    )
    op.execute(
        "CREATE TRIGGER deployment_secret_no_change BEFORE UPDATE OR DELETE ON deployment_secret "
        "FOR EACH ROW EXECUTE FUNCTION deployment_secret_fixed()"
    )
    op.execute(
        "CREATE TRIGGER deployment_secret_no_truncate BEFORE TRUNCATE ON deployment_secret "
        "FOR EACH STATEMENT EXECUTE FUNCTION deployment_secret_fixed()"
    )


def _sqlite_upgrade() -> None:
    abort = "SELECT RAISE(ABORT, 'disclosure is append-only')"
    op.execute(f"CREATE TRIGGER disclosure_no_update BEFORE UPDATE ON disclosure BEGIN {abort}; END")
    op.execute(f"CREATE TRIGGER disclosure_no_delete BEFORE DELETE ON disclosure BEGIN {abort}; END")
    # INSERT OR REPLACE / REPLACE INTO deletes the row it replaces without the delete trigger (unless the connection
    # set recursive_triggers): refused before it can.
    op.execute(
        "CREATE TRIGGER disclosure_no_replace BEFORE INSERT ON disclosure "
        f"WHEN EXISTS (SELECT 1 FROM disclosure WHERE id = NEW.id) BEGIN {abort}; END"
    )
    fixed = f"SELECT RAISE(ABORT, '{SECRET_MESSAGE}')"
    op.execute(f"CREATE TRIGGER deployment_secret_no_update BEFORE UPDATE ON deployment_secret BEGIN {fixed}; END")
    op.execute(f"CREATE TRIGGER deployment_secret_no_delete BEFORE DELETE ON deployment_secret BEGIN {fixed}; END")
    op.execute(
        "CREATE TRIGGER deployment_secret_no_replace BEFORE INSERT ON deployment_secret "
        f"WHEN EXISTS (SELECT 1 FROM deployment_secret WHERE name = NEW.name) BEGIN {fixed}; END"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _pg_upgrade()
    else:
        _sqlite_upgrade()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for trigger, table in (
            ("disclosure_no_change", "disclosure"),
            ("disclosure_no_truncate", "disclosure"),
            ("deployment_secret_no_change", "deployment_secret"),
            ("deployment_secret_no_truncate", "deployment_secret"),
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS deployment_secret_fixed()")
    else:
        for trigger in (
            "disclosure_no_update",
            "disclosure_no_delete",
            "disclosure_no_replace",
            "deployment_secret_no_update",
            "deployment_secret_no_delete",
            "deployment_secret_no_replace",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
