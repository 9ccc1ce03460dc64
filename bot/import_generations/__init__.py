"""How each process learns the latest import batch id of every force and dataset — its *import generation*,
part of every cached figure's key (``bot.figures.cache``): a new import adds an ``import_batch`` row, so its id
changes the key and every cached figure of that dataset is recomputed on next use, in every process.

- ``batches``: what the pieces share — an announced batch, the two queries of the latest ids, the NOTIFY channel.
- ``reader``: reading one id from the database — in a session (once per transaction), or on a kept connection per
  serving thread (the `/mo` hot path, outside any transaction).
- ``watcher``: PostgreSQL — the ids in memory, pushed by ``LISTEN``/``NOTIFY`` over one listening connection.
- ``poller``: SQLite — the ids in memory, read again at most every 0.1 s.
- ``sources``: which of the two an engine uses (one per engine and process), and forgetting them for tests.
- ``announce``: the import's side — ``NOTIFY`` in the import's transaction, and this process's own source told at
  commit. The import service calls it; nothing happens just because a module was imported.
"""
