"""Bolt listeners, one module per kind of Slack request; each exposes ``register(app)``, called by ``commands.app``."""
