"""The one escape for text placed in Slack mrkdwn or a message's ``text`` fallback.

Slack reads ``<…>`` as mentions and links (``<!channel>``, ``<!here>``, ``<@U…>``, ``<!subteam^S…>``), so any text
that comes from a user or from imported data — an argument echoed in an error, an offence group, a district
label, a case reference, an action title — goes through :func:`esc` before it is put in a message. Escaping
``&``, ``<`` and ``>`` is exactly what Slack documents; the text then shows as typed and pings nobody.
"""

from __future__ import annotations


def esc(text: object) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unesc(text: str) -> str:
    """Back to plain characters, for terminal output of a rendered message."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
