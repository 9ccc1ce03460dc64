"""The `/mo` answer a watch follows, rendered as the person would see it had they asked at that moment — the figures
from the same services and the same Block Kit layouts as `/mo wanted|suspects|bail|rui` — for the DM that tells
them their line was crossed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from bot.config import Config, Force
from bot.coverage import covered_from
from bot.dates import a_month_before
from bot.figures import Filters, bail_figures, suspect_figures, wanted_figures
from bot.figures.cases import bail_ending_soon
from bot.figures.month_ago import active_known_then, with_month_ago_known_then
from bot.figures.outcomes import with_outcomes
from bot.freshness import freshness, latest_import, rebuilt_from, revised_up_to
from bot.slack.blocks import Rendered
from bot.slack.render_figures import (
    Frame,
    filter_lines,
    render_bail,
    render_rui,
    render_suspects,
    render_wanted,
)
from bot.watches import WatchSpec, older_days, older_words


def _descriptions(spec: WatchSpec) -> list[str]:
    """The filter lines under an answer, worded as the `/mo` handlers word them (one function)."""
    return filter_lines(spec.offence, spec.reason, older_words(spec.older_than) if spec.older_than else None)


def watch_answer(
    session: Session, config: Config, force: Force, spec: WatchSpec, as_of: dt.date, now: dt.datetime
) -> Rendered:
    """The answer to ``/mo <spec.answer_command()>`` on ``as_of`` (the watch's figure is its headline)."""
    filters = Filters(
        district=spec.district,
        offence=spec.offence,
        reason=spec.reason,
        older_than_days=older_days(spec.older_than, as_of) if spec.older_than else None,
    )
    month_ago = a_month_before(as_of)
    # The "N on <a month ago>": the same question asked that day, its age filter counting back from it
    # (bot/figures/month_ago.py).
    then = filters.asked_at(older_days(spec.older_than, month_ago) if spec.older_than else None)

    def frame(dataset: str, imported_at: dt.datetime | None) -> Frame:
        # As the /mo handlers frame an answer (commands/mo/figures.py): freshness from the file's own date, and
        # the date the data is complete from.
        batch = latest_import(session, force.slug, dataset)
        latest = batch.as_of if batch is not None else None
        return Frame(
            force=force,
            district=spec.district,
            as_of=as_of,
            freshness=freshness(config, dataset, imported_at, now, latest, tz=force.timezone),
            filters=_descriptions(spec),
            covered_from=covered_from(session, force.slug, dataset),
            rests_on=revised_up_to(session, force.slug, dataset, as_of, latest),
            first_export=rebuilt_from(session, force.slug, dataset, as_of),
            opened_before=filters.opened_before(as_of),
            reason=spec.reason,
        )

    if spec.figure == "wanted":
        review = config.wanted_review_days

        covered = covered_from(session, force.slug, "wanted")
        w = with_month_ago_known_then(
            wanted_figures(session, force, as_of, filters, review_days=review), month_ago, covered,
            lambda: wanted_figures(session, force, month_ago, then, review_days=review),
        )  # fmt: skip
        w = with_outcomes(session, w, force, filters)
        return render_wanted(w, frame("wanted", w.data_as_of), month_ago, review)
    if spec.figure == "suspects":
        covered = covered_from(session, force.slug, "suspects")
        sf = with_month_ago_known_then(
            suspect_figures(session, force, as_of, filters), month_ago, covered,
            lambda: suspect_figures(session, force, month_ago, then),
        )  # fmt: skip
        sf = with_outcomes(session, sf, force, filters)
        return render_suspects(sf, frame("suspects", sf.data_as_of), month_ago)
    days = config.bail_window()
    b = bail_figures(session, force, as_of, filters, ending_within_days=days, ending_soon_cap=1)
    b = with_outcomes(session, b, force, filters)
    before = active_known_then(session, force, month_ago, then)
    if spec.figure == "rui":
        return render_rui(b, frame("bail", b.data_as_of), month_ago, before)
    soon = bail_ending_soon(session, force, as_of, filters, days)
    return render_bail(b, frame("bail", b.data_as_of), month_ago, before, soon)
