"""Which database the tests run on: ``MO_TEST_DATABASE_URL`` unset means SQLite, a PostgreSQL URL that server."""

from __future__ import annotations

import datetime as dt
import os

TEST_DB = os.environ.get("MO_TEST_DATABASE_URL", "").strip()
IS_PG = TEST_DB.startswith("postgres")
# Mid-morning on a Monday in late November (GMT): 'today' is the same date in UTC and London.
DEFAULT_NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
