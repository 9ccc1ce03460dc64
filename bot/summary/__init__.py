"""The monthly summary: its content from the figures and action-log services (``monthly``) and its four charts
(``charts``)."""
