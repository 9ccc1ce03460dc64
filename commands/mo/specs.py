"""The `/mo` sub-command specs: declarative descriptions from which the one parser, `/mo help` and
`docs/commands.md` are all generated.

Adding a sub-command
--------------------
1. In a module of ``commands/mo/`` write handlers ``def handle(ctx: AnswerContext, args: ParsedArgs) -> Reply``
   and a ``register_commands(registry)`` function::

       from commands.mo.specs import CommandSpec, FlagSpec, Registry, common
       from commands.mo import values as t

       def register_commands(registry: Registry) -> None:
           registry.add(CommandSpec(
               name="actions",
               summary="The strategy action log, grouped by pillar",
               handler=handle_actions,
               flags=(FlagSpec("--overdue", t.SWITCH, "only actions past their due date"), common.SHARE),
               examples=("actions --overdue --share",),
           ))

2. Import the module in :mod:`commands.mo.catalog` and call its ``register_commands`` there — that is the whole
   wiring. The parser, help text, the `--help` of your sub-command, the docs test and the audit all follow.

Handlers get a :class:`commands.mo.reply.AnswerContext` (config, force, role, a DB session, today's date, and the
Slack client/trigger id when called from Slack) and the :class:`commands.mo.args.ParsedArgs`. They return a
:class:`commands.mo.reply.Reply` — use ``ctx.ok(...)``/``ctx.refused(...)``/``ctx.invalid(...)``. The pipeline
commits the session after the handler returns, with the audit event in the same transaction; raise to roll back
(the user then sees an error reference and the failure is audited separately).

``deferred=True`` marks a slow sub-command (ack at once, answer via ``response_url``); ``deferred_flags`` names
flags that make an otherwise fast one slow (``--list`` by default). ``min_role`` refuses the whole sub-command
below that role; finer rules (e.g. ``--post`` is admin-only) are ``FlagSpec.min_role``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from commands.mo import values as t
from commands.mo.args import ParsedArgs
from commands.mo.reply import AnswerContext, Reply

Handler = Callable[[AnswerContext, ParsedArgs], Reply]


@dataclass(frozen=True)
class FlagSpec:
    """One ``--flag`` of a sub-command. ``type`` converts and validates its value (see :mod:`commands.mo.values`)."""

    name: str  # "--district"
    type: t.ValueType
    help: str
    metavar: str | None = None  # defaults to the type's metavar
    # A value of several words without quotes (``--district bury st edmunds``) takes every word up to the next flag.
    greedy: bool = False
    min_role: str = "viewer"
    # Flags that may not be combined with this one, with the reason shown when they are.
    conflicts: tuple[tuple[str, str], ...] = ()

    @property
    def dest(self) -> str:
        return self.name.lstrip("-").replace("-", "_")

    @property
    def takes_value(self) -> bool:
        return not self.type.is_switch

    @property
    def shown_metavar(self) -> str:
        return self.metavar or self.type.metavar

    def usage(self) -> str:
        return self.name if not self.takes_value else f"{self.name} {self.shown_metavar}"


@dataclass(frozen=True)
class PositionalSpec:
    name: str
    help: str
    required: bool = False
    # Takes every remaining bare word (e.g. a title without quotes).
    rest: bool = False


@dataclass(frozen=True)
class CommandSpec:
    name: str
    summary: str
    handler: Handler
    flags: tuple[FlagSpec, ...] = ()
    positionals: tuple[PositionalSpec, ...] = ()
    aliases: tuple[str, ...] = ()
    description: str = ""
    examples: tuple[str, ...] = ()
    deferred: bool = False
    deferred_flags: tuple[str, ...] = ("--list",)
    min_role: str = "viewer"

    def flag(self, name: str) -> FlagSpec | None:
        for f in self.flags:
            if f.name == name:
                return f
        return None

    def usage(self) -> str:
        parts = [self.name]
        for p in self.positionals:
            label = f"<{p.name}>" + ("…" if p.rest else "")
            parts.append(label if p.required else f"[{label}]")
        parts.extend(f"[{f.usage()}]" for f in self.flags)
        return " ".join(parts)


@dataclass
class Registry:
    """Sub-commands by name and alias, in the order they were added (the order of `/mo help`)."""

    _specs: dict[str, CommandSpec] = field(default_factory=dict)
    _aliases: dict[str, str] = field(default_factory=dict)

    def add(self, spec: CommandSpec) -> None:
        for name in (spec.name, *spec.aliases):
            if name in self._specs or name in self._aliases:
                raise ValueError(f"/mo sub-command {name!r} is registered twice")
        names = [f.name for f in spec.flags]
        if len(set(names)) != len(names):
            raise ValueError(f"/mo {spec.name}: a flag is declared twice")
        if "--help" in names:
            raise ValueError(f"/mo {spec.name}: --help is implicit")
        self._specs[spec.name] = spec
        for a in spec.aliases:
            self._aliases[a] = spec.name

    def get(self, name: str) -> CommandSpec | None:
        name = self._aliases.get(name, name)
        return self._specs.get(name)

    def __iter__(self) -> Iterator[CommandSpec]:
        return iter(self._specs.values())

    def names(self) -> list[str]:
        return list(self._specs)

    def all_names(self) -> list[str]:
        return [*self._specs, *self._aliases]

    def commands_taking(self, flag: str) -> list[str]:
        return [s.name for s in self._specs.values() if s.flag(flag) is not None]


class common:
    """Flags shared by several sub-commands, so each means the same thing everywhere."""

    DISTRICT = FlagSpec("--district", t.DISTRICT, "one district of your force (name or alias)", greedy=True)
    OFFENCE = FlagSpec("--offence", t.TEXT, "one offence group, e.g. burglary", metavar="GROUP", greedy=True)
    AS_OF = FlagSpec("--as-of", t.AS_OF_DATE, "the figures on an earlier date (default: today)")
    OLDER_THAN = FlagSpec("--older-than", t.DURATION, "only cases opened longer ago than this")
    LIST = FlagSpec(
        "--list",
        t.SWITCH,
        "case references instead of counts (analysts; only you see it)",
        min_role="analyst",
    )
    SHARE = FlagSpec("--share", t.SWITCH, "post the answer in the channel instead of only to you")
