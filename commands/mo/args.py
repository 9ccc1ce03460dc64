"""What the one `/mo` parser produces: the sub-command and its typed values, as every handler receives them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ParsedArgs:
    command: str  # the canonical sub-command name
    text: str  # the normalised command text (what is audited)
    values: Mapping[str, Any] = field(default_factory=dict)  # flag dest ("as_of") -> converted value
    positionals: Mapping[str, str] = field(default_factory=dict)
    help: bool = False
    help_topic: str | None = None  # `/mo help wanted`

    def get(self, dest: str, default: Any = None) -> Any:
        return self.values.get(dest.lstrip("-").replace("-", "_"), default)

    def has(self, flag: str) -> bool:
        return flag.lstrip("-").replace("-", "_") in self.values
