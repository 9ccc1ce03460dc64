"""Load the demo through the real import path: write the exports, then import wanted, suspects, bail and the
seed action log exactly as an analyst's `mo-bot import` would (validation, staging, upsert, batches, audit)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from bot.audit import AuditEntry, record_separately
from bot.clock import today_in
from bot.config import ConfigError
from bot.demo.exports import DATASETS, FORCES, history_start, write_exports
from bot.importing.service import import_file
from bot.importing.types import ImportReport, ImportRequest
from bot.runtime import Runtime

SEED_ACTIONS_FILE = "actions-2022-07.csv"
SEED_ACTIONS_AS_OF = dt.date(2022, 7, 31)
SEED_ACTIONS_FORCE = "suffolk"


class DemoImportError(RuntimeError):
    """An import of the demo failed: a bug in the generator or the import path, never expected."""

    def __init__(self, report: ImportReport) -> None:
        first = report.errors[0] if report.errors else None
        why = report.refused or (
            f"{report.error_count} bad row(s); first: row {first.row} {first.column}={first.value!r}: {first.reason}"
            if first
            else "unknown"
        )
        super().__init__(f"demo import of {report.dataset} ({report.file_name}) failed: {why}")
        self.report = report


@dataclass
class DemoResult:
    end: dt.date  # the as-of date of every file: today in the force's timezone
    files: dict[str, Path]  # dataset -> the file imported (the action log is the packaged seed)
    reports: dict[str, ImportReport]  # dataset -> its import report, in import order
    seconds: dict[str, float] = field(default_factory=dict)  # "write" and each dataset's import


@contextmanager
def seed_actions_path() -> Iterator[Path]:
    """The packaged July 2022 action log (Appendix 1 of the report) as a real file path."""
    with resources.as_file(resources.files("bot") / "data" / SEED_ACTIONS_FILE) as p:
        yield p


def demo_end(runtime: Runtime) -> dt.date:
    return today_in(runtime.clock, runtime.config.force(SEED_ACTIONS_FORCE).timezone)


def check_forces(runtime: Runtime) -> None:
    missing = [f.slug for f in FORCES if f.slug not in runtime.config.forces]
    if missing:
        raise ConfigError(
            f"forces: the demo writes data for {', '.join(f.slug for f in FORCES)} (the built-in defaults) "
            f"but this configuration does not declare {', '.join(missing)}"
        )
    for f in FORCES:
        declared = set(runtime.config.force(f.slug).district_slugs())
        needed = {slug for slug, _, _ in f.districts}
        if not needed <= declared:
            raise ConfigError(f"forces.{f.slug}.districts: the demo needs {', '.join(sorted(needed - declared))}")


def _import(runtime: Runtime, request: ImportRequest, now: dt.datetime) -> ImportReport:
    with runtime.sessions() as session:
        report = import_file(session, runtime.config, request, now)
        if report.ok:
            session.commit()
            return report
        session.rollback()
    record_separately(
        runtime.sessions,
        AuditEntry(
            actor=request.actor,
            action="import",
            outcome="refused" if report.refused else "invalid",
            force=request.force,
            detail=f"demo import {request.dataset} {request.path.name}: nothing imported"[:2000],
        ),
        at=now,
    )
    raise DemoImportError(report)


def load_demo(
    runtime: Runtime, *, rows: int = 5000, seed: int = 7, workdir: Path, actor: str = "cli:demo"
) -> DemoResult:
    """Write the demo exports into ``workdir`` and import them, then the seed action log (force suffolk).

    Each dataset is one import and one commit, as if an analyst ran `mo-bot import` four times; running the
    demo again with the same seed on the same day changes nothing (the imports are idempotent upserts).
    """
    check_forces(runtime)
    end = demo_end(runtime)
    t0 = time.perf_counter()
    files = write_exports(workdir, rows=rows, seed=seed, end=end)
    seconds = {"write": time.perf_counter() - t0}
    reports: dict[str, ImportReport] = {}
    for dataset in DATASETS:
        t0 = time.perf_counter()
        # The synthetic world begins at the start of its 24 months: every case open since then is in the files.
        request = ImportRequest(
            dataset=dataset, path=files[dataset], as_of=end, actor=actor, covers_from=history_start(end)
        )
        reports[dataset] = _import(runtime, request, runtime.clock.now())
        seconds[dataset] = time.perf_counter() - t0
    with seed_actions_path() as path:
        t0 = time.perf_counter()
        # The seed is the July 2022 log: its achievements were complete by then, not on the day the demo runs.
        request = ImportRequest(
            dataset="actions", path=path, force=SEED_ACTIONS_FORCE, as_of=SEED_ACTIONS_AS_OF, actor=actor
        )
        reports["actions"] = _import(runtime, request, runtime.clock.now())
        seconds["actions"] = time.perf_counter() - t0
        files = {**files, "actions": path}
    return DemoResult(end=end, files=files, reports=reports, seconds=seconds)
