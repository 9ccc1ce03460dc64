"""The one `/mo` parser: Slack-client normalisation, one test per error class, generated help, the registry as
the extension point, and plan() (parse only, no database)."""

from __future__ import annotations

import datetime as dt
import re
import shlex

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.config import load_config
from commands.mo import figures
from commands.mo import values as t
from commands.mo.catalog import build_registry, default_registry
from commands.mo.help import command_help, overview_help, reference_markdown
from commands.mo.parser import ERROR_KINDS, MAX_TEXT, ParseError, normalise, parse, tokenize
from commands.mo.pipeline import plan
from commands.mo.reply import Reply
from commands.mo.specs import CommandSpec, FlagSpec, PositionalSpec, Registry, common
from commands.mo.values import Duration, ParseContext
from tests.support.paths import REPO_ROOT

CFG = load_config()
SUFFOLK = CFG.force("suffolk")
NORFOLK = CFG.force("norfolk")
TODAY = dt.date(2026, 11, 23)
CTX = ParseContext(force=SUFFOLK, today=TODAY)


REG = default_registry()


def err(text: str, ctx: ParseContext = CTX, reg: Registry = REG) -> ParseError:
    with pytest.raises(ParseError) as e:
        parse(text, reg, ctx)
    return e.value


# --- normalisation -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("wanted —district ipswich", "wanted --district ipswich"),  # em dash (macOS/iOS smart dashes)
        ("wanted –district ipswich", "wanted --district ipswich"),  # en dash
        ("wanted -—list", "wanted --list"),
        ("wanted \u2014\u2014share", "wanted --share"),
        ("wanted --offence \u201ccriminal damage\u201d", 'wanted --offence "criminal damage"'),  # curly double
        ("wanted --offence \u2018theft\u2019", "wanted --offence 'theft'"),  # curly single
        ("wanted\u00a0--district\u202fipswich", "wanted --district ipswich"),  # NBSP, narrow NBSP
        ("wanted \u200b--list", "wanted --list"),  # zero-width space
        ("actions --owner <@U12345|jane.doe>", "actions --owner @U12345"),
        ("actions --owner <@W12345>", "actions --owner @W12345"),
        ("summary --channel <#C0123|mo-subgroup>", "summary --channel #C0123"),
        ("x <!subteam^S0999|@analysts>", "x @S0999"),
        ("x <!channel> <!here|here>", "x @channel @here"),
        ("see <https://example.org/a|the report> and <mailto:a@b.uk|a@b.uk>", "see the report and a@b.uk"),
        ("see <https://example.org/a>", "see https://example.org/a"),
        ("wanted --offence a &amp; b &lt;x&gt;", "wanted --offence a & b <x>"),
        ("  wanted   --list  ", "wanted --list"),
    ],
)
def test_normalise(typed: str, expected: str) -> None:
    assert normalise(typed) == expected


def test_dashes_inside_values_are_kept() -> None:
    assert normalise("wanted --offence drugs – supply") == "wanted --offence drugs – supply"
    assert parse("wanted --as-of 2026-11-01", REG, ctx=CTX).get("as_of") == dt.date(2026, 11, 1)


def test_em_dash_and_curly_quotes_parse_like_ascii() -> None:
    typed = parse("wanted —district bury st edmunds —offence \u201ccriminal damage\u201d —list", REG, ctx=CTX)
    plain = parse('wanted --district bury-st-edmunds --offence "criminal damage" --list', REG, ctx=CTX)
    assert typed.values == plain.values == {"district": "bury-st-edmunds", "offence": "criminal damage", "list": True}


def test_apostrophe_inside_a_word_is_a_letter() -> None:
    ctx = ParseContext(force=NORFOLK, today=TODAY)
    assert parse("wanted --district King's Lynn", REG, ctx=ctx).get("district") == "kings-lynn"
    assert parse("wanted --district King\u2019s Lynn", REG, ctx=ctx).get("district") == "kings-lynn"
    assert parse('wanted --district "King\'s Lynn"', REG, ctx=ctx).get("district") == "kings-lynn"
    assert tokenize("a 'b c' d") == ["a", "b c", "d"]


def test_flag_equals_value_and_case_insensitive_names() -> None:
    a = parse("WANTED --District=south --as-of=01/11/2026", REG, ctx=CTX)
    assert a.command == "wanted"
    assert a.values == {"district": "ipswich", "as_of": dt.date(2026, 11, 1)}


def test_values_converted() -> None:
    a = parse("bail --older-than 12w --expiring 14d --offence Burglary", REG, ctx=CTX)
    assert a.get("older_than") == Duration(12, "w")
    assert a.get("older_than").days(TODAY) == 84
    assert a.get("expiring").days(TODAY) == 14
    assert a.get("offence") == "Burglary"
    six = parse("rui --older-than 6m", REG, ctx=CTX).get("older_than")
    assert six.days(dt.date(2026, 11, 23)) == (dt.date(2026, 11, 23) - dt.date(2026, 5, 23)).days
    assert parse("wanted --reason never-arrested", REG, ctx=CTX).get("reason") == "never_arrested"
    assert parse("suspect", REG, ctx=CTX).command == "suspects"  # alias


# --- one test per error class ------------------------------------------------------------------------------------
def test_error_unbalanced_quotes() -> None:
    e = err('wanted --offence "criminal damage')
    assert e.kind == "unbalanced_quotes"
    assert '"' in e.message and "double quotes" in e.hint


def test_error_unknown_command_suggests() -> None:
    e = err("wantd --district ipswich")
    assert e.kind == "unknown_command"
    assert "did you mean `wanted`?" in e.hint
    for name in ("wanted", "suspects", "bail", "rui", "status"):
        assert f"`{name}`" in e.hint


def test_error_leading_flag() -> None:
    e = err("--district ipswich")
    assert e.kind == "unknown_command"
    assert "starts with a sub-command" in e.message


def test_error_unknown_flag_suggests() -> None:
    e = err("wanted --distrct ipswich")
    assert e.kind == "unknown_flag"
    assert "did you mean `--district`?" in e.hint
    assert "`--reason`" in e.hint and "`--help`" in e.hint
    single = err("wanted -list")
    assert single.kind == "unknown_flag" and "did you mean `--list`?" in single.hint


def test_error_flag_not_for_this_command() -> None:
    e = err("bail --reason never_arrested")
    assert e.kind == "flag_not_for_command"
    assert "`/mo wanted`" in e.hint  # names the sub-commands that take it
    assert "`--expiring`" in e.hint  # and what bail does take
    e2 = err("wanted --expiring 14d")
    assert e2.kind == "flag_not_for_command" and "`/mo bail`" in e2.hint


def test_error_missing_value() -> None:
    e = err("wanted --district")
    assert e.kind == "missing_value"
    assert "--district DISTRICT" in e.hint
    e2 = err("wanted --as-of --list")
    assert e2.kind == "missing_value" and "YYYY-MM-DD" in e2.hint


@pytest.mark.parametrize("value", ["31/02/2026", "2026-13-01", "yesterday", "1/11/26", "2026/11/01"])
def test_error_bad_date_shows_format(value: str) -> None:
    e = err(f"wanted --as-of {value}")
    assert e.kind == "bad_value"
    assert "YYYY-MM-DD or DD/MM/YYYY" in e.hint


def test_error_future_as_of() -> None:
    e = err("wanted --as-of 2026-11-24")
    assert e.kind == "bad_value" and "future" in e.message and "2026-11-23" in e.hint


def test_error_unknown_district_suggests_and_lists() -> None:
    e = err("wanted --district ipswhich")
    assert e.kind == "bad_value"
    assert "did you mean `ipswich`?" in e.hint
    for d in SUFFOLK.districts:
        assert d.slug in e.hint
        for a in d.aliases:
            assert a in e.hint


def test_error_district_of_another_force_is_unknown() -> None:
    e = err("wanted --district norwich")
    assert e.kind == "bad_value" and "not a district of Suffolk Constabulary" in e.message
    assert "norwich" not in e.hint.split("districts:")[1]


@pytest.mark.parametrize(
    ("text", "hint"), [("bail --expiring soon", "90d"), ("wanted --reason lost", "never_arrested")]
)
def test_error_bad_value_other_types(text: str, hint: str) -> None:
    e = err(text)
    assert e.kind == "bad_value" and hint in e.hint


def test_error_zero_length_of_time_says_what_is_wrong() -> None:
    """ "0d" is a length of time, just not one a question can use: the message says so rather than that it is not
    one."""
    e = err("bail --expiring 0d")
    assert e.kind == "bad_value" and "'0d' is no time at all" in e.message and "1 or more" in e.hint
    assert "not a length of time" not in e.message


def test_years_are_twelve_months_and_one_question_with_them() -> None:
    """ "1y" is what people type for a year: twelve calendar months back, the same question (and answer key) as
    "12m" and as "over a year old" asked in words."""
    for text in ("1y", "1yr", "1 year", "1Y"):
        got = parse(f"rui --older-than {text!r}".replace("'", '"'), REG, ctx=CTX).get("older_than")
        assert got == Duration(12, "m") and str(got) == "12m"
    assert [Duration(n, u).words() for n, u in ((1, "d"), (12, "w"), (12, "m"), (1000, "d"))] == [
        "1 day", "12 weeks", "12 months", "1,000 days"
    ]  # fmt: skip
    two = parse("wanted --older-than 2y", REG, ctx=CTX).get("older_than")
    assert two.days(dt.date(2026, 11, 23)) == (dt.date(2026, 11, 23) - dt.date(2024, 11, 23)).days
    e = err("wanted --older-than 150y")
    assert e.kind == "bad_value" and "'150y' is longer than any record runs" in e.message and "99y" in e.hint
    bad = err("wanted --older-than 1q")
    assert "'1q' is not a length of time" in bad.message and "6m or 1y" in bad.hint


def test_a_number_typed_apart_from_its_unit_is_one_length_of_time() -> None:
    """People type "--older-than 3 months" as they would say it: the unit word after the number is taken with it,
    and the question is the one "3m" asks. A word after the number that is not a unit is still refused by name."""
    for text, want in (
        ("wanted --older-than 3 months", Duration(3, "m")),
        ("wanted --older-than 3 Months --district ipswich", Duration(3, "m")),
        ("rui --older-than 1 year", Duration(12, "m")),
        ("bail --expiring 7 days --list", Duration(7, "d")),
    ):
        got = parse(text, REG, ctx=CTX)
        assert got.get("older_than" if "older" in text else "expiring") == want, text
    assert parse("wanted --older-than 3 months --district ipswich", REG, ctx=CTX).get("district") == "ipswich"
    e = err("wanted --older-than 3 ipswich")
    assert e.kind == "bad_value" and "'3' is not a length of time" in e.message


def test_a_date_written_as_the_answers_write_it_is_one_date() -> None:
    """The answers say "30 Nov 2026"; a date copied from one into a question means that day, with the month's name
    short or in full. A day and month without a year are not guessed at: refused, with the forms that work."""
    for text, want in (
        ("wanted --as-of 20 Nov 2026", dt.date(2026, 11, 20)),
        ("wanted --as-of 1 november 2026 --district ipswich", dt.date(2026, 11, 1)),
        ("bail --as-of 7 Sept 2025 --list", dt.date(2025, 9, 7)),
        ("bail --as-of 07 Sep. 2025", dt.date(2025, 9, 7)),
        ("wanted --as-of 20.11.2026", dt.date(2026, 11, 20)),  # as UK forms write it
        ("wanted --as-of 20-11-2026", dt.date(2026, 11, 20)),
    ):
        assert parse(text, REG, ctx=CTX).get("as_of") == want, text
    assert parse("wanted --as-of 1 Nov 2026 --district ipswich", REG, ctx=CTX).get("district") == "ipswich"
    e = err("wanted --as-of 30 Nov")
    assert e.kind == "bad_value" and "'30' is not a date" in e.message and "1 Nov 2026" in e.hint
    bad = err("wanted --as-of 31 Nov 2025")
    assert bad.kind == "bad_value" and "'31 Nov 2025' is not a real date" in bad.message
    future = err("wanted --as-of 24 Nov 2026")  # TODAY is 23 Nov 2026
    assert future.kind == "bad_value" and "future" in future.message


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("wanted list", "did you mean `--list`?"),
        ("rui share", "did you mean `--share`?"),
        ("wanted 90d", "did you mean `--older-than 90d`?"),
        ("bail 31/10/2026", "did you mean `--as-of 31/10/2026`?"),
        ("summary 2026-10", "did you mean `--month 2026-10`?"),
        ("wanted ftab", "did you mean `--reason ftab`?"),
        ("wanted arrested", "how cases closed is in the answer itself: `/mo wanted` gives this month's closures"),
        ("bail by offence", "every answer already breaks its count down"),
        ("suspects theft", "to filter by offence write `--offence theft`."),
    ],
)
def test_a_stray_word_is_matched_to_what_it_was_meant_for(text: str, hint: str) -> None:
    """A word without its flag: the flag whose value it is (or the switch it names); a closing outcome or "by" is
    what the answer already shows; only a word that could be an offence group is offered as one."""
    e = err(text)
    assert e.kind == "unexpected_argument" and hint in e.hint
    assert ("--offence" in e.hint.split("usage:")[0]) == text.endswith("theft")


def test_error_unexpected_argument() -> None:
    e = err("wanted ipswich")
    assert e.kind == "unexpected_argument"
    assert "did you mean `--district ipswich`?" in e.hint


def test_error_repeated_flag() -> None:
    e = err("wanted --district ipswich --district lowestoft")
    assert e.kind == "repeated_flag"


def test_error_switch_given_a_value() -> None:
    e = err("wanted --list=yes")
    assert e.kind == "no_value_expected"


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("actions --paper --export", "`--paper` and `--export` cannot go together"),
        ("actions --export --paper", "`--paper` and `--export` cannot go together"),
        ("actions --share --export", "`--share` and `--export` cannot go together: the export is sent to you only"),
        ("actions --paper --share", "`--share` and `--paper` cannot go together: the paper is sent to you only"),
    ],
)
def test_error_options_that_cannot_go_together_are_named_not_one_ignored(text: str, named: str) -> None:
    e = err(text)
    assert e.kind == "conflicting_flags"
    assert named in e.message
    assert "usage: `/mo actions" in e.hint
    assert parse("actions --paper", REG, ctx=CTX).has("paper")  # each alone is still read


def _test_registry() -> Registry:
    reg = build_registry(figures.register_commands)

    def handler(ctx, args):  # type: ignore[no-untyped-def]
        return Reply(text="", blocks=[])

    reg.add(
        CommandSpec(
            name="action",
            summary="one action",
            handler=handler,
            positionals=(PositionalSpec("ref", "A-12 or add", required=True), PositionalSpec("title", "", rest=True)),
            flags=(FlagSpec("--owner", t.USER_OR_ME, "who owns it"), FlagSpec("--due", t.DATE, "due date")),
        )
    )
    return reg


def test_error_missing_argument() -> None:
    e = err("action", reg=_test_registry())
    assert e.kind == "missing_argument"
    assert "<ref>" in e.message


def test_error_too_long() -> None:
    e = err("wanted --offence " + "x" * MAX_TEXT)
    assert e.kind == "too_long"
    assert f"{MAX_TEXT + 17:,} characters" in e.message and f"at most {MAX_TEXT:,}" in e.message
    assert parse("help " + " " * (MAX_TEXT - 5), REG, ctx=CTX).help  # exactly the limit is read


@pytest.mark.parametrize(
    ("text", "named", "position"),
    [
        ("wanted --as-of \x00", "U+0000 (NUL)", 16),
        ("wanted \x1b[2Jx", "U+001B (ESC)", 8),
        ("wanted\x7f", "U+007F (DEL)", 7),
        ("wanted \x85", "U+0085 (NEL)", 8),
        ("\x01wanted", "U+0001 (control character)", 1),
        ("wanted \ud800", "U+D800 (unpaired surrogate)", 8),
    ],
)
def test_error_control_character(text: str, named: str, position: int) -> None:
    e = err(text)
    assert e.kind == "control_character"
    assert f"{named} at position {position}" in e.message
    assert "\x00" not in e.message and "\x1b" not in e.message  # the refusal itself is safe to show and store
    assert "retype" in e.hint


def test_control_characters_are_counted_and_ordinary_whitespace_is_not_one() -> None:
    assert "and 2 more" in err("a\x00b\x00c\x00").message
    assert parse("wanted\t--district\r\nipswich\x0b\x0c", REG, ctx=CTX).get("district") == "ipswich"


def test_every_error_kind_is_tested() -> None:
    tested = {
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
    }
    assert tested == set(ERROR_KINDS)


# --- extension through the registry -------------------------------------------------------------------------------
def test_registered_subcommand_parses_with_positionals_and_users() -> None:
    reg = _test_registry()
    a = parse('action add "Secure RUI data" --owner <@U0ABC|jo> --due 31/12/2026', reg, CTX)
    assert a.command == "action"
    assert a.positionals == {"ref": "add", "title": "Secure RUI data"}
    assert a.values == {"owner": "U0ABC", "due": dt.date(2026, 12, 31)}
    rest = parse("action add Secure RUI data --owner me", reg, CTX)
    assert rest.positionals["title"] == "Secure RUI data" and rest.get("owner") == "me"
    assert command_help(reg.get("action")).title == "/mo action"
    assert any("/mo action" in line for line in overview_help(reg).sections[0][1])


def test_registry_refuses_duplicates() -> None:
    reg = build_registry(figures.register_commands)
    with pytest.raises(ValueError, match="twice"):
        reg.add(CommandSpec(name="wanted", summary="again", handler=lambda c, a: None))
    with pytest.raises(ValueError, match="twice"):
        reg.add(CommandSpec(name="x", summary="x", handler=lambda c, a: None, flags=(common.LIST, common.LIST)))


def test_registry_lists_sub_commands_in_the_order_they_are_wired() -> None:
    reg = build_registry(figures.register_commands)
    assert reg.names() == ["wanted", "suspects", "bail", "rui", "status"]
    assert default_registry().names()[:5] == reg.names()


# --- generated help ------------------------------------------------------------------------------------------------
def test_help_lists_every_subcommand_and_flag() -> None:
    reg = default_registry()
    overview = overview_help(reg).sections[0][1]
    assert len(overview) == len(reg.names())
    for spec in reg:
        entry = next(line for line in overview if line.startswith(f"`/mo {spec.name}`"))
        assert spec.summary in entry
        for f in spec.flags:
            assert f"`{f.name}`" in entry
        page = command_help(spec)
        body = "\n".join(line for _, lines in page.sections for line in lines)
        for f in spec.flags:
            assert f"`{f.usage()}`" in body
        assert "`--help`" in body


@pytest.mark.parametrize(
    "text", ["", "help", "--help", "-h", "help --share", "help bail", "bail --help", "bail --district nowhere -h"]
)
def test_help_forms(text: str) -> None:
    a = parse(text, REG, ctx=CTX)
    assert a.help
    assert a.help_topic == ("bail" if "bail" in text else None)


def test_help_for_unknown_topic_is_an_error() -> None:
    assert err("help wantd").kind == "unknown_command"


def test_docs_commands_md_is_generated_from_the_parser() -> None:
    doc = REPO_ROOT / "docs" / "commands.md"
    assert doc.read_text(encoding="utf-8") == reference_markdown(), (
        "docs/commands.md is out of date: run `python -m commands.mo.help > docs/commands.md`"
    )


# --- plan: cheap, no database ---------------------------------------------------------------------------------------
def test_plan_defers_lists_only() -> None:
    assert plan("wanted --district ipswich").deferred is False
    assert plan("wanted --list").deferred is True
    assert plan("bail —list —expiring 7d").deferred is True
    assert plan("status").deferred is False
    assert plan("wanted --list --help").deferred is False
    bad = plan("wanted --bogus")
    assert bad.command is None and bad.deferred is False and bad.error_kind == "unknown_flag"
    # Without a force, a district is only shape-checked: the answer reports an unknown one.
    assert plan("wanted --district nowhere").command == "wanted"


def test_registered_slow_subcommand_is_deferred() -> None:
    reg = build_registry(figures.register_commands)
    reg.add(CommandSpec(name="summary", summary="s", handler=lambda c, a: None, deferred=True))
    assert plan("summary", reg).deferred is True


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("wantedbilrus -—–\"'“”‘’<>@|!#&;=/0123456789\u00a0 ")), max_size=60))
def test_parser_only_ever_raises_parse_error(text: str) -> None:
    try:
        parse(text, REG, ctx=CTX)
    except ParseError as e:
        assert e.kind in ERROR_KINDS and e.message


def _shlex_words(text: str) -> list[str] | None:
    """The split the tokenizer replaced: shlex (posix, whitespace_split, no escapes, no comments) with an
    apostrophe inside a word kept as a letter; None where shlex finds an unclosed quote."""
    guarded = re.sub(r"(?<=\w)'(?=\w)", "\ue000", text)
    lexer = shlex.shlex(guarded, posix=True)
    lexer.whitespace_split = True
    lexer.escape = ""
    lexer.commenters = ""
    try:
        return [t.replace("\ue000", "'") for t in lexer]
    except ValueError:
        return None


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab1_ \t\r\n\"'\\#-—é")), max_size=40))
def test_tokenize_splits_exactly_as_shlex_did(text: str) -> None:
    expected = _shlex_words(text)
    if expected is None:
        with pytest.raises(ParseError) as e:
            tokenize(text)
        assert e.value.kind == "unbalanced_quotes"
    else:
        assert tokenize(text) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('a"b c"d', ["ab cd"]),
        ('"" x', ["", "x"]),
        ("King's Lynn", ["King's", "Lynn"]),
        ("'it''s'", ["its"]),
        ("C:\\temp #C123", ["C:\\temp", "#C123"]),
    ],
)
def test_tokenize_quotes_and_literals(text: str, words: list[str]) -> None:
    assert tokenize(text) == words


def test_unclosed_quote_named_is_the_one_left_open() -> None:
    assert "a ' quote" in err('wanted --offence "a" \'b').message
    assert 'a " quote' in err("wanted --offence 'it' \"b").message
