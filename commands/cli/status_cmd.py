"""`mo-bot status`: how fresh each dataset is, per force; stale ones (never imported, or older than their
``refresh_days``) are flagged — the action log by its last update, imported or made in Slack (bot.freshness).
Audited like every consultation."""

from __future__ import annotations

import argparse
import json

from bot.config import Force
from bot.freshness import Freshness, dataset_freshness, freshness_detail
from commands.cli.common import audit_cli, open_runtime


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("status", help="data freshness per dataset and force; flags stale datasets")
    p.add_argument("--force", metavar="SLUG", help="only this force (default: every configured force)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def _json(f: Freshness) -> dict[str, object]:
    return {
        "dataset": f.dataset,
        "imported_at": f.imported_at.isoformat() if f.imported_at else None,
        "file_as_of": f.file_as_of.isoformat() if f.file_as_of else None,
        "expected_days": f.expected_days,
        "age_days": f.age_days,
        "stale": f.stale,
        "updated_in_bot": f.updated_in_bot.isoformat() if f.updated_in_bot else None,
        "kept": f.kept,
    }


def run(args: argparse.Namespace) -> int:
    rt = open_runtime(args)
    try:
        cfg = rt.config
        forces = [cfg.force(args.force)] if args.force else list(cfg.forces.values())
        now = rt.clock.now()
        with rt.sessions() as s:
            report = {f.slug: dataset_freshness(s, cfg, f, now) for f in forces}
        audit_cli(rt, args.force, f"status force={args.force or 'all'}", at=now)
    finally:
        rt.engine.dispose()
    if args.json:
        print(
            json.dumps(
                {"now": now.isoformat(), "forces": {k: [_json(f) for f in v] for k, v in report.items()}}, indent=2
            )
        )
        return 0
    print(f"Data freshness at {now.strftime('%Y-%m-%d %H:%M UTC')}")
    for force in forces:
        print(f"{force.name} ({force.slug})")
        for f in report[force.slug]:
            print(f"  {f.dataset:<9} {_line(f, force)}")
    return 0


def _line(f: Freshness, force: Force) -> str:
    """The words `/mo status` uses (the data's own date and age first, then its import), in plain text."""
    if not f.kept:
        return "none kept (no action imported or added)"
    if f.updated_at is None:
        return f"never imported (expected every {f.expected_days} days)  STALE"
    return freshness_detail(f, force) + ("  STALE" if f.stale else "")
