"""How fresh each dataset is: the latest import of a force's dataset, and whether it is older than the
interval the analysts promised to refresh it in (``refresh_days`` in the config). Every figures answer names
the import it rests on (``data_as_of``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import DATASETS, Config, Force
from bot.models import ImportBatch


@dataclass(frozen=True)
class Freshness:
    dataset: str
    imported_at: dt.datetime | None  # when the latest import ran (None: never imported)
    file_as_of: dt.date | None  # the as-of date of that import's file
    expected_days: int  # refresh interval from the config
    age_days: float | None  # days since imported_at, to two decimals
    stale: bool  # never imported, or older than expected_days


def latest_import(session: Session, force_slug: str, dataset: str) -> ImportBatch | None:
    """The most recent import of ``dataset`` for ``force_slug`` (ties on time broken by the later batch)."""
    return session.scalars(
        select(ImportBatch)
        .where(ImportBatch.force == force_slug, ImportBatch.dataset == dataset)
        .order_by(ImportBatch.imported_at.desc(), ImportBatch.id.desc())
        .limit(1)
    ).first()


def data_as_of(session: Session, force_slug: str, dataset: str) -> dt.datetime | None:
    batch = latest_import(session, force_slug, dataset)
    return batch.imported_at if batch is not None else None


def dataset_freshness(session: Session, config: Config, force: Force, now: dt.datetime) -> list[Freshness]:
    """One entry per dataset, in ``DATASETS`` order. ``now`` comes from the injected clock."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    out = []
    for dataset in DATASETS:
        expected = config.refresh_days[dataset]
        batch = latest_import(session, force.slug, dataset)
        if batch is None:
            out.append(Freshness(dataset, None, None, expected, None, True))
            continue
        age = now - batch.imported_at
        out.append(
            Freshness(
                dataset=dataset,
                imported_at=batch.imported_at,
                file_as_of=batch.as_of,
                expected_days=expected,
                age_days=round(age.total_seconds() / 86400, 2),
                stale=age > dt.timedelta(days=expected),
            )
        )
    return out
