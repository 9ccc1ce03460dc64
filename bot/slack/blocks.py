"""Block Kit for every message the bot sends: Slack's limits, the block builders, and a message builder that stays
inside the limits by construction.

Slack rejects a message with more than 50 blocks, a section text over 3,000 characters, a field over 2,000, a
header over 150 or more than 10 fields or context elements — and the whole answer is then lost. The builders
clip texts to those limits; :class:`MessageBuilder` also cuts long content with "and N more" instead, keeps room
for the closing context line, and validates every block through slack_sdk when it builds the message. Texts given
as mrkdwn are what the caller has already escaped (see :mod:`bot.slack.escape`); headers, buttons and options
are plain text.

The builders return plain dicts: the action log's messages are built on the ack path, where slack_sdk's model
validation cost ~2 ms per list item (38 of 65 ms for a 12-item page, profiled); the fake Slack in the tests
rejects what Slack would.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import Block

from bot.slack.escape import esc

MAX_BLOCKS = 50
MAX_VIEW_BLOCKS = 100  # a modal or the App Home tab
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_HEADER = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_OPTION_TEXT = 75
MAX_OVERFLOW_OPTIONS = 5
MAX_BUTTON_VALUE = 2000
MAX_INPUT_TEXT = 3000  # a plain-text input's max_length
MAX_VIEW_TITLE = 24
MAX_PRIVATE_METADATA = 3000
# Slack truncates a message's top-level text beyond 40,000 characters; the fallback only needs the gist.
MAX_FALLBACK = 3000

Blk = dict[str, Any]
# A message as the renderers return it: (fallback text, blocks).
Rendered = tuple[str, list[Blk]]


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


# --- blocks and elements ------------------------------------------------------------------------------------------
def plain_text(text: str) -> Blk:
    return {"type": "plain_text", "text": text, "emoji": True}


def mrkdwn(text: str, limit: int = MAX_SECTION_TEXT) -> Blk:
    return {"type": "mrkdwn", "text": clip(text, limit)}


def header_block(text: str) -> Blk:
    return {"type": "header", "text": plain_text(clip(text, MAX_HEADER))}


def section_block(text: str, accessory: Blk | None = None, block_id: str | None = None) -> Blk:
    b: Blk = {"type": "section", "text": mrkdwn(text)}
    if accessory is not None:
        b["accessory"] = accessory
    if block_id is not None:
        b["block_id"] = block_id
    return b


def fields_block(texts: Sequence[str], block_id: str | None = None) -> Blk:
    """A section of up to ``MAX_FIELDS`` short mrkdwn fields, laid out in two columns."""
    b: Blk = {"type": "section"}
    if block_id is not None:
        b["block_id"] = block_id
    b["fields"] = [mrkdwn(t, MAX_FIELD_TEXT) for t in texts[:MAX_FIELDS]]
    return b


def context_block(*texts: str) -> Blk:
    return {"type": "context", "elements": [mrkdwn(t) for t in texts][:MAX_CONTEXT_ELEMENTS]}


def divider_block() -> Blk:
    return {"type": "divider"}


def actions_block(elements: list[Blk], block_id: str) -> Blk:
    return {"type": "actions", "block_id": block_id, "elements": elements}


def button(text: str, action_id: str, value: str, style: str | None = None) -> Blk:
    b: Blk = {"type": "button", "text": plain_text(text), "action_id": action_id, "value": value}
    if style:
        b["style"] = style
    return b


def option(text: str, value: str) -> Blk:
    return {"text": plain_text(clip(text, MAX_OPTION_TEXT)), "value": value}


def fit_blocks(blocks: Sequence[Blk], limit: int = MAX_BLOCKS) -> list[Blk]:
    """``blocks``, cut to ``limit`` with a closing note. Builders keep within the limit by construction; this is
    the guard so Slack never rejects a whole answer."""
    out = list(blocks)
    if len(out) > limit:
        out = [*out[: limit - 1], context_block("_…cut to fit Slack's limit_")]
    return out


def fallback_text(text: str) -> str:
    """The ``text`` of a message from its (escaped) mrkdwn: the bold and italic markers dropped, clipped."""
    return clip(re.sub(r"[*_]", "", text), MAX_FALLBACK)


def validated(block: Blk) -> Blk:
    """``block`` as slack_sdk writes it after checking it against Block Kit's rules (raising if it breaks one)."""
    parsed = Block.parse(block)
    if parsed is None:
        raise ValueError(f"not a Block Kit block: {block!r}")
    return parsed.to_dict()


# --- whole messages -----------------------------------------------------------------------------------------------
class MessageBuilder:
    def __init__(self) -> None:
        self._blocks: list[Blk] = []
        self._context: list[str] = []
        self._fallback: list[str] = []

    @property
    def room(self) -> int:
        """Body blocks that still fit, always keeping one for the closing context line."""
        return MAX_BLOCKS - 1 - len(self._blocks)

    def _add(self, block: Blk) -> bool:
        if self.room <= 0:
            return False
        self._blocks.append(block)  # validated once, in build()
        return True

    def header(self, text: str) -> MessageBuilder:
        block = header_block(text)
        self._add(block)
        self._fallback.append(esc(block["text"]["text"]))  # plain text in the block, but the fallback is mrkdwn
        return self

    def section(self, text: str, fallback: bool = True) -> MessageBuilder:
        block = section_block(text)
        if self._add(block) and fallback:
            self._fallback.append(block["text"]["text"])
        return self

    def fields(self, items: Sequence[str]) -> MessageBuilder:
        """Short mrkdwn items laid out in two columns (sections of up to 10 fields)."""
        for k in range(0, len(items), MAX_FIELDS):
            if not self._add(fields_block(items[k : k + MAX_FIELDS])):
                break
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

    def context(self, *texts: str) -> MessageBuilder:
        self._context.extend(texts)
        return self

    def build(self) -> tuple[str, list[dict[str, Any]]]:
        blocks = list(self._blocks)
        if self._context:
            blocks.append(context_block(*self._context))
        dicts = [validated(b) for b in blocks[:MAX_BLOCKS]]
        fallback = clip("\n".join([*self._fallback, *self._context]), MAX_FALLBACK)
        return fallback, dicts
