"""Test data and configuration for the `/mo` answer tests (parser, access, rendering, ask, audit export).

Rows are inserted straight into the tables (ORM), deterministic from a seed, for both forces, so a test can
ask the figures service and the `/mo` answer the same question and compare.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Config, SlackSettings, load_config
from bot.import_generations.announce import announce_imports
from bot.import_generations.batches import ImportedBatch
from bot.models import BailPeriod, ImportBatch, OutstandingSuspect, WantedCirculation

SUFFOLK_TEAM = "TSUFFOLK"
NORFOLK_TEAM = "TNORFOLK"
ALLOWED = "CMOALLOWED"
OTHER_CHANNEL = "CRANDOM"
DM = "DBOTDM"
ANALYST = "UANALYST"
ADMIN = "UADMIN"
VIEWER = "UVIEWER"
ANALYST_GROUP = "SANALYSTS"
GROUP_MEMBER = "UGROUPIE"

OFFENCES = ("burglary", "violence with injury", "criminal damage", "robbery", "drugs", "theft")
REASONS = ("never_arrested", "failed_to_answer_bail", "bail_breach", "rui_fresh_evidence")
DISTRICTS = {"suffolk": ("ipswich", "bury-st-edmunds", "lowestoft"), "norfolk": ("norwich", "kings-lynn")}

CONFIG_TOML = f"""
[forces.suffolk]
name = "Suffolk Constabulary"
slack_team_ids = ["{SUFFOLK_TEAM}"]
[forces.suffolk.districts.ipswich]
label = "Ipswich"
aliases = ["south"]
[forces.suffolk.districts.bury-st-edmunds]
label = "Bury St Edmunds"
aliases = ["bury", "west"]
[forces.suffolk.districts.lowestoft]
label = "Lowestoft"
aliases = ["east"]

[forces.norfolk]
name = "Norfolk Constabulary"
slack_team_ids = ["{NORFOLK_TEAM}"]
[forces.norfolk.districts.norwich]
label = "Norwich"
[forces.norfolk.districts.kings-lynn]
label = "King's Lynn"
aliases = ["lynn"]

[slack]
channels = ["{ALLOWED}"]
list_cap = 5
[slack.roles]
analyst = ["{ANALYST}", "{ANALYST_GROUP}"]
admin = ["{ADMIN}"]
"""


def write_config(tmp_path: Path) -> Path:
    p = tmp_path / "mo-bot.toml"
    p.write_text(CONFIG_TOML, encoding="utf-8")
    return p


def slack_config(tmp_path: Path, db_url: str, **slack_overrides: object) -> Config:
    cfg = load_config(write_config(tmp_path), database_url=db_url)
    if slack_overrides:
        cfg = replace(cfg, slack=replace(cfg.slack, **slack_overrides))  # type: ignore[arg-type]
    assert isinstance(cfg.slack, SlackSettings)
    return cfg


def _batch(s: Session, force: str, dataset: str, imported_at: dt.datetime, covers_from: dt.date) -> int:
    b = ImportBatch(
        force=force,
        dataset=dataset,
        file_name=f"{dataset}.csv",
        file_sha256="0" * 64,
        as_of=imported_at.date(),
        covers_from=covers_from,
        imported_at=imported_at,
    )
    s.add(b)
    s.flush()
    return b.id


def seed(
    sessions: sessionmaker[Session],
    *,
    as_of: dt.date = dt.date(2026, 11, 23),
    n: int = 300,
    forces: Sequence[str] = ("suffolk", "norfolk"),
    imported_at: dt.datetime = dt.datetime(2026, 11, 22, 15, 30, tzinfo=dt.UTC),
    seed_value: int = 7,
    offences: Sequence[str] = OFFENCES,
) -> None:
    """``n`` rows per dataset and force, opened over the two years before ``as_of``, some closed."""
    rnd = random.Random(seed_value)
    with sessions() as s, s.begin():
        for force in forces:
            # Every row opened in the two years before as_of: the seeded history is complete from then on.
            start = as_of - dt.timedelta(days=730)
            ids = {d: _batch(s, force, d, imported_at, start) for d in ("wanted", "suspects", "bail")}
            wanted: list[dict[str, object]] = []
            suspects: list[dict[str, object]] = []
            bail: list[dict[str, object]] = []
            for i in range(n):
                opened = as_of - dt.timedelta(days=rnd.randint(0, 730))
                closed = opened + dt.timedelta(days=rnd.randint(1, 400)) if rnd.random() < 0.35 else None
                district = rnd.choice(DISTRICTS[force])
                offence = rnd.choice(offences)
                reviewed = opened + dt.timedelta(days=rnd.randint(0, 60)) if rnd.random() < 0.6 else None
                common = dict(force=force, offence=offence, district=district, closed_on=closed)
                wanted.append(
                    dict(
                        common,
                        reference=f"{force[:2].upper()}W{i:05d}",
                        reason=rnd.choice(REASONS),
                        circulated_on=opened,
                        last_reviewed_on=reviewed if reviewed and reviewed <= as_of else None,
                        status="closed" if closed else "open",
                        import_batch_id=ids["wanted"],
                    )
                )
                suspects.append(
                    dict(
                        common,
                        reference=f"{force[:2].upper()}S{i:05d}",
                        identified_on=opened,
                        status="closed" if closed else "open",
                        import_batch_id=ids["suspects"],
                    )
                )
                kind = "bail" if i % 2 else "rui"
                bail_end = opened + dt.timedelta(days=rnd.randint(20, 400)) if kind == "bail" else None
                if bail_end is not None and bail_end < as_of and closed is None and rnd.random() < 0.7:
                    bail_end = as_of + dt.timedelta(days=rnd.randint(0, 30))
                bail.append(
                    dict(
                        force=force,
                        reference=f"{force[:2].upper()}B{i:05d}",
                        offence=offence,
                        district=district,
                        kind=kind,
                        started_on=opened,
                        bail_end_on=bail_end,
                        ended_on=closed,
                        import_batch_id=ids["bail"],
                    )
                )
            # Core executemany: the same rows as ORM objects, an order of magnitude faster to insert.
            s.execute(insert(WantedCirculation), wanted)
            s.execute(insert(OutstandingSuspect), suspects)
            s.execute(insert(BailPeriod), bail)
            # Announced as an import announces its batches, so a running process's generation source (the
            # PostgreSQL listener) knows them when the seeding commits rather than whenever it next re-reads.
            announce_imports(s, [ImportedBatch(force, d, batch) for d, batch in ids.items()])


def blocks_text(reply: object) -> str:
    """Every text of a reply's blocks, raw mrkdwn, one per line (header, section text and fields, context)."""
    out: list[str] = []
    for b in reply.blocks:  # type: ignore[attr-defined]
        if "text" in b:
            out.append(b["text"]["text"])
        out.extend(f["text"] for f in b.get("fields", []))
        out.extend(e.get("text", "") for e in b.get("elements", []))
    return "\n".join(out)
