"""Benchmark: the first `/mo` answers after an import, with and without the shared answers.

    python -m bench.bench_after_import [--rows 1000000] [--db=postgresql|sqlite] [--rounds 3] [--quick]

`mo-bot serve` on the demo database of ``bench.bench_slack`` (same forces, workspaces, mix and load generator),
once with ``MO_WARM_ANSWERS=1`` (the default: each import commits with the standard answers of its data computed
for everyone, commands/mo/warm.py) and once with ``MO_WARM_ANSWERS=0`` (each process computes its own on its first
questions), for the server and the imports alike. Each setting: the mix answered until every worker has it cached
(as bench_slack's warm-up), then ``--rounds`` times: three `mo-bot import` processes, one per dataset (a file of
one new case each, so each dataset gets a new import generation and every cached answer of it is out of date), and
as soon as the last has exited, the whole mix (every sub-command × district and alias × common flags, both forces:
600+ questions) sent once at concurrency 8 (``--delay`` seconds later: 0, the burst at once; or a little later,
when people read the import's announcement). Latency per question from the request to the answer; p50, p99, max and
how many took over 1 s, per setting, for all questions, for the standard ones (no flags: what the warm-up
computes), and apart for those with ``--older-than`` (their counts read rows) and all the others.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.bench_slack import (
    CHANNEL,
    SECRET,
    Server,
    _free_port,
    config_file,
    database,
    load,
    mix,
    offences,
    signed,
    warm_up,
)
from bench.common import emit, postgres_available, spread

FILES = {
    "wanted": (
        "reference,offence,district,reason,circulated_on,status",
        "{ref},Burglary,ipswich,never_arrested,{d},open",
    ),
    "suspects": ("reference,offence,district,identified_on,status", "{ref},Burglary,ipswich,{d},open"),
    "bail": ("reference,offence,district,kind,started_on,bail_end_on", "{ref},Burglary,ipswich,bail,{d},{end}"),
}


def _import_all(env: dict[str, str], scratch: Path, round_no: int, tag: str) -> dict[str, float]:
    """One small import per dataset, each its own `mo-bot import` process; returns the seconds each took."""
    took: dict[str, float] = {}
    today = dt.date.today()
    for dataset, (header, row) in FILES.items():
        t0 = time.perf_counter()
        ref = f"BENCH-{tag}-{round_no}-{dataset[:1].upper()}"
        line = row.format(ref=ref, d=today - dt.timedelta(days=3), end=today + dt.timedelta(days=60))
        path = scratch / f"{dataset}-{tag}-{round_no}.csv"
        path.write_text(f"{header}\n{line}\n", encoding="utf-8")
        mo_bot = str(Path(sys.executable).parent / "mo-bot")
        r = subprocess.run([mo_bot, "import", dataset, str(path), "--force", "suffolk"], env=env, capture_output=True)
        if r.returncode != 0:
            raise RuntimeError(f"import failed: {r.stdout.decode()} {r.stderr.decode()}")
        took[dataset] = round(time.perf_counter() - t0, 2)
    return took


def run(
    kind: str, rows: int, rounds: int, base_env: dict[str, str], fake: Any, scratch: Path, delay: float
) -> list[dict[str, Any]]:
    url = database(rows, kind)
    asks = mix(offences(url))
    standard = [i for i, a in enumerate(asks) if "--" not in a.text.replace("--district", "")]
    # --older-than cuts on the opened date, which the day counts' groups do not keep: those answers read rows.
    older = [i for i, a in enumerate(asks) if "--older-than" in a.text]
    others = [i for i in range(len(asks)) if i not in set(older)]
    response_url = fake.new_response_url()
    env = {**base_env, "DATABASE_URL": url}
    out = []
    for warm in ("1", "0"):
        port = _free_port()
        server = Server([str(Path(sys.executable).parent / "mo-bot"), "serve", "--no-scheduler"],
                        {**env, "PORT": str(port), "MO_WARM_ANSWERS": warm}, port)  # fmt: skip
        try:
            warm_up(port, asks, response_url)
            every: list[float] = []
            first: list[float] = []
            by_rows: list[float] = []
            by_counts: list[float] = []
            imports: list[dict[str, float]] = []
            for n in range(rounds):
                imports.append(_import_all({**env, "MO_WARM_ANSWERS": warm}, scratch, n, f"{kind}{warm}"))
                time.sleep(delay)
                each = [0.0] * len(asks)
                r = load(port, signed(asks, response_url), 8, seconds=None, floor=False, per_request=each)
                if r["errors"]:
                    raise RuntimeError(f"{r['errors']} errors: {server.tail()}")
                every += each
                first += [each[i] for i in standard]
                by_rows += [each[i] for i in older]
                by_counts += [each[i] for i in others]
            classes = (("all questions", every), ("standard questions", first),
                       ("--older-than questions", by_rows), ("all but --older-than", by_counts))  # fmt: skip
            for name, xs in classes:
                out.append(
                    {
                        "db": kind,
                        "warm_answers": warm == "1",
                        "asked_after_s": delay,
                        "questions": name,
                        "n": len(xs),
                        "over_1s": sum(x > 1.0 for x in xs),
                        **spread(xs),
                        "imports_s": imports,
                    }
                )
                print(f"bench_after_import [{kind}, warm={warm}] {name}: {out[-1]}", file=sys.stderr, flush=True)
        finally:
            server.stop()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--db", default="postgresql", help="postgresql, sqlite or both (comma-separated)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="20,000 rows, one round")
    p.add_argument("--delay", type=float, default=0.0, help="seconds between the last import and the questions")
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    rows, rounds = (20_000, 1) if args.quick else (args.rows, args.rounds)
    kinds = [k for k in args.db.replace("both", "sqlite,postgresql").split(",") if k]
    if "postgresql" in kinds and not postgres_available():
        kinds.remove("postgresql")
    from tests.support.fakeslack import FakeSlack

    scratch = Path(tempfile.mkdtemp(prefix="bench-after-import-"))
    results: list[dict[str, Any]] = []
    load_before = os.getloadavg()[0]
    with FakeSlack() as fake:
        fake.add_channel(CHANNEL)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MO_CONFIG", "DATABASE_URL"))}
        env.update(
            SLACK_BOT_TOKEN=fake.token,
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=fake.base_url,
            MO_CONFIG=str(config_file(scratch)),
            THREADS=os.environ.get("THREADS", "8"),
            LOG_LEVEL="warning",
        )
        env.pop("WEB_CONCURRENCY", None)
        for kind in kinds:
            results += run(kind, rows, rounds, env, fake, scratch, args.delay)
    shutil.rmtree(scratch, ignore_errors=True)
    emit(
        {
            "name": "after_import",
            "rows": rows,
            "rounds": rounds,
            "load_average_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            "results": results,
        },
        args.out,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
