"""The `/mo` language: one parser over declarative specs, generated help, and the pipeline that answers a question
(parse → access → handler → render → audit) for Slack and for `mo-bot ask` alike."""
