"""Who may see what: the asker's force, where the bot answers, and roles.

- The force is always the workspace's force (``forces.<slug>.slack_team_ids``); no flag selects another force's
  data. An unknown workspace is refused. Only the terminal (``mo-bot ask``, no team) picks a force itself: the
  configured default or ``--force``.
- The bot answers in the channels listed in ``slack.channels`` and in direct messages with it; an empty list means
  DMs only.
- Roles from ``slack.roles`` by user ID or user-group ID (``S…``); the highest wins, everyone in a mapped workspace
  is at least a viewer. ``viewer``: counts; ``analyst``: adds case-reference lists (ephemeral, capped);
  ``admin``: everything. The operator at the terminal (``cli:<login>``) is an admin: they already hold the
  database.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import ROLES, Config, ConfigError, Force
from bot.slack.escape import esc

CLI_PREFIX = "cli:"


@dataclass(frozen=True)
class Requester:
    user_id: str  # Slack user ID, or "cli:<login>" for the terminal
    team_id: str | None  # None only for the CLI (then config.default_force, unless force_override)
    channel_id: str | None
    channel_is_dm: bool = False  # a direct message (channel IDs starting with "D"): with the bot or between people
    user_groups: tuple[str, ...] = ()  # user-group IDs (S…) the user belongs to, if known
    # False while the process has not read the user groups from Slack yet (bot.slack.user_groups): a role the
    # user may have through a group cannot be confirmed, only refused for now.
    groups_confirmed: bool = True
    # In a direct message: True if it is the asker's DM with the bot, False if between people, None if not known
    # yet (bot.slack.bot_dms). ``--share`` posts only where the conversation is the asker's and the bot's.
    bot_dm: bool | None = None
    force_override: str | None = None  # CLI only
    # The terminal (`mo-bot ask`). A "cli:<login>" user is always the terminal; `--user U…` sets this. A request
    # without a team that is not from the terminal is refused, so a Slack payload missing its team_id never
    # falls back to the default force.
    terminal: bool = False

    @property
    def is_terminal(self) -> bool:
        return self.terminal or self.user_id.startswith(CLI_PREFIX)


@dataclass(frozen=True)
class Asker:
    """Who is asking, resolved once per request by :func:`identify`: the force the request is about, the role, and
    whether a rule refuses it. Which refusals apply is the caller's choice: a slash command (and the terminal) is
    refused by either; an interaction on the bot's own messages or views, and App Home, only by ``refusal``."""

    requester: Requester
    force: Force | None  # None when the workspace (or the terminal's force) is unknown; then ``refusal`` says why
    role: str
    refusal: str | None = None  # the workspace or force rule refuses the request: why (shown to the asker)
    channel_refusal: str | None = None  # the channel rule refuses it: why
    # A user group might give a higher role than ``role``, but the groups have not been read yet.
    role_unconfirmed: bool = False

    @property
    def command_refusal(self) -> str | None:
        """Why a `/mo` question is refused (workspace first, then channel), or None if it may be answered."""
        return self.refusal or self.channel_refusal


def role_rank(role: str) -> int:
    return ROLES.index(role)


def at_least(role: str, needed: str) -> bool:
    return role_rank(role) >= role_rank(needed)


def role_for(config: Config, user_id: str, user_groups: tuple[str, ...] = ()) -> str:
    if user_id.startswith(CLI_PREFIX):
        return "admin"
    ids = {user_id, *user_groups}
    best = "viewer"
    for role, members in config.slack.roles.items():
        if role in ROLES and ids.intersection(members) and role_rank(role) > role_rank(best):
            best = role
    return best


ROLE_UNCONFIRMED = (
    "I can't confirm your role yet: I'm still reading your Slack user groups (I have just started). "
    "Nothing was done; please try again in a minute."
)


def may_rise_by_group(config: Config, role: str) -> bool:
    """Whether some user group named in ``slack.roles`` gives a role above ``role``. Duties (``dpo``) share the
    table but add no rank: they are not roles to rise to."""
    return any(
        r in ROLES and role_rank(r) > role_rank(role) and any(m.startswith("S") for m in members)
        for r, members in config.slack.roles.items()
    )


def has_duty(config: Config, duty: str, user_id: str, user_groups: tuple[str, ...] = ()) -> bool:
    """Whether the user holds ``duty`` (``dpo``), by user ID or user group; it adds no rank."""
    return bool({user_id, *user_groups}.intersection(config.slack.roles.get(duty, ())))


def channel_rule(config: Config) -> str:
    chans = config.slack.channels
    if not chans:
        return "I only answer in a direct message with me."
    return "I answer in " + ", ".join(f"<#{c}>" for c in chans) + " and in a direct message with me."


def identify(config: Config, who: Requester) -> Asker:
    """The asker's force, role and any refusal, with its reason (it names no other force's data). Never raises."""
    role = role_for(config, who.user_id, who.user_groups)
    unconfirmed = not who.groups_confirmed and may_rise_by_group(config, role)
    if who.team_id is None:
        if not who.is_terminal:
            return Asker(who, None, role, "I couldn't tell which Slack workspace this came from, so I can't answer.")
        # The terminal: the operator picks the force (default: the configured one).
        try:
            force = config.force(who.force_override)
        except ConfigError:
            known = ", ".join(sorted(config.forces))
            why = f"There is no force {esc(repr(who.force_override))}; configured forces: {known}"
            return Asker(who, None, role, why)
    else:
        found = config.force_for_team(who.team_id)
        if found is None:
            return Asker(who, None, role, "This Slack workspace is not set up for mo-bot, so I can't answer here.")
        force = found
        if who.force_override is not None and who.force_override != force.slug:
            return Asker(who, force, role, "The force comes from the Slack workspace and can't be chosen.")
    # Slack requests always name their channel; the terminal (no channel) may name one to check the rule.
    channel_refusal = None
    if who.channel_id is not None and not who.channel_is_dm and who.channel_id not in config.slack.channels:
        channel_refusal = f"I don't answer in this channel. {channel_rule(config)}"
    return Asker(who, force, role, channel_refusal=channel_refusal, role_unconfirmed=unconfirmed)
