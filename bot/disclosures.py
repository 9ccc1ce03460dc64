"""Which case references each `--list` answer disclosed, so that every consultation that disclosed one person's
record can be listed (DPA 2018 s.62; ``/mo audit --reference REF``) — with the reference kept only as an HMAC.

Why an HMAC with a key of the deployment's own (``deployment_secret``, made with a random value by migration 0011,
or on first use, and never changed after: migration 0013's triggers) rather than the reference itself or a plain hash:

- the audit records outlive the case rows (retention purges closed cases; the audit log is kept), and a list of
  references kept in clear for years would be a second copy of the case data the purge removes;
- a plain SHA-256 of a reference is reversible by trying every reference of the force's format (``37/12345/24``
  is about 10⁹ tries: seconds); with the key the same search needs the key, which is not in the exports and is not
  readable by anyone given only the audit tables;
- the DPO asking about REF computes the same HMAC, so the query is exact (an index on force and hash).

What it does not protect against: someone holding the whole database (key included) can still try every reference,
as they could read the case tables themselves while the rows are there. See docs/dpo.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Iterator

from sqlalchemy import insert, literal, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from bot.models import DeploymentSecret, Disclosure

KEY_NAME = "disclosure"


def deployment_key(session: Session) -> bytes:
    """The deployment's HMAC key (made once, atomically, if it is missing)."""
    found = session.get(DeploymentSecret, KEY_NAME)
    if found is None:
        value = secrets.token_hex(32)
        if session.get_bind().dialect.name == "postgresql":
            session.execute(
                postgresql.insert(DeploymentSecret)
                .values(name=KEY_NAME, value=value)
                .on_conflict_do_nothing(index_elements=["name"])
            )
        else:
            # On SQLite a trigger refuses any insert naming an existing key (it would REPLACE the key), before ON
            # CONFLICT is looked at: so the row is inserted only if absent, in the one statement.
            exists = select(DeploymentSecret.name).where(DeploymentSecret.name == KEY_NAME).exists()
            source = select(literal(KEY_NAME), literal(value)).where(~exists)
            session.execute(insert(DeploymentSecret).from_select(["name", "value"], source))
        found = session.get(DeploymentSecret, KEY_NAME, populate_existing=True)
        assert found is not None
    return bytes.fromhex(found.value)


def ref_hash(key: bytes, force: str, reference: str) -> str:
    """The HMAC of one force's reference, as typed or as stored (case and surrounding spaces do not matter)."""
    message = f"{force}\x00{reference.strip().upper()}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def record_disclosures(
    session: Session,
    *,
    force: str,
    dataset: str,
    actor: str,
    team_id: str | None,
    channel_id: str | None,
    command: str,
    references: Iterable[str],
    at: dt.datetime,
) -> int:
    """One row per reference shown, in the caller's transaction (committed with the answer's audit row)."""
    key = deployment_key(session)
    rows = [
        Disclosure(
            at=at,
            actor=actor[:64],
            team_id=team_id,
            channel_id=channel_id,
            force=force,
            dataset=dataset,
            command=command[:1000],
            ref_hash=ref_hash(key, force, r),
        )
        for r in references
    ]
    session.add_all(rows)
    return len(rows)


def consultations_of(
    session: Session, force: str, reference: str, start: dt.datetime, end: dt.datetime | None = None
) -> Iterator[Disclosure]:
    """Every disclosure of ``reference`` of ``force`` from ``start`` (to ``end``), oldest first."""
    h = ref_hash(deployment_key(session), force, reference)
    stmt = select(Disclosure).where(Disclosure.force == force, Disclosure.ref_hash == h, Disclosure.at >= start)
    if end is not None:
        stmt = stmt.where(Disclosure.at < end)
    yield from session.scalars(stmt.order_by(Disclosure.id))
