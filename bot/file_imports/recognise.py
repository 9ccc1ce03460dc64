"""Which dataset an export is, from its header row alone: the datasets whose required columns are all there."""

from __future__ import annotations

from pathlib import Path

from bot.importing.columns import SCHEMAS, header_key, header_map
from bot.importing.readers import open_table

# The figures datasets a person sends monthly; the action log has its own required columns and is recognised too.
DATASETS = tuple(SCHEMAS)


def datasets_for_header(header: list[str]) -> tuple[str, ...]:
    """The datasets whose required columns (by name or alias) all appear in ``header``."""
    keys = {header_key(h) for h in header}
    out = []
    for dataset in DATASETS:
        names = {header_map(dataset).get(k) for k in keys}
        if all(c.name in names for c in SCHEMAS[dataset] if c.required):
            out.append(dataset)
    return tuple(out)


def recognise(path: Path) -> tuple[str, ...]:
    """The candidate datasets of the file at ``path`` (one: recognised; none or several: ask). Raises
    :class:`bot.importing.readers.FileRefused` for a file that cannot be read."""
    with open_table(path) as table:
        return datasets_for_header(table.header)
