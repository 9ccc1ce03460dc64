"""The "Remove" buttons of `/mo watches` and of a watch's DM (``action_id`` ``mo_watch_remove``): the clicker's own
watch of their force is removed (audited) and the message redrawn."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond

from bot.audit import AuditEntry, record
from bot.slack.render_watches import REMOVE, render_watch_list
from bot.watches import remove_watch, user_watches
from commands.middleware import asked


def register(app: App) -> None:
    app.action(REMOVE)(ack=_ack, lazy=[on_remove])


def _ack(ack: Ack) -> None:
    ack()


def on_remove(body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    who = asked(context)
    asker = who.asker
    raw = str(((body.get("actions") or [{}])[0]).get("value") or "")
    if asker.refusal is not None or asker.force is None or not raw.isdigit():
        who.audit_refusal("watch", f"remove watch {raw[:20]}: {asker.refusal or 'not a watch'}")
        return
    force, now = asker.force, who.rt.clock.now()
    with who.rt.sessions() as s:
        removed = remove_watch(s, force, who.user_id, int(raw), now)
        outcome, detail = (
            ("ok", f"removed watch {raw} `{removed.command()}`")
            if removed
            else ("refused", f"remove watch {raw}: not yours or gone")
        )
        entry = AuditEntry(
            actor=who.user_id, action="watch", outcome=outcome, detail=detail, force=force.slug, team_id=who.team_id
        )
        record(s, entry, at=now)
        s.commit()
        text, blocks = render_watch_list(user_watches(s, force, who.user_id))
    if removed is not None:
        text, blocks = f"Removed `/mo {removed.command()}`. {text}", blocks
    respond(text=text, blocks=blocks, replace_original=True)
