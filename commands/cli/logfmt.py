"""One log record, one line: how `mo-bot serve` writes its log.

Log lines carry values that came from outside — a header Slack forwarded, an error Slack returned, the text of an
exception raised on someone's input. A line feed or carriage return in one of them would start a line of the
sender's choosing (a forged ``INFO`` record), and an escape sequence would rewrite what an operator's terminal
shows. :class:`OneLineFormatter` writes every control character in a record's message as a Python escape
(``\\n``, ``\\x1b``), and indents every line of a traceback, so only the first line of a record starts at the left
margin — whatever the record contains. It is used for the app's own loggers (the root handler) and, through
:func:`gunicorn_logger_class`, for gunicorn's error and access logs.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"

# C0 except tab, DEL, C1, and the two Unicode line separators some log viewers break lines at.
_UNSAFE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r"}


def escape(text: str) -> str:
    """``text`` with every character that could end or rewrite a log line written as a visible escape."""
    return _UNSAFE.sub(lambda m: _NAMED.get(m.group()) or m.group().encode("unicode_escape").decode("ascii"), text)


def _indented(text: str) -> str:
    return "\n".join("    " + escape(line) for line in text.split("\n"))


class OneLineFormatter(logging.Formatter):
    """A :class:`logging.Formatter` whose records cannot forge or hide lines (see the module docstring)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = escape(record.message)
        return super().formatMessage(record)

    def formatException(self, ei: Any) -> str:
        return _indented(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return _indented(super().formatStack(stack_info))


# Libraries whose INFO lines say nothing an operator needs at a normal start (alembic: "Context impl SQLiteImpl.",
# "Will assume non-transactional DDL."; APScheduler: "Adding job tentatively…" per job): heard from at WARNING
# unless LOG_LEVEL is debug. What the jobs did is logged by mo_bot.scheduler.
QUIET_AT_INFO = ("alembic", "apscheduler")


def configure(level: str) -> None:
    """The root logger at ``level``, writing one line per record to stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLineFormatter(FORMAT))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    for name in QUIET_AT_INFO:
        logging.getLogger(name).setLevel(logging.DEBUG if level.upper() == "DEBUG" else logging.WARNING)


def gunicorn_logger_class() -> type:
    """gunicorn's logger with :class:`OneLineFormatter` on its error and access handlers. A function, so gunicorn
    (which calls it when its ``logger_class`` setting is a function) is imported only by the process that runs it."""
    from gunicorn.glogging import Logger

    class OneLineGunicornLogger(Logger):
        def setup(self, cfg: Any) -> None:
            super().setup(cfg)
            for handler in [*self.error_log.handlers, *self.access_log.handlers]:
                fmt = handler.formatter
                handler.setFormatter(OneLineFormatter(fmt._fmt if fmt else None, fmt.datefmt if fmt else None))

    return OneLineGunicornLogger
