"""The standard answers of an import, computed once and read by every process: a process that never computed an
answer gives, from the database, exactly what it would have computed — without running the figures — and only
for the generation the answer was computed from. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.access import Requester, identify
from bot.audit import AuditEntry, record_separately
from bot.audit_chain import verify_chain
from bot.figures import bail as bail_service
from bot.figures import suspects as suspects_service
from bot.figures import wanted as wanted_service
from bot.figures.cache import figures_cache
from bot.figures.cases import common_offences
from bot.import_generations.announce import announce_imports
from bot.import_generations.batches import ImportedBatch
from bot.models import AuditEvent, ImportBatch, SharedAnswer, SharedAnswerWarm, WantedCirculation
from bot.runtime import Runtime
from bot.shared_answers import read
from commands.mo import warm as warm_module
from commands.mo.pipeline import answer
from commands.mo.reply import Reply
from commands.mo.warm import standard_questions, warm_new_generations
from tests.support.seed import ALLOWED, SUFFOLK_TEAM, VIEWER, _batch, seed, slack_config


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
