"""Every `/mo` sub-command, wired by explicit imports in the order `/mo help` lists them: a module that fails to
import stops the process with its error instead of dropping its sub-commands."""

from __future__ import annotations

import functools
from collections.abc import Callable

from commands.mo import action_log, audit, figures, imports, meetings, summary, watches
from commands.mo.specs import Registry

RegisterCommands = Callable[[Registry], None]

SUB_COMMAND_MODULES: tuple[RegisterCommands, ...] = (
    figures.register_commands,
    action_log.register_commands,
    meetings.register_commands,
    summary.register_commands,
    watches.register_commands,
    audit.register_commands,
    imports.register_commands,
)


def build_registry(*register: RegisterCommands) -> Registry:
    """A registry of the sub-commands each ``register`` adds (default: every module above)."""
    reg = Registry()
    for add in register or SUB_COMMAND_MODULES:
        add(reg)
    return reg


@functools.cache
def default_registry() -> Registry:
    """The process-wide registry, built on first use."""
    return build_registry()
