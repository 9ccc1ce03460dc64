"""Scheduled work: the monthly summary, digests, reminders, freshness checks and retention purge."""
