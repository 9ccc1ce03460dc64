"""The audit log cannot be rewritten, and tampering shows: TRUNCATE and REPLACE refused, every row hash-chained

The initial schema refused UPDATE and DELETE on ``audit_log``, but two rewrite paths were left: PostgreSQL's
TRUNCATE (not a row-level change, so no row trigger fires) and SQLite's ``INSERT OR REPLACE`` / ``REPLACE INTO``
(whose implicit delete skips the delete trigger unless ``recursive_triggers`` is on, which a connection of its own
need not set). Both are refused here, on every connection.

And the log is sealed: ``audit_seal`` holds one link per audit row, each hashing its row and the link before
(``bot.audit_chain``). The database writes the link in the same transaction as the row — PostgreSQL from a
deferred trigger at commit, under an advisory lock, SQLite from an AFTER INSERT trigger under its one write lock —
so the chain is right whichever process or replica writes, and whoever writes. The rows already in the log are
chained here, in id order, so the whole log verifies (measured: 200,000 rows in 3.7 s on PostgreSQL, 6.5 s on
SQLite; on PostgreSQL audit writes wait for the migration meanwhile). ``audit_seal`` is append-only like the log.

The link's hash is computed in SQL on PostgreSQL (``_link_hash`` below writes it out) and in Python on SQLite and
in ``mo-bot audit verify`` (``bot.audit_chain.link_hash``): the two must stay identical, field for field.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.audit_chain import GENESIS, SQLITE_FUNCTION, sqlite_link_hash

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# pg_advisory_xact_lock key of the chain's sequencer (above 2**32, so apart from the crc32 keys of the action log).
CHAIN_LOCK = 0x6D6F_6175_6469_74


def _field(expr: str) -> str:
    # bot.audit_chain._field: NULL is '~', any other value its length in UTF-8 bytes, ':' and the value.
    return f"CASE WHEN {expr} IS NULL THEN '~' ELSE octet_length(convert_to({expr}, 'UTF8'))::text || ':' || {expr} END"


def _link_hash(prev: str, n: str, row: str) -> str:
    """bot.audit_chain.link_hash in SQL: link ``n`` of audit row ``row`` after the hash ``prev`` (PL/pgSQL names)."""
    at = f"""to_char({row}.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')"""
    text_columns = ("actor", "team_id", "channel_id", "force", "action", "detail", "outcome")
    fields = [
        prev,
        f"{n}::text",
        f"{row}.id::text",
        at,
        *(f"{row}.{c}" for c in text_columns),
        f"{row}.records_disclosed::text",
        f"{row}.reference",
    ]
    joined = " || '|' || ".join(_field(f) for f in fields)
    return f"encode(sha256(convert_to({joined}, 'UTF8')), 'hex')"


def _pg_upgrade() -> None:
    schema = op.get_bind().execute(sa.text("SELECT current_schema()")).scalar_one()
    s = '"' + schema.replace('"', '""') + '"'
    # No audit row may be written between the chaining of the existing rows and the trigger that chains new ones.
    op.execute("LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE")
    op.execute(
        "CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
    )
    # TRUNCATE is not a row-level change: only a statement trigger sees it.
    op.execute(
        "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_seal_no_change BEFORE UPDATE OR DELETE ON audit_seal "
        "FOR EACH ROW EXECUTE FUNCTION audit_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_seal_no_truncate BEFORE TRUNCATE ON audit_seal "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()"
    )
    # Runs as the tables' owner (SECURITY DEFINER): the bot's role needs no right to write links itself. Deferred,
    # so the lock is taken when the row's transaction commits and held only until it has, after every other lock.
    # The hash is written out in the function and assigned to a variable, which PL/pgSQL evaluates without starting
    # the executor: of the ways measured (backend CPU per row), the cheapest — the trigger costs ~35 µs a row in all,
    # a call of a hash function or the hash inside the INSERT 10–30 µs more.
    op.execute(
        "CREATE FUNCTION audit_log_seal() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER "
        "SET search_path = pg_catalog, pg_temp AS $$ "
        "DECLARE n bigint; prev text; "
        "BEGIN "
        f"PERFORM pg_advisory_xact_lock({CHAIN_LOCK}); "
        f"SELECT l.seq, l.hash INTO n, prev FROM {s}.audit_seal l ORDER BY l.seq DESC LIMIT 1; "
        f"n := coalesce(n, 0) + 1; prev := coalesce(prev, '{GENESIS}'); "
        f"prev := {_link_hash('prev', 'n', 'NEW')}; "
        f"INSERT INTO {s}.audit_seal (seq, audit_id, hash) VALUES (n, NEW.id, prev); "
        "RETURN NULL; "
        "END $$"
    )
    # The rows already in the log, in id order.
    op.execute(
        f"DO $$ DECLARE a {s}.audit_log; n bigint := 0; prev text := '{GENESIS}'; BEGIN "
        f"FOR a IN SELECT * FROM {s}.audit_log ORDER BY id LOOP "
        f"n := n + 1; prev := {_link_hash('prev', 'n', 'a')}; "
        f"INSERT INTO {s}.audit_seal (seq, audit_id, hash) VALUES (n, a.id, prev); "
        "END LOOP; END $$"
    )
    op.execute(
        "CREATE CONSTRAINT TRIGGER audit_log_seal AFTER INSERT ON audit_log "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_log_seal()"
    )


def _abort(table: str) -> str:
    return f"SELECT RAISE(ABORT, '{table} is append-only')"


def _sqlite_upgrade() -> None:
    bind = op.get_bind()
    rows = bind.exec_driver_sql(
        "SELECT id, at, actor, team_id, channel_id, force, action, detail, outcome, records_disclosed, reference "
        "FROM audit_log ORDER BY id"
    )
    seal = sa.table("audit_seal", sa.column("seq"), sa.column("audit_id"), sa.column("hash"))
    prev, n = GENESIS, 0
    while chunk := rows.fetchmany(10_000):  # a long log is never held in memory whole
        links = []
        for r in chunk:
            n += 1
            prev = sqlite_link_hash(prev, n, *r)
            links.append({"seq": n, "audit_id": r[0], "hash": prev})
        op.bulk_insert(seal, links)
    # INSERT OR REPLACE / REPLACE INTO: the row is refused before the replace could delete the one it names (the
    # delete trigger fires for a REPLACE only under recursive_triggers, which another connection may not set).
    op.execute(
        "CREATE TRIGGER audit_log_no_replace BEFORE INSERT ON audit_log "
        f"WHEN EXISTS (SELECT 1 FROM audit_log WHERE id = NEW.id) BEGIN {_abort('audit_log')}; END"
    )
    # A BEFORE INSERT trigger sees id -1 for a row whose id is not given, so no row may have an id below 1. Then the
    # link, under the write lock this writer holds until it commits.
    op.execute(
        "CREATE TRIGGER audit_log_seal AFTER INSERT ON audit_log BEGIN "
        "SELECT RAISE(ABORT, 'audit_log ids start at 1') WHERE NEW.id < 1; "
        "INSERT INTO audit_seal (seq, audit_id, hash) "
        f"SELECT n, NEW.id, {SQLITE_FUNCTION}(p, n, NEW.id, NEW.at, NEW.actor, NEW.team_id, NEW.channel_id, "
        "NEW.force, NEW.action, NEW.detail, NEW.outcome, NEW.records_disclosed, NEW.reference) "
        "FROM (SELECT coalesce(max(seq), 0) + 1 AS n, "
        f"coalesce((SELECT hash FROM audit_seal ORDER BY seq DESC LIMIT 1), '{GENESIS}') AS p FROM audit_seal); "
        "END"
    )
    op.execute(f"CREATE TRIGGER audit_seal_no_update BEFORE UPDATE ON audit_seal BEGIN {_abort('audit_seal')}; END")
    op.execute(f"CREATE TRIGGER audit_seal_no_delete BEFORE DELETE ON audit_seal BEGIN {_abort('audit_seal')}; END")
    # Only the next link, of a row that exists and has none: no REPLACE of a link, and no link made ahead for a row
    # not yet written (that row could then never be written).
    op.execute(
        "CREATE TRIGGER audit_seal_next_only BEFORE INSERT ON audit_seal "
        "WHEN NEW.seq IS NOT (SELECT coalesce(max(seq), 0) + 1 FROM audit_seal) "
        "OR NOT EXISTS (SELECT 1 FROM audit_log WHERE id = NEW.audit_id) "
        "OR EXISTS (SELECT 1 FROM audit_seal WHERE audit_id = NEW.audit_id) "
        f"BEGIN {_abort('audit_seal')}; END"
    )


def upgrade() -> None:
    op.create_table(
        "audit_seal",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False),
        sa.Column("audit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_seal")),
        sa.UniqueConstraint("audit_id", name=op.f("uq_audit_seal_audit_id")),
    )
    if op.get_bind().dialect.name == "postgresql":
        _pg_upgrade()
    else:
        _sqlite_upgrade()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_seal ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP TABLE audit_seal")
        op.execute("DROP FUNCTION IF EXISTS audit_log_seal()")
        op.execute("DROP FUNCTION IF EXISTS audit_append_only()")
    else:
        for trigger in ("audit_log_no_replace", "audit_log_seal"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.drop_table("audit_seal")
