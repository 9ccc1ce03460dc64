"""Listeners for the `/mo` slash command and its interactions; each module exposes ``register(app)``."""
