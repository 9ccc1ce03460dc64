"""The `/mo` sub-command registry: declarative specs from which the one parser, `/mo help` and
`docs/commands.md` are all generated.

Adding a sub-command (e.g. the action log's ``actions``/``action``/``achievements`` or the monthly ``summary``)
-------------------------------------------------------------------------------------------------------------
1. In your own module (say ``commands/actions_answers.py``) write handlers
   ``def handle(ctx: AnswerContext, args: ParsedArgs) -> Reply`` and a ``register_commands(registry)`` function::

       from commands.mo.specs import CommandSpec, FlagSpec, PositionalSpec, Registry, common
       from commands.mo import values as t

       def register_commands(registry: Registry) -> None:
           registry.add(CommandSpec(
               name="actions",
               summary="The strategy action log, grouped by pillar",
               handler=handle_actions,
               flags=(FlagSpec("--owner", t.USER_OR_ME, "whose actions: @user or me"),
                      FlagSpec("--overdue", t.SWITCH, "only actions past their due date"),
                      common.SHARE),
               examples=("actions --owner me", "actions --overdue --share"),
           ))

2. Add the module's dotted name to :data:`COMMAND_MODULES` below — that one line is the whole wiring.
   The parser, help text, the `--help` of your sub-command, the docs test and the audit all follow.

Handlers get an :class:`commands.mo.pipeline.AnswerContext` (config, force, role, a DB session, today's date, and the
Slack client/trigger id when called from Slack) and the :class:`commands.mo.parser.ParsedArgs`. They return a
:class:`commands.mo.pipeline.Reply` — use ``ctx.ok(...)``/``ctx.refused(...)``/``ctx.invalid(...)``. The pipeline
commits the session after the handler returns, with the audit event in the same transaction; raise to roll back
(the user then sees an error reference and the failure is audited separately).

``deferred=True`` marks a slow sub-command (ack at once, answer via ``response_url``); ``deferred_flags`` names
flags that make an otherwise fast one slow (``--list`` by default). ``min_role`` refuses the whole sub-command
below that role; finer rules (e.g. ``--post`` is admin-only) are ``FlagSpec.min_role``.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from commands.mo import values as t

if TYPE_CHECKING:
    from commands.mo.parser import ParsedArgs
    from commands.mo.pipeline import AnswerContext, Reply

    Handler = Callable[[AnswerContext, ParsedArgs], Reply]
else:
    Handler = Callable[..., Any]

# Modules that register sub-commands, in the order they appear in `/mo help`. Each exposes
# ``register_commands(registry)``. A module not written yet is skipped, so this list may run ahead of the code.
COMMAND_MODULES: tuple[str, ...] = (
    "commands.mo.figures",
    "commands.mo.action_log",
    "commands.mo.summary",
)


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
    """Sub-commands by name and alias. Loaded once per process from :data:`COMMAND_MODULES`."""

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


_lock = threading.Lock()
_default: Registry | None = None


def load_registry(modules: tuple[str, ...] = COMMAND_MODULES) -> Registry:
    """Build a registry from ``modules`` (skipping ones not written yet)."""
    reg = Registry()
    for name in modules:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name == name:
                continue
            raise
        mod.register_commands(reg)
    return reg


def default_registry() -> Registry:
    """The process-wide registry (built on first use, so importing the parser stays cheap)."""
    global _default
    if _default is None:
        with _lock:
            if _default is None:
                _default = load_registry()
    return _default


class common:
    """Flags shared by several sub-commands, so each means the same thing everywhere."""

    DISTRICT = FlagSpec("--district", t.DISTRICT, "one district of your force (name or alias)", greedy=True)
    OFFENCE = FlagSpec("--offence", t.TEXT, "one offence group, e.g. burglary", metavar="GROUP", greedy=True)
    AS_OF = FlagSpec("--as-of", t.AS_OF_DATE, "the figures on an earlier date (default: today)")
    OLDER_THAN = FlagSpec("--older-than", t.DURATION, "only cases opened longer ago than this, e.g. 90d, 12w, 6m")
    LIST = FlagSpec(
        "--list",
        t.SWITCH,
        "case references instead of counts (analysts; only you see it)",
        min_role="analyst",
    )
    SHARE = FlagSpec("--share", t.SWITCH, "post the answer in the channel instead of only to you")
