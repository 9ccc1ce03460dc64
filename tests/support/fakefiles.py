"""Files people share with the bot, as the fake Slack (:mod:`tests.support.fakeslack`) hosts them.

Shapes follow Slack's public samples (slackapi/java-slack-sdk):

- the ``message`` event of subtype ``file_share`` a user's upload into a DM produces:
  ``json-logs/samples/events/MessageFileSharePayload.json`` (``event.files[]`` with ``id``, ``name``, ``title``,
  ``mimetype``, ``filetype``, ``pretty_type``, ``user``, ``size``, ``mode``, ``url_private``,
  ``url_private_download``; ``event.channel_type`` ``im``; ``upload: true``);
- ``files.info``: ``json-logs/samples/api/files.info.json`` (``file`` with the same fields, ``comments``,
  ``response_metadata``);
- the URLs: ``https://files.slack.com/files-pri/<team>-<file>/download/<name>`` as Slack hands them out, here on the
  fake's own port.

Like Slack, the bytes at ``url_private_download`` are served only to a request carrying the bot token
(``Authorization: Bearer xoxb-…``); anything else is redirected to the sign-in page, as Slack answers a browser
that is not signed in (an HTML page, never the file). Every download is recorded in ``fake.downloads`` with
whether it was authorised and how many bytes of the file were sent, so a test can tell that an oversize file was
never fetched whole.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

FILES_PATH = "/files-pri/"
CHUNK = 64 * 1024
_seq = itertools.count(1)

_TYPES = {
    "csv": ("text/csv", "csv", "CSV"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx", "Excel Spreadsheet"),
    "pdf": ("application/pdf", "pdf", "PDF"),
    "txt": ("text/plain", "text", "Plain Text"),
}


@dataclass
class Download:
    file_id: str
    authorised: bool
    bytes_sent: int


@dataclass
class HostedFile:
    id: str
    name: str
    content: bytes
    user: str
    channel: str
    declared_size: int  # what files.info and the event say (a test may make it lie)

    def info(self, root: str, team_id: str) -> dict[str, Any]:
        ext = self.name.rsplit(".", 1)[-1].lower() if "." in self.name else ""
        mimetype, filetype, pretty = _TYPES.get(ext, ("application/octet-stream", "binary", "Binary"))
        base = f"{root}{FILES_PATH}{team_id}-{self.id}"
        safe = quote(self.name.lower())
        return {
            "id": self.id,
            "created": 1_790_000_000,
            "timestamp": 1_790_000_000,
            "name": self.name,
            "title": self.name,
            "mimetype": mimetype,
            "filetype": filetype,
            "pretty_type": pretty,
            "user": self.user,
            "user_team": team_id,
            "editable": False,
            "size": self.declared_size,
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": False,
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": f"{base}/{safe}",
            "url_private_download": f"{base}/download/{safe}",
            "permalink": f"https://fake.slack.test/files/{self.user}/{self.id}/{safe}",
            "ims": [self.channel] if self.channel.startswith("D") else [],
            "channels": [self.channel] if self.channel.startswith("C") else [],
            "groups": [],
            "has_rich_preview": False,
            "file_access": "visible",
        }


class FakeFiles:
    """The files of one :class:`FakeSlack` (``fake.shared_files``)."""

    def __init__(self, fake: Any) -> None:
        self.fake = fake
        self.hosted: dict[str, HostedFile] = {}
        self.downloads: list[Download] = []
        self._lock = threading.Lock()

    def share(
        self,
        *,
        user: str,
        channel: str,
        name: str,
        content: bytes,
        text: str = "",
        declared_size: int | None = None,
    ) -> dict[str, Any]:
        """A user uploads ``content`` as ``name`` into ``channel`` with ``text``: the file is hosted, the user's
        message is in the channel (so the bot can reply in its thread) and the Events API body Slack would send is
        returned."""
        fid = f"F{next(_seq):010d}"
        hosted = HostedFile(fid, name, content, user, channel, len(content) if declared_size is None else declared_size)
        ts = self.fake._ts()
        if channel.startswith("D") and channel not in self.fake.channels:
            self.fake.add_channel(channel, is_im=True, name=f"im-{user}")
        with self._lock:
            self.hosted[fid] = hosted
        info = hosted.info(self.fake.root, self.fake.team_id)
        message = {
            "type": "message",
            "subtype": "file_share",
            "text": text,
            "files": [info],
            "upload": True,
            "user": user,
            "display_as_bot": False,
            "ts": ts,
            "channel": channel,
            "event_ts": ts,
            "channel_type": "im" if channel.startswith("D") else "channel",
        }
        with self.fake._cond:
            self.fake.messages[(channel, ts)] = {k: v for k, v in message.items() if k != "channel"}
        n = next(_seq)
        return {
            "token": "legacy-verification-token-unused",
            "team_id": self.fake.team_id,
            "api_app_id": "A0MOBOT01",
            "event": message,
            "type": "event_callback",
            "event_id": f"Ev{n:010d}",
            "event_time": 1_790_000_000 + n,
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.fake.team_id,
                    "user_id": self.fake.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-eyJldCI6Im1lc3NhZ2UifQ-{n}",
        }

    def files_info(self, params: dict[str, Any]) -> dict[str, Any] | None:
        """The answer of ``files.info``, or None for a file Slack does not know (``file_not_found``)."""
        with self._lock:
            hosted = self.hosted.get(str(params.get("file", "")))
        if hosted is None:
            return None
        return {
            "file": hosted.info(self.fake.root, self.fake.team_id),
            "comments": [],
            "response_metadata": {"next_cursor": ""},
        }

    def serve(self, handler: Any, path: str) -> None:
        """GET ``/files-pri/<team>-<file>/download/<name>``: the bytes, to the bot token only."""
        rest = path[len(FILES_PATH) :]
        key = rest.split("/", 1)[0]
        fid = key.split("-", 1)[1] if "-" in key else ""
        with self._lock:
            hosted = self.hosted.get(fid)
        auth = handler.headers.get("Authorization", "")
        authorised = auth == f"Bearer {self.fake.token}"
        if hosted is None:
            handler._reply(404, b"not found", "text/plain")
            return
        if not authorised:
            with self._lock:
                self.downloads.append(Download(fid, False, 0))
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                handler.send_response(302)
                handler.send_header("Location", f"{self.fake.root}/?redir={quote(path)}")
                handler.send_header("Content-Length", "0")
                handler.end_headers()
            return
        record = Download(fid, True, 0)
        with self._lock:
            self.downloads.append(record)
        body = hosted.content
        try:
            handler.send_response(200)
            handler.send_header("Content-Type", "application/octet-stream")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            for i in range(0, len(body), CHUNK):
                handler.wfile.write(body[i : i + CHUNK])
                record.bytes_sent += min(CHUNK, len(body) - i)
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True
