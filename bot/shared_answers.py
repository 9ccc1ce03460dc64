"""Answers computed once per import generation and shared by every process and replica, in the database.

Each process keeps the answers it computed (bot/figures/cache.py), keyed by the import generation (the latest
import batch of the force's dataset). On its own that means every process and replica computes every answer once
after each import — at the design point's scale, a burst of the same heavy queries in each of them. So after an
import the standard answers are computed once, by whichever serving process claims the generation first
(commands/mo/warm.py), and written here; a process that misses its own cache reads the answer here before
computing it. An answer here is a pure function of its key, the data of its generation and the code that rendered
it: the key holds the question (sub-command, arguments, date, whether the data was stale), the generation is part of
the primary key, and the key's hash includes the code's fingerprint, so an answer is never read for data it was not
computed from, nor by another version of the bot. Rows of older generations are deleted when a
newer one is written; the retention purge deletes a force's (its rows leave answers about earlier months).

Only JSON is stored (the rendered text and blocks), never pickles: a row read back cannot run code.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.models import SharedAnswer, SharedAnswerWarm

# The cache keys whose values are shared: rendered answers, ``(text, blocks)``.
SHARED_HEADS: frozenset[str] = frozenset({"rendered"})


def shareable(key: Hashable) -> bool:
    return isinstance(key, tuple) and bool(key) and key[0] in SHARED_HEADS


def key_text(key: Hashable) -> str:
    """The key as text: its repr, which for the tuples, strings, numbers, dates and frozen dataclasses that keys
    hold is the same in every process."""
    return repr(key)


# The packages whose code renders an answer: the figures and their rendering (bot), the `/mo` handlers (commands)
# and the alerts and digests built the same way (jobs).
_RENDERING_PACKAGES = ("bot", "commands", "jobs")


@functools.cache
def code_fingerprint() -> str:
    """SHA-256 of this version's own source. A stored answer is what the code rendered, not only a function of the
    data: after a deploy that changes a figure's wording or rule, the answers stored for the current import under
    the old code must not be read until the next import replaces them, and replicas on two versions during a
    rolling deploy must not read each other's. So the fingerprint is part of every key's hash (read once per
    process: ~200 files, ~20 ms)."""
    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for package in _RENDERING_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def key_hash(key: Hashable) -> str:
    """The key's hash under this version of the code (:func:`code_fingerprint`)."""
    return hashlib.sha256(f"{code_fingerprint()}\n{key_text(key)}".encode()).hexdigest()


def encode(value: Any) -> str:
    text, blocks = value
    return json.dumps([text, blocks], separators=(",", ":"), ensure_ascii=False)


def decode(payload: str) -> tuple[str, list[dict[str, Any]]]:
    text, blocks = json.loads(payload)
    return text, blocks


@dataclass(frozen=True)
class Answer:
    key: Hashable
    value: Any


def read(session: Session, force: str, dataset: str, generation: int, key: Hashable) -> Any | None:
    """The shared answer to ``key`` for this generation, or None."""
    payload = session.scalar(
        select(SharedAnswer.payload).where(
            SharedAnswer.force == force,
            SharedAnswer.dataset == dataset,
            SharedAnswer.generation == generation,
            SharedAnswer.key_hash == key_hash(key),
        )
    )
    return decode(payload) if payload is not None else None


def _insert_ignoring_duplicates(session: Session, model: Any, rows: list[dict[str, Any]], keys: list[str]) -> int:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(model).values(rows).on_conflict_do_nothing(index_elements=keys)
    # RETURNING counts the rows inserted: a multi-row INSERT's rowcount is -1 with psycopg.
    return len(session.execute(stmt.returning(getattr(model, keys[0]))).all())


def write(
    session: Session, force: str, dataset: str, generation: int, answers: Sequence[Answer], now: dt.datetime
) -> int:
    """Store ``answers`` for this generation (an answer already there stays) and drop older generations'."""
    session.execute(
        delete(SharedAnswer).where(
            SharedAnswer.force == force, SharedAnswer.dataset == dataset, SharedAnswer.generation < generation
        )
    )
    rows = {
        key_hash(a.key): {
            "force": force,
            "dataset": dataset,
            "generation": generation,
            "key_hash": key_hash(a.key),
            "key": key_text(a.key)[:4000],
            "payload": encode(a.value),
            "created_at": now,
        }
        for a in answers
        if shareable(a.key)
    }
    if not rows:
        return 0
    return _insert_ignoring_duplicates(
        session, SharedAnswer, list(rows.values()), ["force", "dataset", "generation", "key_hash"]
    )


def claim(session: Session, force: str, dataset: str, generation: int, by: str, now: dt.datetime) -> bool:
    """Whether this caller is the one to compute the generation's answers (the first to ask, once)."""
    row = {"force": force, "dataset": dataset, "generation": generation, "claimed_by": by[:64], "claimed_at": now}
    return _insert_ignoring_duplicates(session, SharedAnswerWarm, [row], ["force", "dataset", "generation"]) == 1


def done(session: Session, force: str, dataset: str, generation: int, answers: int) -> None:
    warm = session.get(SharedAnswerWarm, (force, dataset, generation))
    if warm is not None:
        warm.answers = answers


def forget_generation(session: Session, force: str, dataset: str, generation: int) -> None:
    """Drop a generation's answers and its claim (an attempt to compute them that failed midway)."""
    for model in (SharedAnswer, SharedAnswerWarm):
        session.execute(
            delete(model).where(model.force == force, model.dataset == dataset, model.generation == generation)
        )


def claimed(session: Session) -> set[tuple[str, str, int]]:
    """Every generation some process has claimed."""
    rows = session.execute(select(SharedAnswerWarm.force, SharedAnswerWarm.dataset, SharedAnswerWarm.generation))
    return {(f, d, int(g)) for f, d, g in rows}


def forget_force(session: Session, force: str) -> None:
    """Drop a force's shared answers (its data changed without a new import: the retention purge)."""
    session.execute(delete(SharedAnswer).where(SharedAnswer.force == force))
