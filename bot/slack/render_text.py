"""Block Kit to terminal text, for `mo-bot ask`: the same answer a Slack user sees, readable in a shell."""

from __future__ import annotations

import re
from typing import Any

from bot.slack.escape import unesc

_EMOJI = {
    ":warning:": "⚠️",
    ":no_entry:": "⛔",
    ":x:": "❌",
    ":white_check_mark:": "✅",
    ":alarm_clock:": "⏰",
    ":hourglass:": "⌛",
}
_BOLD = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_([^_\n]+)_(?![\w_])")


def mrkdwn_to_text(s: str) -> str:
    for code, glyph in _EMOJI.items():
        s = s.replace(code, glyph)
    s = _BOLD.sub(r"\1", s)
    s = _ITALIC.sub(r"\1", s)
    return unesc(s)


def _text_of(obj: dict[str, Any] | None) -> str:
    if not obj:
        return ""
    t = obj.get("text", "")
    return mrkdwn_to_text(t) if obj.get("type") == "mrkdwn" else t


def blocks_to_text(blocks: list[dict[str, Any]]) -> str:
    out: list[str] = []
    for b in blocks:
        kind = b.get("type")
        if kind == "header":
            title = _text_of(b.get("text"))
            out += [title, "=" * len(title)]
        elif kind == "section":
            if b.get("text"):
                out.append(_text_of(b["text"]))
            fields = [_text_of(f) for f in b.get("fields", [])]
            for i in range(0, len(fields), 2):
                out.append("  ".join(f"{f:<38}" for f in fields[i : i + 2]).rstrip())
        elif kind == "context":
            out.append(
                " | ".join(_text_of(e) for e in b.get("elements", []) if e.get("type") in ("mrkdwn", "plain_text"))
            )
        elif kind == "divider":
            out.append("-" * 40)
        elif kind == "actions":
            labels = [_text_of(e.get("text")) for e in b.get("elements", []) if e.get("text")]
            if labels:
                out.append("[" + "] [".join(labels) + "]")
        out.append("")
    return "\n".join(out).rstrip() + "\n"
