"""The `mo-bot` executable: :func:`commands.cli.main`, with one thing done before the command's modules load.

`mo-bot import DATASET FILE` needs the file's SHA-256 before anything else (an unchanged file is recorded without
being read again), and for a 10M-row export hashing takes about as long as loading the command's modules
(SQLAlchemy, the models, the importer: ~0.6 s each here). So the hash starts on a second thread first, and the
command uses it if FILE is the file it imports (:class:`bot.importing.readers.HashStarted`); hashlib releases the
GIL on each block, so the two run side by side. The arguments are only glanced at here — the command's own parser
reads them — so a guess that misses (no such file, another command) costs nothing: the import hashes as before.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

# `mo-bot import`'s options that take a value (the others are switches); `--config` is mo-bot's own.
_VALUED = frozenset({"--config", "--force", "--as-of", "--covers-from"})


def import_file_argument(argv: Sequence[str]) -> Path | None:
    """FILE of ``mo-bot [--config C] import [options] DATASET FILE [options]`` when it names a file, else None."""
    words: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg.startswith("-"):
            skip = arg in _VALUED  # "--as-of=2026-11-01" carries its value
        else:
            words.append(arg)
    if len(words) < 3 or words[0] != "import":
        return None
    path = Path(words[2])
    return path if path.is_file() else None


def main() -> int:
    argv = sys.argv[1:]
    path = import_file_argument(argv)
    early = None
    if path is not None:
        from bot.importing.readers import HashStarted

        early = HashStarted.start(path)
    from commands.cli import main as run

    return run(argv, early_hash=early)
