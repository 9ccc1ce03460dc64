"""Control characters in what people type and what files carry: which ones a text may not hold, and how one is
named to the person who sent it.

A NUL cannot be stored in PostgreSQL text at all, so one let through fails the statement that carries it; the
other controls move a terminal's cursor or forge a line when what was stored is printed or logged; an unpaired
surrogate (which a JSON payload can carry) cannot be encoded as UTF-8 for either database. The `/mo` parser, the
import's cell checks and the action log's rules all refuse the same set, named the same way."""

from __future__ import annotations

import re

# C0 controls except the whitespace a text may hold (tab, line feed and carriage return — a note runs over lines;
# vertical tab and form feed in one-line text, which the `/mo` parser folds into spaces, are left to the caller),
# DEL, the C1 controls, and unpaired surrogates.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_CONTROL_OR_VT_FF = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_NAMES = {0x00: "NUL", 0x07: "BEL", 0x08: "backspace", 0x0B: "vertical tab", 0x0C: "form feed", 0x1B: "ESC",
          0x7F: "DEL", 0x85: "NEL"}  # fmt: skip


def controls(one_line: bool = False) -> re.Pattern[str]:
    """The characters refused in text: with ``one_line`` vertical tab and form feed are whitespace (the `/mo` parser
    folds them); in a cell or a field that keeps what was typed they are refused too."""
    return _CONTROL if one_line else _CONTROL_OR_VT_FF


def control_name(ch: str) -> str:
    """``U+0000 (NUL)``: how a refused character is named to the person who sent it and in the audit."""
    code = ord(ch)
    name = _NAMES.get(code) or ("unpaired surrogate" if 0xD800 <= code <= 0xDFFF else "control character")
    return f"U+{code:04X} ({name})"


def first_control(text: str, one_line: bool = False) -> str | None:
    """The name of the first control character in ``text`` (see :func:`controls`), or None when there is none."""
    found = controls(one_line).search(text)
    return None if found is None else control_name(found.group())
