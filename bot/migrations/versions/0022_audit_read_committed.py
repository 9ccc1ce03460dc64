"""Audit rows are written in READ COMMITTED transactions only (PostgreSQL)

The seal of an audit row (migration 0006, ``bot.audit_chain``) reads the chain's last link when the row's
transaction commits, under the chain's lock. In READ COMMITTED that read sees every link committed before the lock
was granted. A REPEATABLE READ or SERIALIZABLE transaction reads from the snapshot it took at its first statement:
if any other audit row committed after that, the seal does not see its link, reuses its number and the commit fails
on the link's primary key — taking everything else the transaction wrote with it, and only when someone else
happened to be audited meanwhile. Such a transaction is now refused at its first INSERT into ``audit_log``, with a
message that says why, every time rather than now and then. SQLite has one writer at a time: nothing to refuse.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 20:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE FUNCTION audit_log_read_committed() RETURNS trigger LANGUAGE plpgsql "
        "SET search_path = pg_catalog, pg_temp AS $$ "
        "BEGIN "
        "IF current_setting('transaction_isolation') <> 'read committed' THEN "
        "RAISE EXCEPTION 'audit rows are written in READ COMMITTED transactions only, not %', "
        "upper(current_setting('transaction_isolation')) "
        "USING HINT = 'The seal reads the audit chain''s last link at commit, which an older snapshot cannot see: "
        "write the audit row in a transaction of its own.'; "
        "END IF; "
        "RETURN NULL; "
        "END $$"
    )
    # Once per INSERT statement, not per row: a batch of answers' rows pays for one call.
    op.execute(
        "CREATE TRIGGER audit_log_read_committed BEFORE INSERT ON audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_read_committed()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER audit_log_read_committed ON audit_log")
    op.execute("DROP FUNCTION audit_log_read_committed()")
