"""Benchmark: figures with history — 1,000,000 rows per dataset and 12 monthly revisions of 5 % of open rows.

    python -m bench.bench_history [--rows 1000000] [--db sqlite|postgres|both] [--repeat 10] [--quick] [--out FILE]

The three tables are filled as in ``bench.bench_figures`` (same generator, same spread). Then twelve monthly
revisions, one per month end up to the as-of date, each touching a different 5 % of the rows still open: the
replaced version goes to the history table valid until the revision date and the row gets the revision as its
``valid_from`` — the same two statements the import's merge runs (bot/importing/merge.py), issued directly (the
import path itself is measured by ``bench.bench_import``). A wanted revision records a review on that day, a
bail revision extends the bail end date by one 3-month rung, a suspect revision re-states the row.

Timed, after ANALYZE (and VACUUM on PostgreSQL): every figures query of ``bench.bench_figures`` at the as-of
date (today: the history is never read), and the snapshot figures 45 days earlier (revised since: counted as
known then); medians and spread in ms, with the same-run floors of bench_figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, literal_column, text
from sqlalchemy.orm import Session

from bench.bench_figures import AS_OF, _cases, _generate
from bench.common import emit, fresh_database, postgres_available, spread, time_session_calls
from bot.config import load_config
from bot.dates import add_months
from bot.db import make_engine
from bot.figures import Filters, bail_figures, monthly_series, suspect_figures, wanted_figures
from bot.figures.day_counts import apply_moves, combine, row_moves
from bot.figures.history import HISTORY_MODELS
from bot.figures.revisions import rebuild_revision_deltas
from bot.figures.source import SOURCES
from bot.models import SINCE_EVER_SQL

PAST = AS_OF - dt.timedelta(days=45)
LONG_AGO = add_months(AS_OF, -11) + dt.timedelta(days=3)
TABLES = {
    "wanted": ("wanted_history", "last_reviewed_on = :rev"),
    "suspect": ("suspect_history", None),
    "bail_period": ("bail_period_history", "bail_end_on = bail_end_on + 91"),
}
DATASETS = {"wanted": "wanted", "suspect": "suspects", "bail_period": "bail"}


def _history_columns(engine: Engine, table: str) -> list[str]:
    with engine.connect() as c:
        if engine.dialect.name == "postgresql":
            q = "SELECT column_name FROM information_schema.columns WHERE table_name = :t ORDER BY ordinal_position"
            cols = [r[0] for r in c.execute(text(q), {"t": table})]
        else:
            cols = [r[1] for r in c.execute(text(f"PRAGMA table_info({table})"))]
    return [x for x in cols if x not in ("id", "case_id", "valid_from", "valid_to")]


def revise(engine: Engine, review_days: int) -> tuple[dict[str, int], dict[str, Any]]:
    """Twelve monthly revisions of 5 % of the open rows each, each followed by what the import does after its
    merge to keep the past-date corrections (bot/figures/revisions.py: the changes of its own revisions, per
    force). Returns the history rows written per table, and the time that upkeep took and the rows it wrote."""
    pg = engine.dialect.name == "postgresql"
    out = {}
    upkeep: list[float] = []
    delta_rows: dict[str, int] = {}
    for table, (hist, change) in TABLES.items():
        cols = _history_columns(engine, hist)
        only = "closed_on IS NULL" if table != "bail_period" else "ended_on IS NULL AND kind = 'bail'"
        for m in range(1, 13):
            rev = add_months(AS_OF, m - 12)
            params = {"rev": rev if pg else rev.isoformat(), "k": m % 20}
            where = f"{only} AND id % 20 = :k AND valid_from < :rev"
            sets = "valid_from = :rev" + (f", {change}" if change else "")
            if table == "bail_period" and not pg:
                sets = "valid_from = :rev, bail_end_on = date(bail_end_on, '+91 days')"
            with engine.begin() as c:
                c.execute(
                    text(
                        f"INSERT INTO {hist} (case_id, {', '.join(cols)}, valid_from, valid_to) "
                        f"SELECT id, {', '.join(cols)}, valid_from, :rev FROM {table} WHERE {where}"
                    ),
                    params,
                )
                c.execute(text(f"UPDATE {table} SET {sets} WHERE {where}"), params)
            with Session(engine) as session:
                t0 = time.perf_counter()
                for force in ("suffolk", "norfolk"):
                    rebuild_revision_deltas(session, DATASETS[table], force, review_days=review_days, since=rev)
                    # The day counts take what the revision changed, as a merge's do: the versions written
                    # (valid from the revision) less those replaced (valid until it).
                    ds = DATASETS[table]
                    m, h = SOURCES[ds].model, HISTORY_MODELS[ds]
                    written = [m.force == force, m.valid_from > literal_column(SINCE_EVER_SQL), m.valid_from == rev]
                    moves = row_moves(session, ds, written, review_days)
                    old = row_moves(session, ds, [h.force == force, h.valid_to == rev], review_days, model=h)
                    apply_moves(session, ds, force, combine(moves, old, -1), review_days=review_days)
                session.commit()
                upkeep.append(time.perf_counter() - t0)
        with engine.connect() as c:
            delta_rows[table] = int(
                c.execute(
                    text("SELECT count(*) FROM revision_delta WHERE dataset = :d"), {"d": DATASETS[table]}
                ).scalar_one()
            )
        with engine.connect() as c:
            out[hist] = int(c.execute(text(f"SELECT count(*) FROM {hist}")).scalar_one())
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text("ANALYZE"))
        if pg:
            for t in (*TABLES, *(h for h, _ in TABLES.values()), "revision_delta"):
                c.execute(text(f"VACUUM {t}"))
    return out, {"upkeep_per_revision": spread(upkeep), "revision_delta_rows": delta_rows}


def measure(url: str, case: str, rows: int, repeat: int) -> dict[str, Any]:
    engine = make_engine(url)
    config = load_config(database_url=url)
    t0 = time.perf_counter()
    _generate(engine, rows)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    history_rows, upkeep = revise(engine, config.wanted_review_days)
    revise_s = time.perf_counter() - t0
    suffolk = config.force("suffolk")
    cases = dict(_cases(config))
    cases |= {
        "wanted 45 days ago (revised since)": lambda s: wanted_figures(s, suffolk, PAST, review_days=28),
        "suspects 45 days ago (revised since)": lambda s: suspect_figures(s, suffolk, PAST),
        "bail 45 days ago (revised since)": lambda s: bail_figures(
            s, suffolk, PAST, ending_within_days=config.bail_ending_soon_days
        ),
        "wanted 45 days ago --district ipswich": lambda s: wanted_figures(
            s, suffolk, PAST, Filters(district="ipswich"), review_days=28
        ),
        "wanted 11 months ago (11 revisions since)": lambda s: wanted_figures(s, suffolk, LONG_AGO, review_days=28),
        "bail 11 months ago (11 revisions since)": lambda s: bail_figures(
            s, suffolk, LONG_AGO, ending_within_days=config.bail_ending_soon_days
        ),
        "series bail 13m from 11 months ago": lambda s: monthly_series(s, "bail", suffolk, LONG_AGO, 13, kind="bail"),
    }
    floors = {
        "floor: count(*) full table": "SELECT count(*) FROM wanted",
        "floor: range count, every suffolk entry": "SELECT count(*) FROM wanted WHERE force = 'suffolk'",
    }
    results: list[dict[str, Any]] = []
    for name, sql in floors.items():
        with engine.connect() as c:
            for _ in range(2):
                c.execute(text(sql)).scalar_one()
            samples = []
            for _ in range(repeat):
                t = time.perf_counter()
                c.execute(text(sql)).scalar_one()
                samples.append(time.perf_counter() - t)
        results.append({"db": case, "query": name, **spread(samples)})
    for name, fn in cases.items():
        with Session(engine) as s:
            results.append({"db": case, "query": name, **time_session_calls(s, fn, repeat=repeat)})
    engine.dispose()
    return {
        "db": case,
        "build_seconds": round(build_s, 1),
        "revise_seconds": round(revise_s, 1),
        "history_rows": history_rows,
        "past_date_upkeep": upkeep,
        "results": results,
    }


def _markdown(runs: list[dict[str, Any]]) -> str:
    lines = ["| db | query | p50 ms | p90 ms | min ms | max ms |", "|---|---|---:|---:|---:|---:|"]
    for run in runs:
        for r in run["results"]:
            lines.append(
                f"| {r['db']} | {r['query']} | {r['p50_ms']} | {r['p90_ms']} | {r['min_ms']} | {r['max_ms']} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    p.add_argument("--rows", type=int, default=1_000_000, help="rows per table (default 1,000,000)")
    p.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--repeat", type=int, default=10, help="timed calls per query after 2 warm-up calls")
    p.add_argument("--quick", action="store_true", help="20,000 rows and 5 repeats")
    p.add_argument("--out", type=Path, help="write the JSON result here (default: stdout)")
    args = p.parse_args(argv)
    rows, repeat = (20_000, 5) if args.quick else (args.rows, args.repeat)
    kinds = ["sqlite", "postgresql"] if args.db == "both" else ["postgresql" if args.db == "postgres" else "sqlite"]
    runs = []
    for kind in kinds:
        if kind == "postgresql" and not postgres_available():
            runs.append({"db": kind, "skipped": "PostgreSQL not reachable", "results": []})
            continue
        with fresh_database(kind) as url:
            runs.append(measure(url, kind, rows, repeat))
    emit(
        {
            "name": "history",
            "rows_per_table": rows,
            "repeat": repeat,
            "results": [r for run in runs for r in run["results"]],
            "runs": [{k: v for k, v in run.items() if k != "results"} for run in runs],
            "markdown": _markdown(runs),
        },
        args.out,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
