"""mo-bot: Slack chat-ops for the Managing Offenders subgroup."""

__version__ = "0.1.0"
