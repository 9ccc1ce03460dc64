"""The middle layer: scheduled work — the runner, its exactly-once claims, the timetable, the APScheduler triggers and
the jobs (monthly summary, bail digest, reminders, freshness check, retention purge). Imports ``bot`` only."""
