"""The scheduler's heartbeat: how the web workers of `mo-bot serve` (separate processes) know whether the scheduler
that serve runs beside them is alive, for ``/healthz``.

The scheduler process rewrites a small JSON file every :data:`EVERY_S` seconds (atomically: a temporary file
renamed over it) with its state and the next time a job is due; a reader calls the scheduler healthy while the
file says ``running`` (or ``starting``, just after serve started it) and is no older than :data:`STALE_AFTER_S`.
It holds no personal data: a pid, times and job names. This module imports nothing of the app, so the WSGI app
and the scheduler process can both use it cheaply.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

EVERY_S = 10.0
STALE_AFTER_S = 60.0


def write(path: Path, state: str, **extra: Any) -> None:
    body = json.dumps({"state": state, "pid": os.getpid(), "at": time.time(), **extra})
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(body, encoding="utf-8")
    os.replace(tmp, path)


def read(path: Path, now: float | None = None) -> tuple[bool, str]:
    """(healthy, what to show) from the heartbeat at ``path``."""
    try:
        beat = json.loads(path.read_text(encoding="utf-8"))
        state, at = str(beat["state"]), float(beat["at"])
    except (OSError, ValueError, KeyError, TypeError):
        return False, "not running (no heartbeat)"
    age = (time.time() if now is None else now) - at
    if age > STALE_AFTER_S:
        return False, f"not running (last heartbeat {age:.0f}s ago)"
    if state == "running":
        nxt = beat.get("next_run")
        return True, f"running (next job {nxt})" if nxt else "running"
    if state == "starting":
        return True, "starting"
    return False, state[:80]
