"""`/mo import`: the form to import an export from Slack (:data:`bot.slack.render_file_import.FORM`); its
submission is imported by :mod:`commands.listeners.file_import`, exactly as a file sent to the bot's DM."""

from __future__ import annotations

from bot.file_imports.service import IMPORT_ROLE
from bot.slack.render_file_import import import_form
from commands.mo.args import ParsedArgs
from commands.mo.reply import AnswerContext, Reply
from commands.mo.specs import CommandSpec, Registry


def register_commands(reg: Registry) -> None:
    reg.add(
        CommandSpec(
            name="import",
            summary="Import an export (CSV or XLSX) from a form — or just send the file to me in a DM",
            handler=handle_import,
            examples=("import",),
            min_role=IMPORT_ROLE,
        )
    )


def handle_import(ctx: AnswerContext, args: ParsedArgs) -> Reply:
    client = ctx.slack.client if ctx.slack else None
    trigger = ctx.slack.trigger_id if ctx.slack else None
    if client is None or not trigger:
        return ctx.invalid("the import form opens in Slack", "in the terminal use `mo-bot import DATASET FILE`")
    text = "Opening the import form… (you can also just send the file to me in a DM)"
    return ctx.opening(text, import_form(ctx.force.slug))
