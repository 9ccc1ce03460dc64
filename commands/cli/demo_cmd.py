"""`mo-bot demo [--rows N] [--seed S] [--out DIR] [--keep-files]`: load realistic synthetic data through the
import path into the configured database, then print a short overview."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.audit import AuditEntry, record_separately
from bot.demo import FORCES, DemoImportError, DemoResult, load_demo
from bot.figures import bail_figures, suspect_figures, wanted_figures
from bot.models import ImportBatch
from bot.runtime import Runtime
from commands.cli.common import cli_actor, open_runtime

DEFAULT_ROWS = 5000
DEFAULT_KEEP_DIR = Path("demo-exports")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "demo",
        help="load deterministic demo data (both forces, 24 months) through the import path",
        description="Write synthetic wanted, suspects and bail exports (pseudonymous references only) for Suffolk "
        "and Norfolk, import them and the July 2022 action log as an analyst would, and print an overview. "
        "Running it again the same day with the same seed changes nothing.",
    )
    p.add_argument("--rows", type=_positive, default=DEFAULT_ROWS, help=f"rows per file (default {DEFAULT_ROWS})")
    p.add_argument("--seed", type=int, default=7, help="random seed; the same seed gives the same files (default 7)")
    p.add_argument("--out", type=Path, help="write the exports here and keep them (default: a temporary directory)")
    p.add_argument(
        "--keep-files",
        action="store_true",
        help=f"keep the exports (in --out, else ./{DEFAULT_KEEP_DIR}) to try `mo-bot import` on them",
    )
    p.set_defaults(func=run)


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return n


def run(args: argparse.Namespace) -> int:
    rt = open_runtime(args)
    missing = [f.slug for f in FORCES if f.slug not in rt.config.forces]
    if missing:
        # One line, before anything is written: the demo's data is for both forces (docs/demo-data.md).
        print(
            f"mo-bot demo: the demo loads data for {' and '.join(f.slug for f in FORCES)}, and the config "
            f"({rt.config.source}) does not declare {', '.join(missing)}: run it with the built-in config (unset "
            "MO_CONFIG) or a config that declares both forces with their districts",
            file=sys.stderr,
        )
        return 2
    actor = cli_actor()
    keep = bool(args.keep_files or args.out)
    workdir = args.out or (DEFAULT_KEEP_DIR if args.keep_files else Path(tempfile.mkdtemp(prefix="mo-bot-demo-")))
    t0 = time.perf_counter()
    try:
        result = load_demo(rt, rows=args.rows, seed=args.seed, workdir=workdir, actor=actor)
    except DemoImportError as e:
        print(f"mo-bot demo: {e}", file=sys.stderr)
        return 1
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
    elapsed = time.perf_counter() - t0
    print(overview(rt, result, elapsed, kept=workdir if keep else None))
    # Printing the headline figures is a consultation of the data (counts only, no records shown).
    record_separately(
        rt.sessions,
        AuditEntry(
            actor=actor,
            action="command",
            outcome="ok",
            detail=f"demo --rows {args.rows} --seed {args.seed}: loaded and printed the overview",
        ),
        at=rt.clock.now(),
    )
    rt.engine.dispose()
    return 0


def overview(rt: Runtime, result: DemoResult, elapsed: float, kept: Path | None) -> str:
    lines = [
        f"Demo data loaded as of {result.end.isoformat()} into {rt.engine.url.render_as_string(hide_password=True)}"
        f" in {elapsed:.1f}s (seconds: " + ", ".join(f"{k} {v:.2f}" for k, v in result.seconds.items()) + ")",
    ]
    if kept is not None:
        lines.append(f"Exports kept in {kept}/ — try: mo-bot import wanted {kept / 'wanted.csv'}")
    batch_ids = [i for r in result.reports.values() for i in r.batch_ids]
    with rt.sessions() as s:
        batches = {b.id: b for b in s.scalars(select(ImportBatch).where(ImportBatch.id.in_(batch_ids)))}
        lines.append("")
        lines.append(f"{'dataset':<9} {'force':<8} {'rows':>8} {'added':>8} {'updated':>8} {'unchanged':>9}")
        for dataset, report in result.reports.items():
            for bid in report.batch_ids:
                b = batches[bid]
                lines.append(
                    f"{dataset:<9} {b.force:<8} {b.rows_in_file:>8} {b.rows_added:>8} {b.rows_updated:>8} "
                    f"{b.rows_unchanged:>9}"
                )
        lines.append("")
        lines += _headlines(rt, s, result)
    lines.append("")
    lines.append("Next: mo-bot figures wanted --district ipswich · mo-bot figures bail --force norfolk · mo-bot status")
    return "\n".join(lines)


def _headlines(rt: Runtime, session: Session, result: DemoResult) -> list[str]:
    """Headline figures per force from the figures services (SQL aggregates), as of the demo's date."""
    out = [f"Headline figures as of {result.end.isoformat()}:"]
    forces = sorted(
        {f for r in result.reports.values() for f in r.forces if r.dataset != "actions"},
        key=lambda f: (f != rt.config.default_force, f),
    )
    for slug in forces:
        force = rt.config.force(slug)
        w = wanted_figures(session, force, result.end, review_days=rt.config.wanted_review_days)
        su = suspect_figures(session, force, result.end)
        b = bail_figures(session, force, result.end, ending_within_days=rt.config.bail_ending_soon_days)
        districts = ", ".join(f"{force.district_label(d)} {n}" for d, n in w.by_district.items())
        long_rui = b.length_bands.get("rui", {}).get("over-12m", 0)
        out += [
            f"  {force.name}",
            f"    wanted:   {w.open} open ({districts}); {w.review_overdue} review overdue; "
            f"{w.opened_in_month} circulated and {w.closed_in_month} closed this month",
            f"    suspects: {su.open} outstanding ({su.open_a_month_ago} a month ago)",
            f"    bail/RUI: {b.active_bail} on bail, {b.active_rui} under investigation ({long_rui} over 12 months); "
            f"{b.bail_ending_soon_total} bail periods end within {b.bail_ending_within_days} days",
        ]
    actions = result.reports.get("actions")
    if actions is not None:
        out.append(f"  Action log (Suffolk): {actions.rows_in_file} items from the July 2022 strategy (Appendix 1)")
    return out
