"""The standard `/mo` answers of each new import, computed once for every process and replica.

After an import commits, every serving process would compute the same answers on its first questions — at the
design point's scale a burst of heavy queries in each of them at once. Instead the standard questions — each
figures sub-command for the force and each of its districts, alone and with each common flag, as the asker's
today (:func:`standard_questions`) — are answered once through the real handlers (the same parse, figures,
rendering and cache keys as a person's question), and the rendered answers are written to the database
(:mod:`bot.shared_answers`). Every serving process, missing its own cache, reads them there. A question nobody
precomputed (other flags, another date) is computed as ever.

Who computes them: the importing process, in the import's own transaction just before it commits
(:func:`warm_before_commit`, called by `mo-bot import` and by an import sent in Slack), so the data and its answers
become visible together and the first questions after an import — the burst when it is announced — find them
ready. The import takes that much longer (docs/performance.md gives the cost). If the importing process did not
compute them (MO_WARM_ANSWERS=0, an unchanged file, or computing failed), one serving process claims the new
generation (:func:`bot.shared_answers.claim`: the first to insert the row) and computes them after the commit
(:func:`start_warming`: a thread of each serving process that looks for new generations every second).

The warm-up discloses nothing (aggregates only, to nobody) but is audited once per generation, as the bot's own
work, saying which of the two computed it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.access import Requester
from bot.audit import AuditEntry, record
from bot.clock import today_in
from bot.config import Force
from bot.figures.cache import capturing
from bot.figures.cases import common_offences
from bot.figures.types import WANTED_REASONS
from bot.import_generations.batches import LATEST_ALL, latest_from_rows
from bot.importing.types import ImportReport
from bot.reads import Reads
from bot.runtime import Runtime
from bot.shared_answers import Answer, claim, claimed, done, forget_generation, write
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


def _answers(
    rt: Runtime, db: Reads, force: Force, dataset: str, generation: int, *, uncommitted: bool = False
) -> list[Answer]:
    """The standard questions of ``force``'s ``dataset`` answered through the real handlers, as the asker's today:
    the rendered answers computed for ``generation``."""
    registry = default_registry()
    today = today_in(rt.clock, force.timezone)
    who = Requester(user_id=ACTOR, team_id=None, channel_id=None)
    offences = common_offences(db.session, dataset, force, COMMON_OFFENCES)
    with capturing(uncommitted=uncommitted) as got:
        for text in standard_questions(force, dataset, offences):
            args = parse(text, registry, ParseContext(force=force, today=today))
            spec = registry.get(args.command)
            assert spec is not None
            ctx = AnswerContext(
                rt=rt, db=db, who=who, force=force, role=spec.min_role, today=today, now=rt.clock.now(),
                command=spec.name,
            )  # fmt: skip
            spec.handler(ctx, args)
    return [c.answer for c in got if (c.force, c.dataset, c.generation) == (force.slug, dataset, generation)]


def _store(
    session: Session, rt: Runtime, force: Force, dataset: str, generation: int, answers: list[Answer], how: str
) -> int:
    """Write ``answers`` for ``generation``, mark it warmed, and audit the bot's work (in ``session``'s
    transaction, which the caller commits)."""
    written = write(session, force.slug, dataset, generation, answers, rt.clock.now())
    done(session, force.slug, dataset, generation, len(answers))
    record(
        session,
        AuditEntry(
            actor=ACTOR,
            action="warm",
            outcome="ok",
            force=force.slug,
            detail=f"{dataset} answers for import batch {generation}: {len(answers)} computed, {written} written, "
            f"{how}",
        ),
        at=rt.clock.now(),
    )
    return written


def warm(rt: Runtime, force: Force, dataset: str, generation: int) -> int:
    """Answer the standard questions of ``force``'s ``dataset`` and write them for ``generation``; returns how many
    were written (0 when a newer import has committed meanwhile: its own warm-up covers it)."""
    db = Reads(rt.engine, rt.sessions)
    try:
        session = db.session
        if rt.engine.dialect.name == "postgresql":
            # One snapshot for the generation and every answer computed for it.
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        if db.generation(force.slug, dataset) != generation:
            return 0
        answers = _answers(rt, db, force, dataset, generation)
        # Written in a transaction of their own, after the snapshot they were computed in: the audit row's seal reads
        # the chain's last link when it commits (bot/audit_chain.py), and a REPEATABLE READ snapshot cannot see the
        # links of the answers audited since it began — the seal would reuse a number and the commit would fail.
        session.commit()
        written = _store(session, rt, force, dataset, generation, answers, "after the import committed")
        session.commit()
        return written
    finally:
        db.close()


@dataclass(frozen=True)
class Published:
    force: str
    dataset: str
    generation: int
    written: int
    seconds: float


def warm_before_commit(rt: Runtime, session: Session, report: ImportReport) -> list[Published]:
    """The standard answers of each generation an import created, computed in the import's own transaction before
    it commits and written in it: the import's data and its answers become visible together, so the first
    questions after it — the burst when it is announced — find them computed instead of each serving process
    computing its own. The generation is claimed in the same transaction, so no serving process warms it again.

    Best effort: if computing fails, the answers are left to the serving processes (:func:`warm_new_generations`)
    and the import goes on — on PostgreSQL inside a savepoint, so a failed statement does not abort the import's
    transaction. The caller commits (or rolls back: then nothing of this is kept either)."""
    out: list[Published] = []
    if not report.ok or report.dataset not in COMMANDS:
        return out
    if report.unchanged_since is not None:
        # The file repeats an earlier import: no row changed and no cache went cold, so the answers for its new
        # as-of date cost what any question costs (the figures come from the day counts). A serving process
        # computes them after the commit (warm_new_generations) rather than the import holding its commit for
        # them: recording an unchanged file's new date stays a matter of a second or two at any size.
        return out
    by = f"import:{socket.gethostname()}:{os.getpid()}"
    for force_slug in report.forces:
        force = rt.config.forces.get(force_slug)
        if force is None:
            continue
        started = time.perf_counter()
        db = Reads(rt.engine, rt.sessions)
        db.use(session)
        generation = db.generation(force_slug, report.dataset)
        if not generation:
            continue
        savepoint = session.begin_nested() if rt.engine.dialect.name == "postgresql" else None
        written = 0
        try:
            mine = claim(session, force_slug, report.dataset, generation, by, rt.clock.now())
            if mine:
                answers = _answers(rt, db, force, report.dataset, generation, uncommitted=True)
                written = _store(session, rt, force, report.dataset, generation, answers, "in the import's transaction")
            if savepoint is not None:
                savepoint.commit()
        except Exception:
            if savepoint is not None:
                savepoint.rollback()
            else:
                # SQLite: a failed read leaves the transaction usable; what this wrote (the claim, perhaps some
                # answers) goes, so the serving processes warm the generation after the commit.
                forget_generation(session, force_slug, report.dataset, generation)
            log.exception("mo-bot: the %s answers of %s were not computed with the import; the serving "
                          "processes compute them after it commits", report.dataset, force_slug)  # fmt: skip
            continue
        if mine:
            out.append(Published(force_slug, report.dataset, generation, written, time.perf_counter() - started))
    return out


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
