"""The standard `/mo` answers of each new import, computed once for every process and replica.

After an import commits, every serving process would compute the same answers on its first questions — at the
design point's scale a burst of heavy queries in each of them at once. Instead one process claims the new
generation (:func:`bot.shared_answers.claim`: the first to insert the row) and answers the standard questions —
each figures sub-command for the force and each of its districts, alone and with each common flag, as the asker's
today (:func:`standard_questions`) — through the real handlers
(the same parse, figures, rendering and cache keys as a person's question), capturing the rendered answers and
writing them to the database (:mod:`bot.shared_answers`). Every other process, missing its own cache, reads them
there. A question nobody precomputed (other flags, another date) is computed as ever.

The warm-up discloses nothing (aggregates only, to nobody) but is audited once per generation, as the bot's own
work. It runs in a thread of each serving process (:func:`start_warming`), which looks for new generations every
second; the import never waits for it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

from bot.access import Requester
from bot.audit import AuditEntry, record
from bot.clock import today_in
from bot.config import Force
from bot.figures.cache import capturing
from bot.figures.cases import common_offences
from bot.figures.types import WANTED_REASONS
from bot.import_generations.batches import LATEST_ALL, latest_from_rows
from bot.reads import Reads
from bot.runtime import Runtime
from bot.shared_answers import claim, claimed, done, write
from commands.mo.catalog import default_registry
from commands.mo.parser import parse
from commands.mo.reply import AnswerContext
from commands.mo.values import ParseContext

log = logging.getLogger(__name__)

ACTOR = "job:warm-answers"
# The figures sub-commands each dataset's import changes (`rui` reads the bail figures).
COMMANDS: dict[str, tuple[str, ...]] = {"wanted": ("wanted",), "suspects": ("suspects",), "bail": ("bail", "rui")}
POLL_S = 1.0
COMMON_OFFENCES = 3


def standard_questions(force: Force, dataset: str, offences: list[str]) -> list[str]:
    """The questions asked most, most asked first: each sub-command of the dataset for the whole force and for each
    district, then with each of the common flags — the two usual ages, each reason (wanted), a week's expiry
    (bail) and each of ``offences`` (the force's most common offence groups)."""
    places = ["", *(f" --district {d}" for d in force.district_slugs())]
    out: list[str] = []
    for command in COMMANDS.get(dataset, ()):
        out += [f"{command}{p}" for p in places]
    for command in COMMANDS.get(dataset, ()):
        flags = ["--older-than 90d", "--older-than 365d"]
        if command == "wanted":
            flags += [f"--reason {r}" for r in WANTED_REASONS]
        if command == "bail":
            flags.append("--expiring 7d")
        flags += [f'--offence "{o}"' for o in offences if '"' not in o]
        out += [f"{command}{p} {f}" for f in flags for p in places]
    return out


def warm(rt: Runtime, force: Force, dataset: str, generation: int) -> int:
    """Answer the standard questions of ``force``'s ``dataset`` and write them for ``generation``; returns how many
    were written (0 when a newer import has committed meanwhile: its own warm-up covers it)."""
    registry = default_registry()
    today = today_in(rt.clock, force.timezone)
    db = Reads(rt.engine, rt.sessions)
    try:
        session = db.session
        if rt.engine.dialect.name == "postgresql":
            # One snapshot for the generation and every answer computed for it.
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        if db.generation(force.slug, dataset) != generation:
            return 0
        who = Requester(user_id=ACTOR, team_id=None, channel_id=None)
        offences = common_offences(session, dataset, force, COMMON_OFFENCES)
        with capturing() as got:
            for text in standard_questions(force, dataset, offences):
                args = parse(text, registry, ParseContext(force=force, today=today))
                spec = registry.get(args.command)
                assert spec is not None
                ctx = AnswerContext(
                    rt=rt, db=db, who=who, force=force, role=spec.min_role, today=today, now=rt.clock.now(),
                    command=spec.name,
                )  # fmt: skip
                spec.handler(ctx, args)
        answers = [c.answer for c in got if (c.force, c.dataset, c.generation) == (force.slug, dataset, generation)]
        # Written in a transaction of their own, after the snapshot they were computed in: the audit row's seal reads
        # the chain's last link when it commits (bot/audit_chain.py), and a REPEATABLE READ snapshot cannot see the
        # links of the answers audited since it began — the seal would reuse a number and the commit would fail.
        session.commit()
        written = write(session, force.slug, dataset, generation, answers, rt.clock.now())
        done(session, force.slug, dataset, generation, len(answers))
        record(
            session,
            AuditEntry(
                actor=ACTOR,
                action="warm",
                outcome="ok",
                force=force.slug,
                detail=f"{dataset} answers for import batch {generation}: {len(answers)} computed, {written} written",
            ),
            at=rt.clock.now(),
        )
        session.commit()
        return written
    finally:
        db.close()


def warm_new_generations(rt: Runtime, by: str) -> int:
    """Claim and warm every generation of a configured force's dataset that no process has claimed yet."""
    with rt.sessions() as s:
        latest = latest_from_rows(s.execute(LATEST_ALL))
        seen = claimed(s)
    forces = rt.config.forces
    written = 0
    for (force_slug, dataset), generation in sorted(latest.items()):
        force = forces.get(force_slug)
        if force is None or dataset not in COMMANDS or not generation or (force_slug, dataset, generation) in seen:
            continue
        with rt.sessions() as s:
            mine = claim(s, force_slug, dataset, generation, by, rt.clock.now())
            s.commit()
        if not mine:
            continue
        started = time.perf_counter()
        n = warm(rt, force, dataset, generation)
        written += n
        log.info(
            "mo-bot: %d shared answers for %s %s (import batch %d) in %.0f ms",
            n, force_slug, dataset, generation, (time.perf_counter() - started) * 1000,
        )  # fmt: skip
    return written


def start_warming(rt: Runtime) -> threading.Thread:
    """A daemon thread of this serving process: every second, warm what a new import needs (see the module)."""
    by = f"{socket.gethostname()}:{os.getpid()}"

    def run() -> None:
        while True:
            try:
                warm_new_generations(rt, by)
            except Exception:
                log.exception("mo-bot: warming the shared answers failed; answers are computed on demand")
            time.sleep(POLL_S)

    t = threading.Thread(target=run, name="mo-warm-answers", daemon=True)
    t.start()
    return t
