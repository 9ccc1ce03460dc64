"""A message builder over ``slack_sdk.models.blocks`` that stays inside Slack's limits by construction.

Slack rejects a message with more than 50 blocks, a section text over 3,000 characters, a field over 2,000, a
header over 150 or more than 10 fields or context elements — and the whole answer is then lost. The builder
cuts long content with "and N more" instead, keeps room for the closing context line, and every block is
validated by slack_sdk's ``to_dict()``. Texts given to it are mrkdwn the caller has already escaped (see
:mod:`bot.slack.escape`); the header is plain text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.slack.escape import esc

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_HEADER = 150
MAX_CONTEXT_ELEMENTS = 10
# Slack truncates a message's top-level text beyond 40,000 characters; the fallback only needs the gist.
MAX_FALLBACK = 3000


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fmt_int(n: int) -> str:
    return f"{n:,}"


def change_text(now: int, before: int) -> str:
    """``↑ 12 (+4.1%)`` against ``before``; ``no change``; percentages only when the base is non-zero."""
    diff = now - before
    if diff == 0:
        return "no change"
    arrow = "↑" if diff > 0 else "↓"
    pct = f" ({diff / before:+.1%})" if before else ""
    return f"{arrow} {fmt_int(abs(diff))}{pct}"


class MessageBuilder:
    def __init__(self) -> None:
        self._blocks: list[Block] = []
        self._context: list[str] = []
        self._fallback: list[str] = []

    @property
    def room(self) -> int:
        """Body blocks that still fit, always keeping one for the closing context line."""
        return MAX_BLOCKS - 1 - len(self._blocks)

    def _add(self, block: Block) -> bool:
        if self.room <= 0:
            return False
        self._blocks.append(block)  # validated once, by to_dict() in build()
        return True

    def header(self, text: str) -> MessageBuilder:
        t = clip(text, MAX_HEADER)
        self._add(HeaderBlock(text=PlainTextObject(text=t, emoji=True)))
        self._fallback.append(esc(t))  # plain text in the block, but the fallback is read as mrkdwn
        return self

    def section(self, mrkdwn: str, fallback: bool = True) -> MessageBuilder:
        t = clip(mrkdwn, MAX_SECTION_TEXT)
        if self._add(SectionBlock(text=MarkdownTextObject(text=t))) and fallback:
            self._fallback.append(t)
        return self

    def fields(self, items: Sequence[str]) -> MessageBuilder:
        """Short mrkdwn items laid out in two columns (sections of up to 10 fields)."""
        items = [clip(i, MAX_FIELD_TEXT) for i in items]
        for k in range(0, len(items), MAX_FIELDS):
            chunk = items[k : k + MAX_FIELDS]
            if not self._add(SectionBlock(fields=[MarkdownTextObject(text=i) for i in chunk])):
                break
        return self

    def divider(self) -> MessageBuilder:
        self._add(DividerBlock())
        return self

    def lines(self, heading: str | None, lines: Sequence[str], *, max_lines: int | None = None, more: int = 0) -> int:
        """``lines`` under a bold ``heading``, packed into as few sections as fit, cut with "and N more" when
        longer than ``max_lines``, the 3,000-character section limit or the blocks left. ``more`` counts items
        the caller already left out. Returns how many lines were shown."""
        limit = len(lines) if max_lines is None else min(max_lines, len(lines))
        chunks: list[list[str]] = [[f"*{heading}*"] if heading else []]
        shown = 0
        for line in lines[:limit]:
            line = clip(line, MAX_SECTION_TEXT - 200)
            cur = chunks[-1]
            # +200 keeps space for the "and N more" line at the end.
            if cur and len("\n".join([*cur, line])) > MAX_SECTION_TEXT - 200:
                if len(chunks) >= self.room:
                    break
                chunks.append([])
                cur = chunks[-1]
            cur.append(line)
            shown += 1
        left = len(lines) - shown + more
        if left > 0:
            chunks[-1].append(f"_…and {fmt_int(left)} more_")
        for chunk in chunks:
            if chunk:
                self.section("\n".join(chunk), fallback=False)
        return shown

    def context(self, *mrkdwn: str) -> MessageBuilder:
        self._context.extend(mrkdwn)
        return self

    def build(self) -> tuple[str, list[dict[str, Any]]]:
        blocks = list(self._blocks)
        if self._context:
            elements = [MarkdownTextObject(text=clip(c, MAX_SECTION_TEXT)) for c in self._context]
            blocks.append(ContextBlock(elements=elements[:MAX_CONTEXT_ELEMENTS]))
        dicts = [b.to_dict() for b in blocks[:MAX_BLOCKS]]
        fallback = clip("\n".join([*self._fallback, *self._context]), MAX_FALLBACK)
        return fallback, dicts
