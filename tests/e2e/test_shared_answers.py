"""The standard answers of an analyst's import are computed once and kept in the database for every process and
replica: by the `mo-bot import` process itself, in the import's transaction, so they are there the moment it
commits; or — when the importing process does not compute them (MO_WARM_ANSWERS=0, or computing them failed) — by
a running `mo-bot serve` within seconds of the commit. Either way the `/mo` answer Slack gets is exactly the shared
one. As in production: the importing process never answers, the serving one never imports. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.db import make_engine, make_session_factory
from bot.models import AuditEvent, ImportBatch, SharedAnswer
from tests.e2e.test_import_while_serving import CHANNEL, QUESTION, _export, _import
from tests.e2e.test_serve import MO_BOT, _config_file, _free_port, _wait_healthy, serve_env
from tests.support import fakeslack
from tests.support.fakeslack import FakeSlack
from tests.support.slackutil import blocks_text, post_signed, slash_command

fake_slack = fakeslack.fake_slack

SHARED_WITHIN_S = 20.0


@pytest.mark.parametrize("by_the_import", [True, False], ids=["with-the-import", "by-serve-after-it"])
def test_the_standard_answers_of_a_new_import_are_computed_once_for_everyone(
    db_url: str, fake_slack: FakeSlack, tmp_path: Path, by_the_import: bool
) -> None:
    port = _free_port()
    env = serve_env(fake_slack, db_url, _config_file(tmp_path / "mo.toml", fake_slack.team_id, CHANNEL), port)
    env["WEB_CONCURRENCY"] = "2"
    _import(env, _export(tmp_path / "first.csv", 3))
    proc = subprocess.Popen([MO_BOT, "serve", "--no-scheduler"], env=env, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    engine = make_engine(db_url)
    sessions = make_session_factory(engine)

    def shared_for_latest() -> tuple[int, list[str]]:
        with sessions() as s:
            batch = s.scalar(select(func.max(ImportBatch.id)).where(ImportBatch.dataset == "wanted"))
            keys = s.scalars(select(SharedAnswer.key).where(SharedAnswer.generation == batch)).all()
            return int(batch or 0), list(keys)

    try:
        _wait_healthy(base + "/healthz", proc)
        # Another process, committed when it exits.
        _import(env if by_the_import else {**env, "MO_WARM_ANSWERS": "0"}, _export(tmp_path / "second.csv", 5))
        imported = time.monotonic()
        batch, keys = shared_for_latest()
        if by_the_import:  # there as the import committed, not a poll later
            assert any("ipswich" in k for k in keys), keys
        while not any("'--district', 'ipswich'" in k or "ipswich" in k for k in keys):
            assert time.monotonic() - imported < SHARED_WITHIN_S, f"no shared answers for batch {batch}: {keys}"
            time.sleep(0.2)
            batch, keys = shared_for_latest()

        form = slash_command(
            QUESTION, user_id="U0ANALYST", team_id=fake_slack.team_id, channel_id=CHANNEL,
            response_url=fake_slack.new_response_url(),
        )  # fmt: skip
        r = post_signed(base + "/slack/events", form)
        assert r.status == 200, r.text
        got = r.json()
        assert "*5* open wanted circulations" in blocks_text(got["blocks"])
        with sessions() as s:
            payloads = [
                json.loads(p)
                for p, k in s.execute(
                    select(SharedAnswer.payload, SharedAnswer.key).where(SharedAnswer.generation == batch)
                )
                if "ipswich" in k and "'wanted'" in k
            ]
            warms = s.scalars(select(AuditEvent.detail).where(AuditEvent.action == "warm")).all()
        assert [got["text"], got["blocks"]] in payloads  # the answer given is the one computed for everyone
        # Computed once per import batch, whatever the number of serving processes.
        ours = [w for w in warms if f"import batch {batch}:" in w]
        assert len(ours) == 1, warms
        assert ours[0].endswith("in the import's transaction" if by_the_import else "after the import committed")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        engine.dispose()
    assert proc.returncode == 0, proc.stderr.read().decode() if proc.stderr else ""
