"""The standard answers of an import, computed once and read by every process: a process that never computed an
answer gives, from the database, exactly what it would have computed — without running the figures — and only
for the generation the answer was computed from. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from bot import shared_answers as shared_answers_module
from bot.access import Requester, identify
from bot.audit import AuditEntry, record_separately
from bot.audit_chain import verify_chain
from bot.figures import bail as bail_service
from bot.figures import outcomes as outcomes_service
from bot.figures import suspects as suspects_service
from bot.figures import wanted as wanted_service
from bot.figures.cache import capturing, figures_cache
from bot.figures.cases import common_offences
from bot.import_generations.announce import announce_imports
from bot.import_generations.batches import ImportedBatch
from bot.importing.service import import_file
from bot.importing.types import ImportReport, ImportRequest
from bot.models import AuditEvent, ImportBatch, SharedAnswer, SharedAnswerWarm, WantedCirculation
from bot.runtime import Runtime
from bot.shared_answers import read
from commands.mo import warm as warm_module
from commands.mo.pipeline import answer
from commands.mo.reply import Reply
from commands.mo.warm import standard_questions, warm_before_commit, warm_new_generations
from tests.support.seed import ALLOWED, SUFFOLK_TEAM, VIEWER, _batch, seed, slack_config
from tests.support.slackutil import blocks_text


@pytest.fixture
def rt(tmp_path, db_url, engine, clock) -> Runtime:
    return Runtime.create(slack_config(tmp_path, db_url), clock=clock, engine=engine)


def ask(rt: Runtime, text: str) -> Reply:
    who = Requester(user_id=VIEWER, team_id=SUFFOLK_TEAM, channel_id=ALLOWED)
    return answer(rt, identify(rt.config, who), text)


def _no_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("computed instead of read from the shared answers")

    monkeypatch.setattr(wanted_service, "wanted_figures", refuse)
    monkeypatch.setattr(suspects_service, "suspect_figures", refuse)
    monkeypatch.setattr(bail_service, "bail_figures", refuse)


def test_another_process_answers_the_standard_questions_from_the_database(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(rt.sessions)
    questions = (
        "wanted",
        "wanted --district ipswich",
        "bail --district lowestoft",
        "rui",
        "wanted --older-than 90d",
        "suspects --district ipswich --older-than 365d",
        "bail --expiring 7d",
        "wanted --reason bail_breach",
    )
    with rt.sessions() as s:
        top = common_offences(s, "wanted", rt.config.force("suffolk"), 1)[0]
    questions += (f'wanted --district ipswich --offence "{top}"',)
    computed = {q: ask(rt, q) for q in questions}  # fmt: skip
    figures_cache.clear()

    written = warm_new_generations(rt, "test-process")
    suffolk = rt.config.force("suffolk")
    per_force = sum(len(standard_questions(suffolk, d, [])) for d in ("wanted", "suspects", "bail"))
    assert written >= per_force  # both forces' datasets; each standard question once
    assert warm_new_generations(rt, "another-process") == 0  # claimed once

    figures_cache.clear()  # a process that has computed nothing
    _no_figures(monkeypatch)
    for q, before in computed.items():
        got = ask(rt, q)
        assert got.outcome == "ok", got.text
        assert (got.text, got.blocks) == (before.text, before.blocks), q
    assert figures_cache.stats.shared >= len(computed)
    with rt.sessions() as s:
        warms = s.scalars(select(AuditEvent.detail).where(AuditEvent.action == "warm")).all()
        assert len(warms) == len(s.scalars(select(SharedAnswerWarm.generation)).all()) == 6


def test_a_new_import_is_not_answered_from_the_last_one_s_shared_answers(rt: Runtime) -> None:
    seed(rt.sessions)
    warm_new_generations(rt, "test-process")
    with rt.sessions() as s:
        old = s.scalar(
            select(func.max(ImportBatch.id)).where(ImportBatch.force == "suffolk", ImportBatch.dataset == "wanted")
        )
        key = s.scalars(select(SharedAnswer.key).where(SharedAnswer.generation == old)).first()
        assert key is not None
    with rt.sessions() as s, s.begin():  # another import of suffolk's wanted: a new generation, announced as ever
        batch = _batch(s, "suffolk", "wanted", dt.datetime(2026, 11, 23, 8, tzinfo=dt.UTC), dt.date(2024, 11, 23))
        announce_imports(s, [ImportedBatch("suffolk", "wanted", batch)])
        s.add(
            WantedCirculation(
                force="suffolk", reference="SUW-NEW", offence="Burglary", district="ipswich", reason="never_arrested",
                circulated_on=dt.date(2026, 11, 20), status="open", import_batch_id=batch,
            )
        )  # fmt: skip
    figures_cache.clear()
    shared_before = figures_cache.stats.shared
    fresh = ask(rt, "wanted")  # computed from the new data, not read from the last import's answer
    assert figures_cache.stats.shared == shared_before
    assert fresh.outcome == "ok"
    warm_new_generations(rt, "test-process")
    with rt.sessions() as s:
        new = s.scalar(
            select(func.max(ImportBatch.id)).where(ImportBatch.force == "suffolk", ImportBatch.dataset == "wanted")
        )
        assert new != old
        gens = set(
            s.scalars(
                select(SharedAnswer.generation).where(SharedAnswer.force == "suffolk", SharedAnswer.dataset == "wanted")
            )
        )
        assert gens == {new}  # the older generation's answers are gone with it
        assert read(s, "suffolk", "wanted", old, ("rendered",)) is None


def test_answers_stored_by_another_version_of_the_code_are_not_read(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stored answer is what the code rendered: after a deploy that changes an answer's wording or rule, the
    answers stored for the current import by the old version are computed again, not read (nor, in a rolling
    deploy, one replica's by another on a different version)."""
    seed(rt.sessions)
    warm_new_generations(rt, "test-process")
    with rt.sessions() as s:
        gen = s.scalar(
            select(func.max(ImportBatch.id)).where(ImportBatch.force == "suffolk", ImportBatch.dataset == "wanted")
        )
        assert gen is not None
        assert read(s, "suffolk", "wanted", gen, ("rendered",)) is None  # not a key the warm-up stores
        stored = s.scalars(select(SharedAnswer.key).where(SharedAnswer.generation == gen)).all()
    assert stored
    figures_cache.clear()
    before = figures_cache.stats.shared
    ask(rt, "wanted")
    assert figures_cache.stats.shared == before + 1  # this version reads what it stored
    monkeypatch.setattr(shared_answers_module, "code_fingerprint", lambda: "0" * 64)  # the next version
    figures_cache.clear()
    answered = ask(rt, "wanted")
    assert answered.outcome == "ok"
    assert figures_cache.stats.shared == before + 1  # computed, not read from the other version's answers


def test_answers_audited_while_the_warm_up_computes_do_not_stop_it_writing(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The warm-up computes in one snapshot (REPEATABLE READ on PostgreSQL) while people's answers go on being
    audited; its own audit row is sealed after theirs, and its answers are written all the same."""
    seed(rt.sessions)
    real = warm_module.common_offences
    audited: list[str] = []

    def meanwhile(*args: Any, **kwargs: Any) -> Any:
        # Called once the warm-up's snapshot has begun: another request's answer is audited and committed.
        entry = AuditEntry(actor=VIEWER, action="mo wanted", outcome="ok", force="suffolk", team_id=SUFFOLK_TEAM)
        record_separately(rt.sessions, entry)
        audited.append(entry.action)
        return real(*args, **kwargs)

    monkeypatch.setattr(warm_module, "common_offences", meanwhile)
    written = warm_new_generations(rt, "test-process")

    suffolk = rt.config.force("suffolk")
    assert len(audited) == 6  # once in each of the six warm-ups (two forces, three datasets)
    assert written >= sum(len(standard_questions(suffolk, d, [])) for d in ("wanted", "suspects", "bail"))
    with rt.sessions() as s:
        warms = s.scalars(select(SharedAnswerWarm.answers)).all()
        assert len(warms) == 6 and all(n > 0 for n in warms)
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "warm")) == 6
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "mo wanted")) == 6
        report = verify_chain(s)
        assert report.ok, report.summary()
        assert report.links == report.rows


# --- Computed with the import, before it commits ---------------------------------------------------------------


def _wanted_export(path: Path, refs: list[str]) -> Path:
    rows = [f"{r},Burglary,ipswich,never_arrested,2026-10-01,open" for r in refs]
    path.write_text("\n".join(["reference,offence,district,reason,circulated_on,status", *rows]) + "\n")
    return path


def _import(rt: Runtime, session: Session, path: Path, as_of: dt.date | None = None) -> ImportReport:
    request = ImportRequest(dataset="wanted", path=path, force="suffolk", as_of=as_of or rt.clock.now().date())
    report = import_file(session, rt.config, request, rt.clock.now())
    assert report.ok, report
    return report


def _open_in_ipswich(reply: Reply) -> int:
    found = re.search(r"\*(\d+)\* open wanted circulations?\b", blocks_text(reply.blocks))
    assert found is not None, reply.text
    return int(found.group(1))


def test_an_import_commits_with_its_standard_answers_and_no_process_computes_them_again(
    rt: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(rt.sessions)
    before = _open_in_ipswich(ask(rt, "wanted --district ipswich"))
    with rt.sessions() as s:
        report = _import(rt, s, _wanted_export(tmp_path / "w.csv", ["W-NEW-1", "W-NEW-2"]))
        published = warm_before_commit(rt, s, report)
        with rt.sessions() as other:  # nothing of it is seen before the import commits
            assert other.scalar(select(func.count()).select_from(SharedAnswerWarm)) == 0
            assert other.scalar(select(func.count()).select_from(SharedAnswer)) == 0
        s.commit()

    suffolk = rt.config.force("suffolk")
    [p] = published
    assert (p.force, p.dataset) == ("suffolk", "wanted")
    assert p.written >= len(standard_questions(suffolk, "wanted", []))
    assert p.generation == report.batch_ids[-1]
    assert warm_new_generations(rt, "a-serving-process") > 0  # the seed's own generations, not this one
    with rt.sessions() as s:
        claims = s.execute(select(SharedAnswerWarm.generation, SharedAnswerWarm.claimed_by)).all()
        assert [by.startswith("import:") for g, by in claims if g == p.generation] == [True]
        details = s.scalars(select(AuditEvent.detail).where(AuditEvent.action == "warm")).all()
        [ours] = [d for d in details if f"import batch {p.generation}:" in d]
        assert ours.endswith("in the import's transaction")

    figures_cache.clear()  # a serving process that has computed nothing: the answer is read, not computed
    with monkeypatch.context() as m:
        _no_figures(m)
        shared = ask(rt, "wanted --district ipswich")
    assert _open_in_ipswich(shared) == before + 2
    figures_cache.clear()
    with capturing():  # computed afresh from the committed data (the shared answers are not read while capturing)
        fresh = ask(rt, "wanted --district ipswich")
    assert (shared.text, shared.blocks) == (fresh.text, fresh.blocks)


def test_an_unchanged_file_commits_without_computing_and_a_serving_process_warms_its_date(
    rt: Runtime, tmp_path: Path
) -> None:
    """The same file a day later changes no row: the import records its new date without computing the answers,
    and a serving process computes them for the new generation (the answers' as-of date moved)."""
    seed(rt.sessions)
    export = _wanted_export(tmp_path / "w.csv", ["W-NEW-1", "W-NEW-2"])
    with rt.sessions() as s:
        first = _import(rt, s, export)
        assert warm_before_commit(rt, s, first)
        s.commit()
    rt.clock.advance(dt.timedelta(days=1))  # type: ignore[attr-defined]  # the tests' FixedClock
    with rt.sessions() as s:
        again = _import(rt, s, export)
        assert again.unchanged_since == first.as_of
        assert warm_before_commit(rt, s, again) == []
        s.commit()
    generation = again.batch_ids[-1]
    assert warm_new_generations(rt, "a-serving-process") > 0
    with rt.sessions() as s:
        claims = {g: by for g, by in s.execute(select(SharedAnswerWarm.generation, SharedAnswerWarm.claimed_by))}
        assert claims[generation] == "a-serving-process"
        stored = s.scalar(select(func.count()).select_from(SharedAnswer).where(SharedAnswer.generation == generation))
    assert stored >= len(standard_questions(rt.config.force("suffolk"), "wanted", []))


def test_an_import_rolled_back_leaves_no_answers_and_nothing_in_the_process_cache(rt: Runtime, tmp_path: Path) -> None:
    """On SQLite a rolled-back batch's id is given again to the next import: an answer computed for the first
    must never be given for the second."""
    seed(rt.sessions)
    before = _open_in_ipswich(ask(rt, "wanted --district ipswich"))
    cached = len(figures_cache)
    with rt.sessions() as s:
        report = _import(rt, s, _wanted_export(tmp_path / "a.csv", [f"W-A-{i}" for i in range(5)]))
        assert warm_before_commit(rt, s, report)
        s.rollback()
    assert len(figures_cache) == cached
    with rt.sessions() as s:
        assert s.scalar(select(func.count()).select_from(SharedAnswerWarm)) == 0
        assert s.scalar(select(func.count()).select_from(SharedAnswer)) == 0
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "warm")) == 0

    with rt.sessions() as s:
        _import(rt, s, _wanted_export(tmp_path / "b.csv", ["W-B-1"]))
        s.commit()
    assert _open_in_ipswich(ask(rt, "wanted --district ipswich")) == before + 1


def test_a_failure_computing_the_answers_leaves_the_import_to_commit_and_the_servers_to_warm_it(
    rt: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(rt.sessions)
    warm_new_generations(rt, "a-serving-process")

    def broken(session: Session, *_a: Any, **_k: Any) -> Any:
        # A failed statement: on PostgreSQL it aborts the transaction it runs in.
        session.execute(text("SELECT * FROM no_such_table"))
        raise AssertionError("unreachable")

    with rt.sessions() as s:
        report = _import(rt, s, _wanted_export(tmp_path / "w.csv", ["W-NEW-1"]))
        with monkeypatch.context() as m:
            m.setattr(wanted_service, "wanted_figures", broken)
            assert warm_before_commit(rt, s, report) == []
        s.commit()  # the import itself is whole
    generation = report.batch_ids[-1]
    with rt.sessions() as s:
        assert s.get(ImportBatch, generation) is not None
        assert s.get(SharedAnswerWarm, ("suffolk", "wanted", generation)) is None
    assert warm_new_generations(rt, "a-serving-process") >= len(
        standard_questions(rt.config.force("suffolk"), "wanted", [])
    )
    with rt.sessions() as s:
        warm = s.get(SharedAnswerWarm, ("suffolk", "wanted", generation))
        assert warm is not None and warm.claimed_by == "a-serving-process" and warm.answers


def test_the_bail_and_rui_answers_computed_with_an_import_share_their_figures(
    rt: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`/mo bail` and `/mo rui` of the same filters rest on the same bail figures and the same people and closures:
    computed with the import, each is counted once for both, though the process's cache is not used."""
    seed(rt.sessions)
    figures: list[tuple[Any, ...]] = []
    outcomes: list[tuple[Any, ...]] = []
    real_figures, real_outcomes = bail_service.bail_figures, outcomes_service.bail_outcomes

    def counting_figures(session: Session, force: Any, as_of: dt.date, filters: Any, **options: Any) -> Any:
        figures.append((as_of, filters, tuple(sorted(options.items()))))
        return real_figures(session, force, as_of, filters, **options)

    def counting_outcomes(session: Session, src: Any, force: Any, as_of: dt.date, filters: Any) -> Any:
        outcomes.append((as_of, filters))
        return real_outcomes(session, src, force, as_of, filters)

    monkeypatch.setattr(bail_service, "bail_figures", counting_figures)
    monkeypatch.setattr(outcomes_service, "bail_outcomes", counting_outcomes)
    path = tmp_path / "bail.csv"
    path.write_text(
        "reference,offence,district,kind,started_on,bail_end_on\nB-NEW-1,Burglary,ipswich,bail,2026-11-01,2027-01-15\n"
    )
    with rt.sessions() as s:
        request = ImportRequest(dataset="bail", path=path, force="suffolk", as_of=rt.clock.now().date())
        report = import_file(s, rt.config, request, rt.clock.now())
        assert report.ok, report
        [p] = warm_before_commit(rt, s, report)
        s.commit()
    suffolk = rt.config.force("suffolk")
    questions = standard_questions(suffolk, "bail", [])
    assert p.written >= len(questions)
    assert sum(q.startswith("rui") for q in questions) > 0
    assert figures and len(figures) == len(set(figures))  # none computed twice
    assert outcomes and len(outcomes) == len(set(outcomes))
    # Fewer than the answers: each rui answer took its bail twin's.
    assert len(outcomes) < p.written
