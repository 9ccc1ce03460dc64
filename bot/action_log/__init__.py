"""The strategy action log: actions, achievements and recommendations under the four pillars, with their history."""
