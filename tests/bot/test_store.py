"""The store itself: migrations, the append-only audit log, and the config loader."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from bot.audit import AuditEntry, record, record_separately
from bot.audit_chain import link_hash
from bot.config import DEFAULTS, ConfigError, build_config, load_config
from bot.models import AuditEvent, Base, WantedCirculation
from tests.support.paths import REPO_ROOT


def test_audit_log_is_append_only(sessions) -> None:
    record_separately(sessions, AuditEntry(actor="U1", action="command", outcome="ok", detail="wanted"))
    with sessions() as s:
        with pytest.raises(DBAPIError, match="append-only"):
            s.execute(text("UPDATE audit_log SET outcome = 'error'"))
        s.rollback()
        with pytest.raises(DBAPIError, match="append-only"):
            s.execute(text("DELETE FROM audit_log"))
        s.rollback()
        events = s.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.actor, e.outcome, e.detail) for e in events] == [("U1", "ok", "wanted")]
    assert events[0].at.tzinfo is not None


def test_audit_rejects_unknown_outcome(session) -> None:
    with pytest.raises(ValueError, match="outcome"):
        record(session, AuditEntry(actor="U1", action="command", outcome="maybe"))
    assert session.scalars(select(AuditEvent)).all() == []


def test_reference_unique_per_force(sessions) -> None:
    row = dict(
        reference="W1",
        offence="burglary",
        district="ipswich",
        reason="never_arrested",
        circulated_on=dt.date(2026, 1, 1),
        status="open",
    )
    with sessions() as s, s.begin():
        s.add(WantedCirculation(force="suffolk", **row))
        s.add(WantedCirculation(force="norfolk", **row))  # same reference, other force: allowed
    with sessions() as s:
        s.add(WantedCirculation(force="suffolk", **row))
        with pytest.raises(IntegrityError):
            s.commit()


def test_default_config() -> None:
    cfg = load_config()
    suffolk = cfg.force()
    assert suffolk.slug == "suffolk"
    assert suffolk.district_slugs() == ("ipswich", "bury-st-edmunds", "lowestoft")
    assert {suffolk.resolve_district(a) for a in ("south", "Ipswich", " IPSWICH ")} == {"ipswich"}
    assert {suffolk.resolve_district(a) for a in ("bury", "BSE", "west", "Bury St Edmunds")} == {"bury-st-edmunds"}
    assert suffolk.resolve_district("east") == "lowestoft"
    assert suffolk.resolve_district("norwich") is None
    assert cfg.force("norfolk").resolve_district("King\u2019s Lynn") == "kings-lynn"  # Excel's apostrophe
    assert cfg.timezone.key == "Europe/London"
    assert cfg.wanted_review_days == 28
    assert cfg.database_url == "sqlite:///mo-bot.db"


@pytest.mark.parametrize(
    ("toml", "names"),
    [
        ('timezone = "Mars/Olympus"', "timezone"),
        ("wanted_review_days = 0", "wanted_review_days"),
        ('wanted_review_days = "28"', "wanted_review_days"),
        ("[refresh_days]\nwanted = -1", "refresh_days.wanted"),
        ("[refresh_days]\nburglary = 3", "refresh_days.burglary"),
        ('colour = "blue"', "colour"),
        (
            '[forces.suffolk]\nname = "S"\n[forces.suffolk.districts.Ipswich]\nlabel = "I"',
            "forces.suffolk.districts.Ipswich",
        ),
        ('[forces.suffolk.districts.ipswich]\naliases = "south"', "forces.suffolk.districts.ipswich.aliases"),
        ('[forces.a.districts.x]\naliases = ["y"]\n[forces.a.districts.y]\nlabel = "Y"', "forces.a.districts.y"),
        ('[slack.roles]\nsuperuser = ["U1"]', "slack.roles.superuser"),
        ('default_force = "essex"', "default_force"),
        ('[forces.suffolk]\ndays_of = ["2027-05-03"]', "forces.suffolk.days_of"),
        ('[forces.suffolk]\ndays_off = ["3 May 2027"]\n[forces.suffolk.districts.ipswich]', "forces.suffolk.days_off"),
        ('[forces.suffolk]\ndays_off = "2027-05-03"\n[forces.suffolk.districts.ipswich]', "forces.suffolk.days_off"),
    ],
)
def test_broken_config_names_the_key(tmp_path, toml: str, names: str) -> None:
    p = tmp_path / "mo.toml"
    p.write_text(toml)
    with pytest.raises(ConfigError) as e:
        load_config(p)
    assert str(e.value).startswith(names) or names in str(e.value)


def test_config_file_not_toml(tmp_path) -> None:
    p = tmp_path / "mo.toml"
    p.write_text("forces = [")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(p)


def test_database_url_from_env_and_heroku_scheme() -> None:
    cfg = build_config(DEFAULTS, "test", database_url="postgres://u@h/db")
    assert cfg.database_url == "postgresql+psycopg://u@h/db"


def test_migrations_match_models(engine) -> None:
    """The migrated schema is exactly what the models declare (catches a model change without a migration)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_example_config_loads() -> None:

    cfg = load_config(REPO_ROOT / "docs" / "mo-bot.example.toml")
    assert list(cfg.forces) == ["suffolk"]
    assert cfg.force_for_team("T0SUFFOLK") is cfg.force("suffolk")
    assert cfg.slack.roles["analyst"] == ("S0PERFTEAM",)


def test_engine_session_settings(engine) -> None:
    """What every connection of the bot runs with: SQLite in WAL mode with foreign keys on, REPLACE firing delete
    triggers, and the audit chain's hash function; PostgreSQL without parallel query workers (see
    bot.db.make_engine)."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA recursive_triggers").scalar() == 1
            in_sql = "SELECT mo_audit_link_hash('', 1, 1, '2026-01-01 00:00:00', 'U1', NULL, NULL, NULL, 'command', "
            in_sql += "'', 'ok', 0, NULL)"
            at = "2026-01-01T00:00:00.000000"
            expected = link_hash("", 1, 1, at, "U1", None, None, None, "command", "", "ok", 0, None)
            assert conn.exec_driver_sql(in_sql).scalar() == expected
        else:
            assert conn.exec_driver_sql("SHOW max_parallel_workers_per_gather").scalar() == "0"
