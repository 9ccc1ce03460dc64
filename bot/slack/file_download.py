"""Files people share with the bot: ``files.info`` into a :class:`~bot.file_imports.types.FileOffer`, and the bytes
at its ``url_private_download`` streamed to a local file with the bot token.

The token goes only to Slack's file host (``files.slack.com``) or to the host the Web API is configured at
(``SLACK_API_URL``: a proxy, or the tests' fake), over HTTPS unless it is that configured host; a redirect is not
followed (Slack answers a request it does not accept with a redirect to its sign-in page, never the file). The
body is read in 1 MiB blocks and the download stops as soon as it passes the size limit — a ``Content-Length``
over the limit is refused before a byte of the body is read — so memory stays flat and an oversize file is never
fetched whole.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.file_imports.types import Fetch, FetchFailed, FileOffer

SLACK_FILE_HOST = "files.slack.com"
BLOCK = 1 << 20
TIMEOUT_S = 30.0


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # urllib then raises HTTPError with the 3xx status


_opener = urllib.request.build_opener(_NoRedirect())


def offer_of(file: dict[str, Any]) -> FileOffer:
    """A file object of ``files.info`` (or of a ``file_share`` message's ``files``) as a FileOffer."""
    size = file.get("size")
    return FileOffer(
        file_id=str(file.get("id") or ""),
        name=str(file.get("name") or file.get("title") or "export"),
        size=size if isinstance(size, int) else 0,
        filetype=str(file.get("filetype") or ""),
        url=str(file.get("url_private_download") or ""),
    )


def file_info(client: WebClient, file_id: str) -> FileOffer:
    """The file as Slack describes it now (``files.info``, scope ``files:read``). Raises FetchFailed."""
    try:
        found = client.files_info(file=file_id)
    except SlackApiError as e:
        reason = e.response.get("error") if e.response is not None else None
        raise FetchFailed(f"Slack would not show me the file ({reason or 'error'}). Nothing was imported.") from None
    file = found.get("file")
    if not isinstance(file, dict):
        raise FetchFailed("Slack did not describe the file. Nothing was imported.")
    return offer_of(file)


def allowed(url: str, client: WebClient) -> bool:
    parts = urlsplit(url)
    api = urlsplit(client.base_url)
    if parts.netloc and parts.netloc == api.netloc and parts.scheme in ("http", "https"):
        return True
    return parts.scheme == "https" and parts.hostname == SLACK_FILE_HOST


def downloader(client: WebClient, url: str) -> Fetch:
    """A Fetch that streams ``url`` with ``client``'s bot token."""

    def fetch(dest: Path, max_bytes: int) -> None:
        token = client.token
        if not url or not allowed(url, client) or not token:
            raise FetchFailed("The file's download address is not Slack's, so I did not download it.")
        req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
        try:
            with _opener.open(req, timeout=TIMEOUT_S) as resp:
                declared = resp.headers.get("Content-Length")
                if declared is not None and declared.isdigit() and int(declared) > max_bytes:
                    raise FetchFailed(_too_big(int(declared), max_bytes))
                got = 0
                with dest.open("wb") as out:
                    while block := resp.read(BLOCK):
                        got += len(block)
                        if got > max_bytes:
                            raise FetchFailed(_too_big(got, max_bytes, at_least=True))
                        out.write(block)
        except urllib.error.HTTPError as e:
            raise FetchFailed(
                f"Slack would not let me download the file (HTTP {e.code}). Nothing was imported; try again, or "
                "check the bot has the files:read scope."
            ) from None
        except (urllib.error.URLError, OSError) as e:
            raise FetchFailed(f"The download from Slack failed ({type(e).__name__}). Nothing was imported.") from None

    return fetch


def _too_big(n: int, limit: int, *, at_least: bool = False) -> str:
    more = "more than " if at_least else ""
    return (
        f"The file is {more}{n / (1 << 20):,.1f} MB; I import files of at most {limit / (1 << 20):,.1f} MB sent in "
        "Slack. Nothing was imported: split the export, or import it on the server with `mo-bot import`."
    )
