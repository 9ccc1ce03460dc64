"""The one parser of `/mo` text, and the help generated from the registered specs.

Slack clients change what people type before it reaches us: macOS and iOS turn ``--`` into an em dash and
straight quotes into curly ones, pasted text carries non-breaking spaces, and with "escape channels, users and
links" on, mentions arrive as ``<@U123|name>`` and ``&``/``<``/``>`` as HTML entities. :func:`normalise` undoes all
of that first, so ``—district`` and ``--district`` mean the same; then the text is split like a shell would
(``shlex``), except that an apostrophe inside a word (``King's Lynn``) is a letter, not a quote.

Errors are :class:`ParseError` with a ``kind`` (one per error class, tested one by one), a message that names
what was typed and a hint with the valid values. Parsing changes nothing and reads no database.

Text is refused before any of that (:func:`check_text`) when it is longer than Slack can send or carries control
characters. Every step after it is linear in the length of the text: each pattern below either cannot backtrack or
stops at the next ``<``, and the tokenizer is one regex scan (``shlex`` builds each word a character at a time,
which is quadratic in the length of a word), so a hostile 40,000-character question costs milliseconds on the ack.
"""

from __future__ import annotations

import functools
import re
from typing import Any, NoReturn

from bot.config import normalise_token
from bot.text import control_name, controls
from commands.mo.args import ParsedArgs
from commands.mo.specs import CommandSpec, FlagSpec, Registry
from commands.mo.values import BadValue, ParseContext, did_you_mean

HELP_FLAGS = ("--help", "-h")

ERROR_KINDS = (
    "too_long",
    "control_character",
    "unbalanced_quotes",
    "unknown_command",
    "unknown_flag",
    "flag_not_for_command",
    "missing_value",
    "bad_value",
    "unexpected_argument",
    "missing_argument",
    "repeated_flag",
    "no_value_expected",
    "conflicting_flags",
)


class ParseError(ValueError):
    def __init__(self, kind: str, message: str, hint: str = "", command: str | None = None) -> None:
        assert kind in ERROR_KINDS, kind
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.hint = hint
        self.command = command


# --- refused before anything else -----------------------------------------------------------------------------
# Slack documents no separate limit for a slash command's text; it is typed in the message composer, and Slack keeps
# at most 40,000 characters of a message's text ("Truncating really long messages", api.slack.com changelog,
# 2018-04). A `/mo` question is a few words (the longest value, a note, is 2,000 characters), so anything longer did
# not come from a person typing and is refused before it is normalised, tokenised or parsed.
MAX_TEXT = 40_000
# Control characters (bot.text): in one-line text, as `/mo` questions are, vertical tab and form feed are whitespace
# that normalise() folds; everything else bot.text names is refused before parsing.
_CONTROL = controls(one_line=True)


def visible_controls(text: str) -> str:
    """``text`` with each control character replaced by its name in angle brackets, safe to store and to log."""
    return _CONTROL.sub(lambda m: f"<{control_name(m.group())}>", text)


def check_text(text: str) -> None:
    """Raise :class:`ParseError` if ``text`` is longer than Slack can send or holds a control character. Constant
    work for any length over the limit, one linear scan otherwise."""
    if len(text) > MAX_TEXT:
        raise ParseError(
            "too_long",
            f"that is {len(text):,} characters; a `/mo` question can be at most {MAX_TEXT:,}",
            "ask one question at a time; `/mo help` lists them",
        )
    found = _CONTROL.search(text)
    if found is not None:
        count = len(_CONTROL.findall(text))
        more = f" and {count - 1} more" if count > 1 else ""
        raise ParseError(
            "control_character",
            f"the text contains a control character, {control_name(found.group())} at position "
            f"{found.start() + 1}{more}, which `/mo` does not accept",
            "retype the question: pasted text can carry invisible characters",
        )


# --- normalisation -----------------------------------------------------------------------------------------------
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
# A token that starts with dashes, at least one of them typographic, then a letter: "—district", "-–list". Possessive
# (*+): a run of dashes is taken whole or not at all, so 40,000 dashes are one pass, not 40,000 backtracking ones.
_DASH_FLAG = re.compile(rf"(?:(?<=\s)|^)-*+[{_DASHES}][-{_DASHES}]*+(?=[A-Za-z])")
_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
    }
)
_SPACES = re.compile(r"[\s\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+")
_ZERO_WIDTH = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff]")
# Slack escapes "<" in what people type, so a mention's or link's label never holds one: stopping at "<" as well as
# ">" keeps each attempt to the next markup, where "[^>]*" ran to the end of the text from every unclosed "<@U1|".
_USER_MENTION = re.compile(r"<@([UW][A-Z0-9]++)(?:\|[^<>]*+)?>")
_CHANNEL_MENTION = re.compile(r"<#([CGD][A-Z0-9]++)(?:\|[^<>]*+)?>")
_GROUP_MENTION = re.compile(r"<!subteam\^([A-Z0-9]++)(?:\|[^<>]*+)?>")
_SPECIAL_MENTION = re.compile(r"<!(here|channel|everyone)(?:\|[^<>]*+)?>")
_LABELLED_LINK = re.compile(r"<(?:mailto:|https?://|tel:)[^|<>]*+\|([^<>]*+)>")
_BARE_LINK = re.compile(r"<((?:mailto:|https?://|tel:)[^|<>]*+)>")
_INTRA_WORD_APOSTROPHE = "\ue000"  # a private-use stand-in while the text is split
_APOSTROPHE_IN_WORD = re.compile(r"(?<=\w)'(?=\w)")
# One piece of a word: unquoted characters, a "double" or 'single' quoted run, a run of whitespace (between words),
# or a quote that is never closed. Whitespace is shlex's: space, tab, carriage return, line feed.
_PIECE = re.compile(r"""([^ \t\r\n"']++)|"([^"]*+)"|'([^']*+)'|([ \t\r\n]++)|(["'])""")
# Questions are short and repeated; longer texts (notes, pastes) are worked out each time rather than kept, so a
# stream of distinct long texts cannot fill these caches with megabytes.
_CACHE_MAX_CHARS = 500


def normalise(text: str) -> str:
    """Undo what Slack clients do to typed text (see the module docstring); the result is single-spaced."""
    return _normalise_cached(text) if len(text) <= _CACHE_MAX_CHARS else _normalise(text)


# Pure and asked several times per request (the deferral check, the audit detail, the parse): remembered for the
# few thousand distinct questions a team asks; a dozen regex passes cost more than the lookup.
@functools.lru_cache(maxsize=4096)
def _normalise_cached(text: str) -> str:
    return _normalise(text)


def _normalise(text: str) -> str:
    s = _ZERO_WIDTH.sub("", text)
    s = _USER_MENTION.sub(r"@\1", s)
    s = _CHANNEL_MENTION.sub(r"#\1", s)
    s = _GROUP_MENTION.sub(r"@\1", s)
    s = _SPECIAL_MENTION.sub(r"@\1", s)
    s = _LABELLED_LINK.sub(r"\1", s)
    s = _BARE_LINK.sub(r"\1", s)
    # Slack sends &, < and > as entities; only these three (a literal "&copy;" typed by a user stays as typed).
    s = s.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    s = s.translate(_QUOTES)
    s = _SPACES.sub(" ", s).strip()
    return _DASH_FLAG.sub("--", s)


def tokenize(text: str) -> list[str]:
    """Split normalised text into words, honouring "double" and 'single' quotes; backslashes are literal."""
    return list(_tokens_cached(text) if len(text) <= _CACHE_MAX_CHARS else _tokens(text))


@functools.lru_cache(maxsize=4096)
def _tokens_cached(text: str) -> tuple[str, ...]:
    return _tokens(text)


def _tokens(text: str) -> tuple[str, ...]:
    # The words shlex (posix, whitespace_split, no escapes, no comments) would give, in one linear scan: quotes
    # group and vanish, "" is an empty word, a word may mix quoted and unquoted parts (a"b c"d is one word).
    guarded = _APOSTROPHE_IN_WORD.sub(_INTRA_WORD_APOSTROPHE, text)
    tokens: list[str] = []
    parts: list[str] = []
    in_word = False
    for m in _PIECE.finditer(guarded):
        plain, double, single, space, unclosed = m.groups()
        if space is not None:
            if in_word:
                tokens.append("".join(parts).replace(_INTRA_WORD_APOSTROPHE, "'"))
                parts, in_word = [], False
        elif unclosed is not None:
            raise ParseError(
                "unbalanced_quotes",
                f"a {unclosed} quote is opened but never closed",
                'put values with spaces in a pair of double quotes, e.g. --offence "criminal damage"',
            )
        else:
            parts.append(plain if plain is not None else double if double is not None else single)
            in_word = True
    if in_word:
        tokens.append("".join(parts).replace(_INTRA_WORD_APOSTROPHE, "'"))
    return tuple(tokens)


# --- parsing -----------------------------------------------------------------------------------------------------
def _is_flag(token: str) -> bool:
    return (token.startswith("--") and len(token) > 2) or token == "-h"


def _flag_list(spec: CommandSpec) -> str:
    return ", ".join([*(f"`{f.name}`" for f in spec.flags), "`--help`"])


def parse(text: str, reg: Registry, ctx: ParseContext | None = None) -> ParsedArgs:
    """Parse `/mo` text. Raises :class:`ParseError`. ``ctx`` (the asker's force and today) lets district and
    date values be checked; without it only their shape is."""
    check_text(text)
    ctx = ctx or ParseContext()
    norm = normalise(text)
    tokens = tokenize(norm)
    if not tokens or tokens[0].lower() in ("help", *HELP_FLAGS):
        named = [w for w in tokens[1:] if not w.startswith("-")]
        topic = named[0].lower() if named else None
        if topic is not None and reg.get(topic) is None:
            _unknown_command(topic, reg)
        spec = reg.get(topic) if topic else None
        return ParsedArgs(command="help", text=norm, help=True, help_topic=spec.name if spec else None)

    first = tokens[0]
    spec = reg.get(first.lower())
    if spec is None:
        if first.startswith("-"):
            raise ParseError(
                "unknown_command",
                f"`/mo` starts with a sub-command, not with {first!r}",
                "sub-commands: " + ", ".join(f"`{n}`" for n in reg.names()),
            )
        _unknown_command(first, reg)
    rest = tokens[1:]
    if any(t.lower() in HELP_FLAGS for t in rest):
        return ParsedArgs(command=spec.name, text=norm, help=True, help_topic=spec.name)

    values: dict[str, Any] = {}
    positionals: dict[str, str] = {}
    pos_specs = list(spec.positionals)
    i = 0
    while i < len(rest):
        tok = rest[i]
        if _is_flag(tok) or (tok.startswith("-") and len(tok) > 1 and not tok[1].isdigit()):
            name, eq, inline = tok.partition("=")
            name = name.lower()
            flag = spec.flag(name) if name.startswith("--") else None
            if flag is None:
                _unknown_flag(name, spec, reg)
            if flag.dest in values:
                raise ParseError(
                    "repeated_flag", f"`{flag.name}` is given twice", "give each option once", command=spec.name
                )
            if not flag.takes_value:
                if eq:
                    raise ParseError(
                        "no_value_expected",
                        f"`{flag.name}` is a switch and takes no value (got {inline!r})",
                        f"write just `{flag.name}`",
                        command=spec.name,
                    )
                values[flag.dest] = True
                i += 1
                continue
            if eq:
                raw = inline
                i += 1
            else:
                j = i + 1
                words: list[str] = []
                while j < len(rest) and not _is_flag(rest[j]) and (flag.greedy or not words):
                    words.append(rest[j])
                    j += 1
                more = flag.type.more_words
                if more is not None and len(words) == 1:
                    following = []
                    for w in rest[j:]:
                        if _is_flag(w):
                            break
                        following.append(w)
                    n = more(words[0], following)
                    words += following[:n]
                    j += n
                if not words:
                    raise ParseError(
                        "missing_value",
                        f"`{flag.name}` needs a value",
                        f"write `{flag.usage()}` — {flag.type.format_hint}",
                        command=spec.name,
                    )
                raw = " ".join(words)
                i = j
            values[flag.dest] = _convert(flag, raw, ctx, spec)
            continue
        # A bare word: the next positional, or a mistake.
        if not pos_specs:
            raise _unexpected(tok, spec, ctx)
        p = pos_specs.pop(0)
        if p.rest:
            j = i
            words = []
            while j < len(rest) and not _is_flag(rest[j]):
                words.append(rest[j])
                j += 1
            positionals[p.name] = " ".join(words)
            i = j
        else:
            positionals[p.name] = tok
            i += 1
    _refuse_conflicts(spec, values)
    for p in pos_specs:
        if p.required:
            raise ParseError(
                "missing_argument",
                f"`/mo {spec.name}` needs <{p.name}>: {p.help}",
                f"usage: `/mo {spec.usage()}`",
                command=spec.name,
            )
    return ParsedArgs(command=spec.name, text=norm, values=values, positionals=positionals)


def _refuse_conflicts(spec: CommandSpec, values: dict[str, Any]) -> None:
    """Two options that cannot go together are refused by name, rather than one of them silently ignored."""
    for flag in spec.flags:
        if flag.dest not in values:
            continue
        for other, why in flag.conflicts:
            other_flag = spec.flag(other)
            if other_flag is not None and other_flag.dest in values:
                raise ParseError(
                    "conflicting_flags",
                    f"`{flag.name}` and `{other}` cannot go together: {why}",
                    f"ask with one of them. usage: `/mo {spec.usage()}`",
                    command=spec.name,
                )


def _convert(flag: FlagSpec, raw: str, ctx: ParseContext, spec: CommandSpec) -> Any:
    try:
        return flag.type.convert(raw, ctx)
    except BadValue as e:
        raise ParseError(
            "bad_value", f"`{flag.name}`: {e.message}", e.hint or flag.type.format_hint, spec.name
        ) from None


def _unknown_command(word: str, reg: Registry) -> NoReturn:
    close = [spec.name for name in did_you_mean(word, reg.all_names()) if (spec := reg.get(name)) is not None]
    guess = f"did you mean `{close[0]}`? " if close else ""
    raise ParseError(
        "unknown_command",
        f"`{word}` is not a `/mo` sub-command",
        guess + "sub-commands: " + ", ".join(f"`{n}`" for n in reg.names()),
    )


def _unknown_flag(name: str, spec: CommandSpec, reg: Registry) -> NoReturn:
    canonical = "--" + name.lstrip("-")
    if spec.flag(canonical) is not None or canonical == "--help":  # "-list" for "--list"
        raise ParseError(
            "unknown_flag",
            f"`{name}` is not an option of `/mo {spec.name}`",
            f"did you mean `{canonical}`? options start with two dashes: {_flag_list(spec)}",
            command=spec.name,
        )
    others = reg.commands_taking(canonical)
    if others:
        raise ParseError(
            "flag_not_for_command",
            f"`{canonical}` is not an option of `/mo {spec.name}`",
            f"`{canonical}` goes with: {', '.join(f'`/mo {o}`' for o in others)}. "
            f"Options of `/mo {spec.name}`: {_flag_list(spec)}",
            command=spec.name,
        )
    close = did_you_mean(canonical, [f.name for f in spec.flags] + ["--help"])
    guess = f"did you mean `{close[0]}`? " if close else ""
    raise ParseError(
        "unknown_flag",
        f"`{name}` is not an option of `/mo {spec.name}`",
        f"{guess}options: {_flag_list(spec)}",
        command=spec.name,
    )


# How a case closed or a bail period ended: words a count answer already breaks down (its "by outcome" lines), not
# filters — "/mo wanted arrested" asks for something the plain answer shows.
OUTCOME_WORDS = frozenset(
    {"arrested", "arrest", "arrests", "located", "cancelled", "canceled", "charged", "nfa", "closed", "ended",
     "concluded", "outcomes", "outcome"}
)  # fmt: skip


# Words of a sentence rather than an offence group: "/mo bail by offence" must not suggest `--offence by`.
BREAKDOWN_WORDS = frozenset({"by", "per", "breakdown", "split"})
FUNCTION_WORDS = frozenset({"in", "on", "at", "for", "of", "the", "a", "an", "and", "or", "with", "show", "me", "all",
                            "how", "many", "what", "is", "are", "please", "today", "now"})  # fmt: skip


def _flag_taking(tok: str, spec: CommandSpec, ctx: ParseContext) -> str | None:
    """The flag ``tok`` was probably meant for: a switch it names (``list`` → ``--list``), or the one typed flag
    (district, reason, date, length of time…) whose value it is. Free-text flags (offence) take anything, so they
    say nothing here."""
    switch = spec.flag(f"--{normalise_token(tok)}")
    if switch is not None and switch.type.is_switch:
        return switch.name
    for f in spec.flags:
        if f.type.is_switch or f.type.name in ("text", "user") or (f.type.name == "district" and ctx.force is None):
            continue  # without a force, a district cannot be told from any other word
        try:
            f.type.convert(tok, ctx)
        except BadValue:
            continue
        return f"{f.name} {tok}"
    return None


def _unexpected(tok: str, spec: CommandSpec, ctx: ParseContext) -> ParseError:
    hint, word = "", normalise_token(tok)
    meant = _flag_taking(tok, spec, ctx)
    if meant is not None:
        hint = f"did you mean `{meant}`? "
    elif spec.flag("--offence") is not None:  # a figures question: the word may be an offence, or part of a sentence
        if word in OUTCOME_WORDS:
            hint = (
                f"how cases closed is in the answer itself: `/mo {spec.name}` gives this month's closures by outcome. "
            )
        elif word in BREAKDOWN_WORDS:
            hint = "every answer already breaks its count down (by district, age and offence group). "
        elif word not in FUNCTION_WORDS:
            hint = f"to filter by offence write `--offence {tok}`. "
    return ParseError(
        "unexpected_argument",
        f"`/mo {spec.name}` does not take {tok!r} on its own",
        f"{hint}usage: `/mo {spec.usage()}`",
        command=spec.name,
    )
