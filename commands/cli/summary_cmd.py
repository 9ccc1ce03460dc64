"""`mo-bot summary --month YYYY-MM --out DIR [--force F] [--district D]`: the monthly summary for papers —
the four chart PNGs plus the headline figures as Markdown, exactly what the Slack post would show."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.clock import today_in
from bot.dates import last_complete_month
from bot.summary.charts import render_all
from bot.summary.monthly import make_summary, month_refusal, summary_text
from commands.cli.common import audit_cli, open_runtime


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("summary", help="write the monthly summary (four PNG charts and the figures as Markdown)")
    p.add_argument("--month", help="YYYY-MM (default: the last complete month)")
    p.add_argument("--out", required=True, type=Path, help="directory to write into (created if missing)")
    p.add_argument("--force", dest="force_slug", help="force slug (default: the config's default force)")
    p.add_argument("--district", help="narrow to one district of the force")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    rt = open_runtime(args)
    force = rt.config.force(args.force_slug)
    district = None
    if args.district:
        district = force.resolve_district(args.district)
        if district is None:
            print(
                f"mo-bot: {args.district!r} is not a district of {force.slug} ({', '.join(force.district_slugs())})",
                file=sys.stderr,
            )
            return 2
    month = args.month or last_complete_month(today_in(rt.clock, force.timezone))
    try:
        refusal = month_refusal(month, today_in(rt.clock, force.timezone))
        if refusal is not None:
            print(f"mo-bot: --month {month}: {refusal}", file=sys.stderr)
            return 2
        summary = make_summary(rt, force, month, district)
    except ValueError as e:
        print(f"mo-bot: {e}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"summary-{force.slug}{'-' + district if district else ''}-{month}"
    written = []
    md = args.out / f"{stem}.md"
    text = summary_text(summary)
    charts = render_all(summary)
    if charts:
        text += "\n## Charts\n\n"
    for c in charts:
        path = args.out / f"{stem}-{c.name}.png"
        path.write_bytes(c.png)
        written.append(path)
        text += f"![{c.title}]({path.name})\n\n{c.alt_text}\n\n"
    md.write_text(text, encoding="utf-8")
    written.insert(0, md)
    audit_cli(
        rt,
        force.slug,
        f"mo-bot summary --month {month}{' --district ' + district if district else ''}: {len(charts)} charts written",
        action="export",
    )
    print(summary_text(summary), end="")
    for p in written:
        print(f"wrote {p}")
    return 0
