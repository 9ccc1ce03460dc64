"""What an analyst may write with an export they send to the bot: the dataset and the import's options, as on the
command line — ``wanted``, ``import bail --snapshot``, ``suspects --as-of 2026-11-30 --covers-from 2024-01-01`` —
or nothing at all (the
dataset is then recognised from the file's header row). A word the bot does not know is refused by name, with
the words it does know, and nothing is imported."""

from __future__ import annotations

from bot.file_imports.types import ImportOptions
from commands.mo.parser import ParseError, normalise, tokenize
from commands.mo.values import BadValue, date_words, parse_date

DATASETS = ("wanted", "suspects", "bail", "actions")
# Other words people use for a dataset in the subgroup (the /mo sub-commands among them).
DATASET_WORDS = {
    "wanted": "wanted",
    "suspects": "suspects",
    "suspect": "suspects",
    "bail": "bail",
    "rui": "bail",
    "actions": "actions",
    "action-log": "actions",
}
FLAGS = ("--snapshot", "--as-of", "--covers-from")
VALID = f"a dataset ({', '.join(DATASETS)}), --snapshot, --as-of YYYY-MM-DD, --covers-from YYYY-MM-DD"


class ImportTextError(ValueError):
    """The message cannot be read as import options; the text names the bad word and what is valid."""


def parse_import_text(text: str) -> ImportOptions:
    try:
        words = tokenize(normalise(text))
    except ParseError as e:
        raise ImportTextError(f"I couldn't read your message: {e}. Nothing was imported.") from None
    if words and words[0].lower() == "import":
        words = words[1:]
    dataset: str | None = None
    as_of = None
    covers_from = None
    snapshot = False
    i = 0
    while i < len(words):
        word = words[i]
        low = word.lower()
        if low == "--snapshot":
            snapshot = True
        elif low.startswith("--as-of") or low.startswith("--covers-from"):
            flag = "--as-of" if low.startswith("--as-of") else "--covers-from"
            raw = low.split("=", 1)[1] if "=" in low else (words[i + 1] if i + 1 < len(words) else "")
            if "=" not in low:
                more = date_words(raw, words[i + 2 :]) if raw else 0  # "30 Nov 2026", as the answers write it
                raw = " ".join(words[i + 1 : i + 2 + more])
                i += 1 + more
            try:
                day = parse_date(raw)
            except BadValue:
                raise ImportTextError(
                    f"`{flag}` needs a date like 2026-11-30, not `{raw or '(nothing)'}`. Nothing was imported."
                ) from None
            if flag == "--as-of":
                as_of = day
            else:
                covers_from = day
        elif low in DATASET_WORDS and dataset is None:
            dataset = DATASET_WORDS[low]
        else:
            raise ImportTextError(f"I don't know `{word}` in an import: I understand {VALID}. Nothing was imported.")
        i += 1
    if covers_from is not None and dataset == "actions":
        raise ImportTextError("`--covers-from` is for case exports, not the action log. Nothing was imported.")
    return ImportOptions(dataset=dataset, as_of=as_of, snapshot=snapshot, covers_from=covers_from)
