"""Slack rendering: escaping, Block Kit builders within Slack's limits, and the answers' layouts."""
