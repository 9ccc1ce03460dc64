"""Configuration: a TOML file over built-in defaults. Which file, and a database URL that overrides the file's,
come from the process's settings (:mod:`bot.settings`, the one reader of the environment) as parameters.

Every key is documented in ``docs/configuration.md``. A broken file stops start-up with a
:class:`ConfigError` naming the key and what is wrong, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DATASETS: tuple[str, ...] = ("wanted", "suspects", "bail", "actions")
ROLES: tuple[str, ...] = ("viewer", "analyst", "admin")
# Roles beside the ranks above: a data-protection officer exports the audit log, and sees no case data for it.
DUTY_ROLES: tuple[str, ...] = ("dpo",)
_SLUG = re.compile(r"^[a-z][a-z0-9-]*$")


class ConfigError(ValueError):
    """A configuration problem; the message names the key and what is wrong."""


@dataclass(frozen=True)
class District:
    slug: str
    label: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Force:
    slug: str
    name: str
    timezone: ZoneInfo
    districts: tuple[District, ...]
    # Slack workspaces whose users belong to this force; a workspace maps to exactly one force.
    slack_team_ids: tuple[str, ...] = ()
    # Imported action owners are initials ("HH"); this maps them to Slack user IDs once known.
    owners: Mapping[str, str] = field(default_factory=dict)
    # The subgroup's meeting dates (the chair can add more with `/mo meeting`); each has an update round before it.
    meetings: tuple[dt.date, ...] = ()
    # The update round's first DM goes this many days before each meeting.
    round_days_before: int = 5
    # Days the round sends nothing besides weekends and England and Wales's standing bank holidays: a one-off bank
    # holiday (a coronation, a state funeral) or a day the force closes.
    days_off: frozenset[dt.date] = frozenset()

    def district_slugs(self) -> tuple[str, ...]:
        return tuple(d.slug for d in self.districts)

    def resolve_district(self, value: str) -> str | None:
        """Map a district name or alias (any case, spaces or underscores for hyphens) to its slug."""
        key = normalise_token(value)
        for d in self.districts:
            if key == d.slug or key == normalise_token(d.label) or key in d.aliases:
                return d.slug
        return None

    def district_choices(self) -> str:
        """The districts as a user may name them: ``ipswich (also: south); bury-st-edmunds (also: bury, bse)``."""
        parts = []
        for d in self.districts:
            alias = f" (also: {', '.join(d.aliases)})" if d.aliases else ""
            parts.append(f"{d.slug}{alias}")
        return "; ".join(parts)

    def district_label(self, slug: str) -> str:
        for d in self.districts:
            if d.slug == slug:
                return d.label
        return slug


@dataclass(frozen=True)
class SlackSettings:
    # Channels (IDs) where the bot answers; direct messages with the bot are always allowed.
    channels: tuple[str, ...] = ()
    # role -> user IDs / user-group IDs (S…). Anyone in an allowed workspace is at least a viewer.
    roles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    list_cap: int = 50
    # Channel for the monthly summary and other scheduled posts, by force slug.
    summary_channels: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # The largest export an analyst may send to the bot in Slack (bytes); a bigger one is refused unread.
    import_max_bytes: int = 200 * 1024 * 1024


@dataclass(frozen=True)
class Config:
    timezone: ZoneInfo
    forces: Mapping[str, Force]
    default_force: str
    wanted_review_days: int
    # dataset -> expected refresh interval in days; older data is flagged as stale.
    refresh_days: Mapping[str, int]
    # Closed personal rows older than this many days are purged by the retention job.
    retention_days: int
    # The default look-ahead of "bail ending soon" (figures, /mo bail, the digest, the summary); see bail_window.
    bail_ending_soon_days: int
    database_url: str
    slack: SlackSettings
    source: str = "built-in defaults"
    # The [jobs] section: schedules, targets and the exactly-once settings of the scheduled jobs.
    jobs: JobsSettings = field(default_factory=lambda: JobsSettings())
    # The [vocabularies.<name>] sections: extra spellings of an export's values, canonical value -> spellings
    # (e.g. [vocabularies.closure_outcome] arrested = ["detained under s.24"]); checked by the import, which knows
    # the vocabularies (docs/importing.md).
    vocabulary_aliases: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    # The most rows a CSV export may have (its header included). By default a worksheet's limit in Excel, so an
    # export Excel can open always fits; a deployment that imports the force system's full CSV exports (millions of
    # circulations) raises it. An XLSX workbook is always held to Excel's own limit.
    import_max_csv_rows: int = 1_048_576

    def force(self, slug: str | None = None) -> Force:
        key = slug or self.default_force
        try:
            return self.forces[key]
        except KeyError:
            raise ConfigError(f"unknown force {key!r}; configured forces: {', '.join(sorted(self.forces))}") from None

    def bail_window(self, days: int | None = None) -> int:
        """The bail-ending-soon window a question asks for: ``days`` when it names one, else the configured."""
        return self.bail_ending_soon_days if days is None else days

    def force_for_team(self, team_id: str) -> Force | None:
        for f in self.forces.values():
            if team_id in f.slack_team_ids:
                return f
        return None


# Typographic apostrophes (Excel's and phones' autocorrect of ') read as the plain one: ``King’s Lynn`` is a label.
_APOSTROPHES = str.maketrans(dict.fromkeys("\u2018\u2019\u02bc\u2032", "'"))


def normalise_token(value: str) -> str:
    """Lower-case, trim, fold typographic apostrophes to ``'`` and spaces/underscores to hyphens:
    ``Bury St Edmunds`` → ``bury-st-edmunds``, ``King’s Lynn`` → ``king's-lynn``."""
    return re.sub(r"[\s_]+", "-", value.strip().lower().translate(_APOSTROPHES))


DEFAULTS: dict[str, Any] = {
    "timezone": "Europe/London",
    "default_force": "suffolk",
    "wanted_review_days": 28,
    "bail_ending_soon_days": 14,
    "retention_days": 2190,
    "import_max_csv_rows": 1_048_576,
    "refresh_days": {"wanted": 7, "suspects": 35, "bail": 7, "actions": 45},
    "forces": {
        "suffolk": {
            "name": "Suffolk Constabulary",
            "districts": {
                "ipswich": {"label": "Ipswich", "aliases": ["south", "ipswich-south"]},
                "bury-st-edmunds": {
                    "label": "Bury St Edmunds",
                    "aliases": ["bury", "bse", "west", "bury-st-eds"],
                },
                "lowestoft": {"label": "Lowestoft", "aliases": ["east", "lowestoft-east"]},
            },
        },
        "norfolk": {
            "name": "Norfolk Constabulary",
            "districts": {
                "norwich": {"label": "Norwich", "aliases": ["city"]},
                "kings-lynn": {"label": "King's Lynn", "aliases": ["lynn", "western"]},
                "great-yarmouth": {"label": "Great Yarmouth", "aliases": ["yarmouth", "eastern"]},
            },
        },
    },
    "slack": {"channels": [], "roles": {}, "list_cap": 50, "summary_channels": {}},
}


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        # Forces replace wholesale: a deployment that declares [forces] means exactly those forces.
        if k != "forces" and isinstance(v, Mapping) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def _int(raw: Mapping[str, Any], key: str, path: str, minimum: int = 1) -> int:
    v = raw.get(key)
    if not isinstance(v, int) or isinstance(v, bool):
        raise ConfigError(f"{path}{key}: expected a whole number, got {v!r}")
    if v < minimum:
        raise ConfigError(f"{path}{key}: must be at least {minimum}, got {v}")
    return v


def _str_list(v: Any, path: str) -> tuple[str, ...]:
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise ConfigError(f"{path}: expected a list of strings, got {v!r}")
    return tuple(v)


def _date_set(v: Any, path: str) -> frozenset[dt.date]:
    """A list of ``"YYYY-MM-DD"`` strings, as dates (repeats once)."""
    out: set[dt.date] = set()
    for d in _str_list(v, path):
        try:
            out.add(dt.date.fromisoformat(d))
        except ValueError:
            raise ConfigError(f"{path}: {d!r} is not a date; expected YYYY-MM-DD") from None
    return frozenset(out)


def _zone(v: Any, path: str) -> ZoneInfo:
    if not isinstance(v, str):
        raise ConfigError(f"{path}: expected an IANA timezone name such as 'Europe/London', got {v!r}")
    try:
        return ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{path}: unknown timezone {v!r} (expected e.g. 'Europe/London')") from None


_KNOWN_FORCE = {
    "name", "timezone", "slack_team_ids", "owners", "meetings", "round_days_before", "days_off", "districts",
}  # fmt: skip
_KNOWN_TOP = {
    "vocabularies",
    "timezone",
    "default_force",
    "wanted_review_days",
    "bail_ending_soon_days",
    "retention_days",
    "import_max_csv_rows",
    "refresh_days",
    "forces",
    "slack",
    "database_url",
    "jobs",
}


JOB_NAMES: tuple[str, ...] = (
    "monthly_summary",
    "bail_digest",
    "reminders",
    "freshness_check",
    "retention",
    "audit_check",
    "update_round",
)
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_JOB_DEFAULTS: dict[str, dict[str, Any]] = {
    # The monthly summary goes out on the first working day of the month: a Saturday 1st posts on Monday the 3rd, and
    # a bank holiday is skipped (New Year's Day 2027, a Friday: Monday 4 January). The value keeps its old name.
    "monthly_summary": {"at": "09:00", "days": list(WEEKDAYS[:5]), "day_of_month": "first-weekday"},
    "bail_digest": {"at": "08:00", "days": list(WEEKDAYS)},
    "reminders": {"at": "09:30", "days": ["mon"]},
    "freshness_check": {"at": "08:30", "days": list(WEEKDAYS[:5])},
    # 03:15 exists exactly once on both clock-change nights in the UK (the changes happen at 01:00 UTC).
    "retention": {"at": "03:15", "days": list(WEEKDAYS)},
    # After the purge, so the check covers its audit rows; admins see a break in the morning.
    "audit_check": {"at": "03:45", "days": list(WEEKDAYS)},
    # Every day: the update round before a meeting (first DMs, the nudge, the chair's digest) when one is due.
    "update_round": {"at": "08:45", "days": list(WEEKDAYS)},
}
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class JobTarget:
    """Where one job posts for one force (optionally narrowed to a district)."""

    force: str
    channel: str
    district: str | None = None

    @property
    def scope(self) -> str:
        return f"{self.force}:{self.district}" if self.district else self.force


@dataclass(frozen=True)
class JobSpec:
    name: str
    enabled: bool
    hour: int
    minute: int
    days: tuple[int, ...]  # ISO weekday numbers - 1 (0 = Monday) on which the job may fire
    day_of_month: str | None = None  # monthly_summary only: "first-weekday" or "1".."28"
    targets: tuple[JobTarget, ...] = ()


def _default_specs() -> dict[str, JobSpec]:
    return {
        name: JobSpec(
            name=name,
            enabled=True,
            hour=int(d["at"][:2]),
            minute=int(d["at"][3:]),
            days=tuple(WEEKDAYS.index(x) for x in d["days"]),
            day_of_month=d.get("day_of_month"),
        )
        for name, d in _JOB_DEFAULTS.items()
    }


@dataclass(frozen=True)
class JobsSettings:
    # Runs missed while every replica was down are caught up at start-up if at most this old (marked late).
    grace_days: int = 3
    # A claim whose holder has not finished or renewed within this many seconds is taken over.
    lease_seconds: int = 600
    # A failed post is retried (with growing waits starting at retry_minutes) at most this many times in all.
    max_attempts: int = 5
    retry_minutes: int = 15
    specs: Mapping[str, JobSpec] = field(default_factory=_default_specs)


def _jobs(raw: Any, forces: Mapping[str, Force], summary_channels: Mapping[str, tuple[str, ...]]) -> JobsSettings:
    if not isinstance(raw, Mapping):
        raise ConfigError("jobs: expected a table")
    settings = {"grace_days": 3, "lease_seconds": 600, "max_attempts": 5, "retry_minutes": 15}
    for k in raw:
        if k not in settings and k not in JOB_NAMES:
            raise ConfigError(f"jobs.{k}: unknown key (known: {', '.join([*settings, *JOB_NAMES])})")
    values = {
        k: (_int(raw, k, "jobs.", minimum=0 if k == "grace_days" else 1) if k in raw else v)
        for k, v in settings.items()
    }
    specs: dict[str, JobSpec] = {}
    for name in JOB_NAMES:
        p = f"jobs.{name}"
        jr = raw.get(name, {})
        if not isinstance(jr, Mapping):
            raise ConfigError(f"{p}: expected a table")
        known = {"enabled", "at", "days"}
        if name in ("monthly_summary", "bail_digest"):
            known |= {"posts"}  # the jobs that post in channels; the others DM or post nothing
        if name == "monthly_summary":
            known |= {"day_of_month"}
        for k in jr:
            if k not in known:
                raise ConfigError(f"{p}.{k}: unknown key (known: {', '.join(sorted(known))})")
        d = {**_JOB_DEFAULTS[name], **jr}
        enabled = d.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ConfigError(f"{p}.enabled: expected true or false, got {enabled!r}")
        m = _TIME.match(d["at"]) if isinstance(d["at"], str) else None
        if not m:
            raise ConfigError(f'{p}.at: expected a 24-hour local time like "09:00", got {d["at"]!r}')
        days = _str_list(d["days"], f"{p}.days")
        bad = [x for x in days if x.lower() not in WEEKDAYS]
        if bad or not days:
            raise ConfigError(f"{p}.days: expected weekday names from {', '.join(WEEKDAYS)}, got {d['days']!r}")
        dom = d.get("day_of_month")
        if dom is not None:
            dom = str(dom)
            if dom != "first-weekday" and not (dom.isdigit() and 1 <= int(dom) <= 28):
                raise ConfigError(f'{p}.day_of_month: expected "first-weekday" or a day 1-28, got {dom!r}')
        targets: list[JobTarget] = []
        posts = jr.get("posts")
        if posts is None and name == "monthly_summary":
            # By default the summary goes to each force's summary channel(s) from [slack].
            targets = [JobTarget(f, c) for f, chans in summary_channels.items() for c in chans]
        elif posts is not None:
            if not isinstance(posts, list) or not all(isinstance(x, Mapping) for x in posts):
                raise ConfigError(f'{p}.posts: expected a list of tables like {{force = "suffolk", channel = "C…"}}')
            for i, t in enumerate(posts):
                tp = f"{p}.posts[{i}]"
                for k in t:
                    if k not in ("force", "channel", "district"):
                        raise ConfigError(f"{tp}.{k}: unknown key (known: force, channel, district)")
                force = t.get("force")
                if force not in forces:
                    raise ConfigError(f"{tp}.force: {force!r} is not one of {', '.join(sorted(forces))}")
                channel = t.get("channel")
                if not isinstance(channel, str) or channel[:1] not in ("C", "G", "D"):
                    raise ConfigError(f'{tp}.channel: expected a Slack channel ID like "C0123ABC", got {channel!r}')
                district = t.get("district")
                if district is not None:
                    slug = forces[force].resolve_district(str(district))
                    if slug is None:
                        raise ConfigError(f"{tp}.district: {district!r} is not a district of {force}")
                    district = slug
                targets.append(JobTarget(force, channel, district))
        specs[name] = JobSpec(
            name=name,
            enabled=enabled,
            hour=int(m.group(1)),
            minute=int(m.group(2)),
            days=tuple(sorted({WEEKDAYS.index(x.lower()) for x in days})),
            day_of_month=dom,
            targets=tuple(targets),
        )
    return JobsSettings(specs=specs, **values)


def build_config(raw: Mapping[str, Any], source: str, *, database_url: str | None = None) -> Config:
    """The config of ``raw`` (already merged over the defaults); ``database_url`` (the process's
    ``DATABASE_URL``) wins over the file's ``database_url``."""
    unknown = set(raw) - _KNOWN_TOP
    if unknown:
        raise ConfigError(f"{sorted(unknown)[0]}: unknown key (known: {', '.join(sorted(_KNOWN_TOP))})")
    tz = _zone(raw.get("timezone"), "timezone")

    forces_raw = raw.get("forces")
    if not isinstance(forces_raw, Mapping) or not forces_raw:
        raise ConfigError("forces: at least one force must be declared, e.g. [forces.suffolk]")
    forces: dict[str, Force] = {}
    seen_teams: dict[str, str] = {}
    seen_owner_users: dict[str, str] = {}
    for slug, fr in forces_raw.items():
        p = f"forces.{slug}"
        if not _SLUG.match(slug):
            raise ConfigError(f"{p}: force keys must be lower-case slugs like 'suffolk'")
        if not isinstance(fr, Mapping):
            raise ConfigError(f"{p}: expected a table")
        unknown_keys = set(fr) - _KNOWN_FORCE
        if unknown_keys:
            # A misspelt key would otherwise be ignored without a word (``days_of`` leaving the round to DM on them).
            raise ConfigError(f"{p}.{sorted(unknown_keys)[0]}: unknown key (known: {', '.join(sorted(_KNOWN_FORCE))})")
        dr = fr.get("districts")
        if not isinstance(dr, Mapping) or not dr:
            raise ConfigError(f"{p}.districts: at least one district must be declared")
        districts: list[District] = []
        names: dict[str, str] = {}
        for dslug, dv in dr.items():
            dp = f"{p}.districts.{dslug}"
            if not _SLUG.match(dslug):
                raise ConfigError(f"{dp}: district keys must be lower-case slugs like 'bury-st-edmunds'")
            if not isinstance(dv, Mapping):
                raise ConfigError(f"{dp}: expected a table with 'label' and 'aliases'")
            label = dv.get("label", dslug)
            if not isinstance(label, str) or not label.strip():
                raise ConfigError(f"{dp}.label: expected a non-empty string")
            aliases = tuple(normalise_token(a) for a in _str_list(dv.get("aliases", []), f"{dp}.aliases"))
            for name in (dslug, normalise_token(label), *aliases):
                if names.get(name, dslug) != dslug:
                    raise ConfigError(f"{dp}.aliases: {name!r} already names district {names[name]!r}")
                names[name] = dslug
            districts.append(District(dslug, label, aliases))
        teams = _str_list(fr.get("slack_team_ids", []), f"{p}.slack_team_ids")
        for t in teams:
            if t in seen_teams:
                raise ConfigError(f"{p}.slack_team_ids: {t} already belongs to force {seen_teams[t]!r}")
            seen_teams[t] = slug
        owners_raw = fr.get("owners", {})
        if not isinstance(owners_raw, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) and v.startswith(("U", "W")) for k, v in owners_raw.items()
        ):
            raise ConfigError(f'{p}.owners: expected initials = "U…" Slack user IDs')
        for initials, user in owners_raw.items():
            # A Slack user belongs to one workspace, so to one force: the same ID in two forces' maps would let a
            # person own (and see in App Home and reminders) the other force's actions.
            if seen_owner_users.get(user, slug) != slug:
                raise ConfigError(
                    f"{p}.owners.{initials}: {user} is already an owner in force {seen_owner_users[user]!r}; "
                    "a Slack user belongs to one force"
                )
            seen_owner_users[user] = slug
        name = fr.get("name", slug.title())
        if not isinstance(name, str):
            raise ConfigError(f"{p}.name: expected a string")
        meetings = _date_set(fr.get("meetings", []), f"{p}.meetings")
        days_off = _date_set(fr.get("days_off", []), f"{p}.days_off")
        days_before = fr.get("round_days_before", 5)
        if not isinstance(days_before, int) or isinstance(days_before, bool) or not 3 <= days_before <= 28:
            # The nudge goes two days before the meeting, so the first DM must come earlier than that.
            raise ConfigError(f"{p}.round_days_before: expected a whole number of days from 3 to 28")
        forces[slug] = Force(
            slug=slug,
            name=name,
            timezone=_zone(fr["timezone"], f"{p}.timezone") if "timezone" in fr else tz,
            districts=tuple(districts),
            slack_team_ids=teams,
            owners={k.upper(): v for k, v in owners_raw.items()},
            meetings=tuple(sorted(meetings)),
            round_days_before=days_before,
            days_off=days_off,
        )

    default_force = raw.get("default_force")
    if default_force not in forces:
        # A deployment that declares only one force needs no default_force line.
        if default_force == DEFAULTS["default_force"] and len(forces) == 1:
            default_force = next(iter(forces))
        else:
            raise ConfigError(f"default_force: {default_force!r} is not one of {', '.join(sorted(forces))}")

    rd = raw.get("refresh_days")
    if not isinstance(rd, Mapping):
        raise ConfigError("refresh_days: expected a table of dataset = days")
    for k in rd:
        if k not in DATASETS:
            raise ConfigError(f"refresh_days.{k}: unknown dataset (known: {', '.join(DATASETS)})")
    refresh = {k: _int(rd, k, "refresh_days.") for k in DATASETS}

    sr = raw.get("slack", {})
    if not isinstance(sr, Mapping):
        raise ConfigError("slack: expected a table")
    roles_raw = sr.get("roles", {})
    if not isinstance(roles_raw, Mapping):
        raise ConfigError("slack.roles: expected a table of role = [IDs]")
    roles: dict[str, tuple[str, ...]] = {}
    for role, ids in roles_raw.items():
        if role not in ROLES and role not in DUTY_ROLES:
            raise ConfigError(f"slack.roles.{role}: unknown role (known: {', '.join((*ROLES, *DUTY_ROLES))})")
        roles[role] = _str_list(ids, f"slack.roles.{role}")
    sc_raw = sr.get("summary_channels", {})
    if not isinstance(sc_raw, Mapping):
        raise ConfigError("slack.summary_channels: expected a table of force = [channel IDs]")
    summary_channels: dict[str, tuple[str, ...]] = {}
    for fslug, chans in sc_raw.items():
        if fslug not in forces:
            raise ConfigError(f"slack.summary_channels.{fslug}: unknown force")
        summary_channels[fslug] = _str_list(chans, f"slack.summary_channels.{fslug}")
    slack = SlackSettings(
        channels=_str_list(sr.get("channels", []), "slack.channels"),
        roles=roles,
        list_cap=_int(sr, "list_cap", "slack.") if "list_cap" in sr else 50,
        summary_channels=summary_channels,
        import_max_bytes=(_int(sr, "import_max_mb", "slack.") if "import_max_mb" in sr else 200) * 1024 * 1024,
    )

    db = database_url or raw.get("database_url") or "sqlite:///mo-bot.db"
    if not isinstance(db, str) or "://" not in db:
        raise ConfigError(f"DATABASE_URL: expected a URL like sqlite:///mo-bot.db, got {db!r}")
    # Heroku-style URLs name the scheme 'postgres://'; SQLAlchemy needs the driver spelled out.
    if db.startswith(("postgres://", "postgresql://")):
        db = "postgresql+psycopg://" + db.split("://", 1)[1]

    return Config(
        timezone=tz,
        forces=forces,
        default_force=default_force,
        wanted_review_days=_int(raw, "wanted_review_days", ""),
        refresh_days=refresh,
        retention_days=_int(raw, "retention_days", ""),
        import_max_csv_rows=_int(raw, "import_max_csv_rows", "", minimum=1_048_576),
        bail_ending_soon_days=_int(raw, "bail_ending_soon_days", ""),
        database_url=db,
        slack=slack,
        source=source,
        jobs=_jobs(raw.get("jobs", {}), forces, summary_channels),
        vocabulary_aliases=_vocabularies(raw.get("vocabularies", {})),
    )


def _vocabularies(raw: Any) -> dict[str, dict[str, tuple[str, ...]]]:
    """``[vocabularies.<name>] <value> = ["spelling", …]``: shape only; the import checks the names and values."""
    if not isinstance(raw, dict):
        raise ConfigError("vocabularies: expected tables like [vocabularies.closure_outcome]")
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for name, values in raw.items():
        if not isinstance(values, dict):
            raise ConfigError(f"vocabularies.{name}: expected a table of value = [spellings]")
        out[name] = {}
        for value, spellings in values.items():
            if not isinstance(spellings, list) or not all(isinstance(x, str) and x.strip() for x in spellings):
                raise ConfigError(f"vocabularies.{name}.{value}: expected a list of non-empty strings")
            out[name][value] = tuple(spellings)
    return out


def load_config(path: str | os.PathLike[str] | None = None, *, database_url: str | None = None) -> Config:
    """Load configuration from the TOML file ``path`` (None: the built-in defaults) merged over the defaults;
    ``database_url`` wins over the file's. Nothing here reads the environment: see :mod:`bot.settings`."""
    raw: dict[str, Any] = {}
    source = "built-in defaults"
    if path:
        p = Path(path)
        try:
            raw = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"MO_CONFIG: file not found: {p}") from None
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{p}: not valid TOML: {e}") from None
        source = str(p)
    return build_config(_merge(DEFAULTS, raw), source, database_url=database_url)
