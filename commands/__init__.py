"""The top layer: everything a person invokes — the `mo-bot` command line (``cli``), the Bolt app and its middleware
(``app``, ``middleware``), the Slack listeners (``listeners``, each exposing ``register(app)``), the `/mo` language
(``mo``) and the web server (``web``). Imports ``jobs`` and ``bot``; nothing imports it."""
