"""Exports sent to the bot in Slack: checked, downloaded, recognised and imported by the same service as the CLI
(:func:`bot.importing.service.import_file`), with a confirmation before a ``--snapshot`` closes records. No Slack
here: the Slack adapters give a :data:`~bot.file_imports.types.Fetch` and render the outcomes."""
