"""What one merge of a force's dataset wrote and replaced, for the counts it keeps (bot/figures/day_counts.py,
bot/figures/ahead.py): the versions it wrote, as conditions on the case table — the rows it revised (``valid_from``
its as-of date, through the partial index of revised rows) and the rows it added (above the largest id before it)
— and the versions it replaced, as a model over the temporary table the merge keeps them in (bot/importing/merge.py),
shaped like the case table."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, MetaData, Table, literal_column
from sqlalchemy.orm import aliased

from bot.figures.source import SOURCES
from bot.models import SINCE_EVER_SQL


@dataclass(frozen=True)
class Merged:
    dataset: str
    force: str
    batch_id: int  # the merge's import batch
    as_of: dt.date
    revised: list[Any]  # conditions on the case table
    added: list[Any]
    replaced: Any  # the replaced versions, as an aliased case model


def merged(
    dataset: str, force: str, batch_id: int, as_of: dt.date, id_before: int | None, replaced_table: str
) -> Merged:
    m = SOURCES[dataset].model
    mine = [m.force == force, m.import_batch_id == batch_id]
    revised = [*mine, m.valid_from > literal_column(SINCE_EVER_SQL), m.valid_from == as_of]
    first_versions = m.valid_from == literal_column(SINCE_EVER_SQL)  # the table was empty: every row is new
    added = [*mine, m.id > id_before] if id_before is not None else [*mine, first_versions]
    table = m.__table__
    old = Table(replaced_table, MetaData(), *(Column(c.name, c.type) for c in table.columns))
    return Merged(dataset, force, batch_id, as_of, revised, added, aliased(m, old, adapt_on_names=True))
