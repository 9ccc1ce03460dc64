"""The figures cache: same figures as the services, reused until the next import, one computation per burst."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest

from bot.demo.load import load_demo
from bot.figures import Filters, bail_figures, suspect_figures, wanted_figures
from bot.figures import cache as fc
from bot.figures.cache import FiguresCache, figures_cache
from bot.import_generations.reader import import_generation
from bot.models import ImportBatch, WantedCirculation
from bot.runtime import Runtime


@pytest.fixture
def demo(runtime: Runtime, tmp_path: Path) -> Runtime:
    load_demo(runtime, rows=600, workdir=tmp_path)
    figures_cache.clear()
    return runtime


def _import_one_more_wanted(rt: Runtime, as_of: dt.date) -> None:
    with rt.sessions() as s, s.begin():
        batch = ImportBatch(force="suffolk", dataset="wanted", file_name="extra.csv", file_sha256="0" * 64, as_of=as_of)
        s.add(batch)
        s.flush()
        s.add(
            WantedCirculation(
                force="suffolk",
                reference="W-CACHE-TEST-1",
                offence="Burglary",
                district="ipswich",
                reason="never_arrested",
                circulated_on=as_of,
                status="open",
                import_batch_id=batch.id,
            )
        )


def test_cached_figures_equal_the_services_and_are_reused_until_an_import(demo: Runtime) -> None:
    rt = demo
    force = rt.config.force("suffolk")
    as_of = dt.date(2026, 11, 23)
    f = Filters(district="ipswich")
    hits0, misses0 = figures_cache.stats.hits, figures_cache.stats.misses
    with rt.sessions() as s:
        first = fc.wanted(s, force, as_of, f, review_days=28)
        assert first == wanted_figures(s, force, as_of, f, review_days=28)
        assert fc.wanted(s, force, as_of, f, review_days=28) is first
        assert fc.suspects(s, force, as_of) == suspect_figures(s, force, as_of)
        assert fc.bail(s, force, as_of, ending_within_days=14) == bail_figures(s, force, as_of, ending_within_days=14)
        # Another filter or option is another key.
        other = fc.wanted(s, force, as_of, Filters(district="lowestoft"), review_days=28)
        assert other == wanted_figures(s, force, as_of, Filters(district="lowestoft"), review_days=28)
    assert (figures_cache.stats.hits - hits0, figures_cache.stats.misses - misses0) == (1, 4)

    long_lived = rt.sessions()
    generation = import_generation(long_lived, "suffolk", "wanted")
    _import_one_more_wanted(rt, as_of)
    assert import_generation(long_lived, "suffolk", "wanted") == generation  # memo: one query per transaction
    long_lived.commit()  # …and the next transaction sees the import
    assert import_generation(long_lived, "suffolk", "wanted") > generation
    long_lived.close()
    with rt.sessions() as s:
        assert import_generation(s, "suffolk", "wanted") > generation
        after = fc.wanted(s, force, as_of, f, review_days=28)
        assert after == wanted_figures(s, force, as_of, f, review_days=28)
        assert after.open == first.open + 1
        # Suspects were not imported: still the cached object.
        assert fc.suspects(s, force, as_of) is fc.suspects(s, force, as_of)


def test_concurrent_misses_compute_once(demo: Runtime) -> None:
    cache = FiguresCache()
    calls: list[int] = []
    gate = threading.Event()

    def slow() -> int:
        calls.append(1)
        gate.wait(5)
        return 42

    results: list[int] = []

    def worker() -> None:
        with demo.sessions() as s:
            results.append(cache.get_or_compute(s, "suffolk", "wanted", "k", slow))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    while cache.stats.misses + cache.stats.hits < 1 or len(cache._inflight) == 0:
        pass  # until the first thread has claimed the computation
    gate.set()
    for t in threads:
        t.join(10)
    assert results == [42] * 8 and len(calls) == 1


def test_ttl_and_size_bounds(demo: Runtime) -> None:
    now = [0.0]
    cache = FiguresCache(max_entries=2, ttl_s=10, clock=lambda: now[0])
    n = iter(range(100))
    with demo.sessions() as s:
        a = cache.get_or_compute(s, "suffolk", "wanted", "a", lambda: next(n))
        assert cache.get_or_compute(s, "suffolk", "wanted", "a", lambda: next(n)) == a
        now[0] = 11
        assert cache.get_or_compute(s, "suffolk", "wanted", "a", lambda: next(n)) != a  # expired
        cache.get_or_compute(s, "suffolk", "wanted", "b", lambda: next(n))
        cache.get_or_compute(s, "suffolk", "wanted", "c", lambda: next(n))
    assert len(cache) == 2
