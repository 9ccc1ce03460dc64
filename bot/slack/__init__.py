"""Slack adapters: the Web API client with its retries, Block Kit builders within Slack's limits, escaping, the
renderers of every answer, and posting (action-log messages kept in step, the monthly summary, admin DMs)."""
