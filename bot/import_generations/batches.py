"""What the import-generation pieces share: an import batch as announced, the queries of the latest batch ids, and
the PostgreSQL channel (and payload) that announces a committed import."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select

from bot.models import ImportBatch

NOTIFY_CHANNEL = "mo_import_batch"

_batch = ImportBatch.__table__.c

# The latest batch id of one force and dataset (NULL before any import).
LATEST_ONE = select(func.max(_batch.id)).where(
    _batch.force == bindparam("force"), _batch.dataset == bindparam("dataset")
)

# The latest batch id of every force and dataset, in one grouped read.
LATEST_ALL = select(_batch.force, _batch.dataset, func.max(_batch.id)).group_by(_batch.force, _batch.dataset)


@dataclass(frozen=True, slots=True)
class ImportedBatch:
    """One import batch of a force's dataset, as its import announces it."""

    force: str
    dataset: str
    batch_id: int

    @property
    def key(self) -> tuple[str, str]:
        return (self.force, self.dataset)

    def payload(self) -> str:
        """The NOTIFY payload (forces and datasets are slugs: no tab in them)."""
        return f"{self.force}\t{self.dataset}\t{self.batch_id}"

    @classmethod
    def from_payload(cls, payload: str) -> ImportedBatch:
        force, dataset, batch_id = payload.split("\t")
        return cls(force, dataset, int(batch_id))


Latest = dict[tuple[str, str], int]  # (force, dataset) -> latest batch id


def latest_from_rows(rows: Iterable[tuple[str, str, int | None]]) -> Latest:
    """:data:`LATEST_ALL`'s rows as a mapping."""
    return {(force, dataset): int(batch_id or 0) for force, dataset, batch_id in rows}
