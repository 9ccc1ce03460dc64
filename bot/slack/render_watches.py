"""Block Kit for watches: the DM when a line is crossed, and `/mo watches` with a remove button per watch."""

from __future__ import annotations

from bot.slack.blocks import Blk, Rendered, actions_block, button, context_block, fmt_int, section_block
from bot.slack.escape import esc
from bot.watches import Firing, WatchView

REMOVE = "mo_watch_remove"


# A message holds at most 50 blocks (chat.postMessage's limit); the DM's own take four.
_MAX_ANSWER_BLOCKS = 46


def render_firing(f: Firing, force_name: str, answer: Rendered | None = None) -> tuple[str, list[Blk]]:
    """The DM: the figure and the previous one, then the answer the watch follows (``answer``: the blocks of
    ``/mo <that question>`` as asked now, see ``jobs.watch_answers``) and the watch's own Remove button."""
    was = f"was {fmt_int(f.previous)}" if f.previous is not None else "new"
    text = (
        f":bell: Your watch `/mo {esc(f.command)}` was crossed by the latest import: now *{fmt_int(f.value)}* ({was})."
    )
    blocks = [section_block(text)]
    if answer is not None and f.spec is not None:
        blocks.append(context_block(f"The answer to `/mo {esc(f.spec.answer_command())}` now:"))
        blocks.extend(answer[1][:_MAX_ANSWER_BLOCKS])
    blocks += [
        context_block(f"{esc(force_name)} · I'll tell you again once it has been back over the line and crosses it."),
        actions_block([button("Remove this watch", REMOVE, str(f.watch_id))], block_id="mo_watch_fired"),
    ]
    return text, blocks


def render_watch_added(command: str, value: int, past: bool) -> tuple[str, list[Blk]]:
    now = f"The figure is *{fmt_int(value)}* now"
    then = (
        " — already past the line, so I'll tell you after it has been back and crosses it again."
        if past
        else "; I'll DM you after an import that crosses the line."
    )
    text = f":eyes: Watching `/mo {esc(command)}`. {now}{then}"
    return text, [section_block(text), context_block("`/mo watches` lists your watches, with a remove button each.")]


def render_watch_list(watches: list[WatchView]) -> tuple[str, list[Blk]]:
    if not watches:
        text = "You have no watches. Add one with e.g. `/mo watch rui --district ipswich --older-than 12m --above 50`."
        return text, [section_block(text)]
    text = f"Your watches ({len(watches)}):"
    blocks: list[Blk] = [section_block(f"*{text}*")]
    for w in watches:
        last = fmt_int(w.last_value) if w.last_value is not None else "?"
        state = "" if w.armed else " · past the line (told once)"
        blocks.append(
            section_block(
                f"`/mo {esc(w.command)}`\nlast figure {last}{state}",
                accessory=button("Remove", REMOVE, str(w.id)),
                block_id=f"mo_watch_{w.id}",
            )
        )
    return text, blocks
