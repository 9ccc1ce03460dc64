"""Posting the monthly summary in Slack: the headline message, then its charts uploaded into the message's thread
(``files_upload_v2``: files.getUploadURLExternal, the upload, files.completeUploadExternal), each with alt text.
The scheduled post and the `/mo summary` preview both go through here."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient

from bot.slack.render_summary import render_summary
from bot.summary.charts import render_all
from bot.summary.monthly import MonthlySummary


def chart_uploads(summary: MonthlySummary) -> list[dict[str, Any]]:
    """The four charts as ``files_upload_v2`` items (none for a month with no data). matplotlib loads here."""
    return [
        {
            "content": c.png,
            "filename": c.filename(summary),
            "title": f"{c.title} — {summary.month_label}",
            "alt_txt": c.alt_text,
        }
        for c in render_all(summary)
    ]


def post_header(client: WebClient, channel: str, summary: MonthlySummary, charts: int, *, preview: bool = False) -> str:
    text, blocks = render_summary(summary, charts=charts, preview=preview)
    resp = client.chat_postMessage(channel=channel, text=text, blocks=blocks, unfurl_links=False)
    return str(resp["ts"])


def upload_charts(client: WebClient, channel: str, thread_ts: str, uploads: list[dict[str, Any]]) -> None:
    if uploads:
        client.files_upload_v2(file_uploads=uploads, channel=channel, thread_ts=thread_ts)
