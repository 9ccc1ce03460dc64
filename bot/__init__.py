"""The ground layer: mo-bot's domain services, store, configuration and Slack adapters. Imports neither ``jobs`` nor
``commands``."""

__version__ = "0.1.0"
