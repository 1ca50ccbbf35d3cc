"""Garbage-collection handling: Textual's strips free by reference counting, young
collections park what survives, and the deep one waits for a quiet moment but never
forever."""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.segment import Segment
from textual.strip import Strip

from console.tui.heap import QuietCollector, gc_paused, glibc_tuning
from console.tui.textual_compat import strips
from console.venues.kit.base import FeedSink, FeedStatus


def _holds_no_reference_to_itself(use: object) -> bool:
    """After ``use(strip)`` (result dropped), nothing but this frame refers to the strip:
    no cache of its own keeps it, so reference counting frees it."""
    strip = Strip([Segment("hello "), Segment("world")])
    before = sys.getrefcount(strip)
    assert callable(use)
    use(strip)
    return sys.getrefcount(strip) == before


@pytest.fixture
def no_collector() -> Iterator[None]:
    strips.install()  # as QuietCollector.install does when the console starts
    with gc_paused():
        yield


@pytest.mark.parametrize(
    "use",
    [
        lambda s: s.divide([s.cell_length]),
        lambda s: s.divide([3, s.cell_length]),
        lambda s: s.crop_extend(0, s.cell_length, None),
        lambda s: s.crop_extend(2, s.cell_length + 4, None),
        lambda s: s.adjust_cell_length(s.cell_length),
    ],
    ids=["divide-whole", "divide-cut", "crop-whole", "crop-extend", "adjust-same"],
)
def test_a_strip_is_freed_by_reference_counting(no_collector: None, use: object) -> None:
    assert _holds_no_reference_to_itself(use)


def test_the_patched_methods_give_textuals_results() -> None:
    heap = QuietCollector()
    heap.install(now=0.0)  # installs the strip patch, as the console does
    heap.uninstall()
    strip = Strip([Segment("hello "), Segment("world")])
    (whole,) = strip.divide([strip.cell_length, strip.cell_length + 5])
    assert whole is strip
    left, right = strip.divide([4, strip.cell_length])
    assert (left.text, right.text) == ("hell", "o world")
    assert strip.crop_extend(0, strip.cell_length, None) is strip
    assert strip.crop_extend(6, 14, None).text == "world   "


class TestQuietCollector:
    def test_young_collections_parked_whenever_due_deep_ones_at_quiet_moments(self) -> None:
        saved = gc.get_threshold()
        heap = QuietCollector(every_s=10, quiet_s=2, deep_every_s=900, deep_at_most_s=3600)
        heap.install(now=0.0)
        try:
            assert gc.get_threshold()[2] == QuietCollector.AUTOMATIC_FULL_OFF
            assert heap.tick(5.0, last_input=0.0) is None  # not due yet
            frozen = gc.get_freeze_count()
            assert heap.tick(11.0, last_input=10.5) == "parked"  # due: a key does not wait
            assert heap.parked == 1
            assert gc.get_freeze_count() >= frozen
            assert heap.tick(12.6, last_input=10.5) is None  # quiet, but not due again
            assert heap.tick(21.0, last_input=15.0) == "parked"  # quiet or not: no full one
            assert heap.parked == 2 and heap.deep_collections == 0
            assert heap.tick(903.0, last_input=902.0) == "parked"  # deep due, but typing
            assert heap.tick(905.0, last_input=902.0) == "deep"  # at the first quiet moment
            assert heap.tick(4506.0, last_input=4505.9) == "deep"  # an hour: even when busy
            assert heap.deep_collections == 2
        finally:
            heap.uninstall()
            gc.unfreeze()
        assert gc.get_threshold() == saved

    def test_each_pass_gives_freed_memory_back_and_not_between_passes(self) -> None:
        trims: list[float] = []
        now = [0.0]
        heap = QuietCollector(every_s=10, quiet_s=2, trim=lambda: trims.append(now[0]))
        heap.install(now=0.0)
        try:
            for now[0] in (5.0, 11.0, 12.0, 905.0):
                heap.tick(now[0], last_input=0.0)
            assert trims == [11.0, 905.0] and heap.trims == 2  # a parked pass, a deep one
        finally:
            heap.uninstall()
            gc.unfreeze()

    def test_glibc_tuning_runs_here(self) -> None:
        trim = glibc_tuning()
        if trim is None:
            pytest.skip("this C library has no malloc_trim (not glibc)")
        trim()  # returns what malloc_trim returns; it must not raise


async def test_a_key_queued_but_not_yet_handled_is_not_a_quiet_moment(tmp_path: Path) -> None:
    """The redraw tick can run between a key's arrival and its handling: a collection
    started then would land on that key."""
    from textual import events

    from console.tui.app import ConsoleApp
    from tests.tui.fakes import FakeClock, fake_session, fake_venues

    clock = FakeClock()
    session = fake_session(tmp_path, clock, fake_venues())
    app = ConsoleApp(session, session.control, clock=clock, start_feeds=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert not app.input_waiting()
        app.post_message(events.Key("j", "j"))
        assert app.input_waiting()
        await pilot.pause()
        assert not app.input_waiting()


class TestStartUpHold:
    def test_no_collection_while_held_then_frozen_and_collected_as_before(self) -> None:
        heap = QuietCollector()
        assert gc.isenabled()
        frozen = gc.get_freeze_count()
        heap.hold()
        try:
            assert heap.holding and not gc.isenabled()
            built = [[n] for n in range(1000)]  # what start-up builds, and keeps
            heap.release()
            assert not heap.holding and gc.isenabled()
            assert gc.get_freeze_count() >= frozen + len(built)
        finally:
            gc.unfreeze()

    def test_shutting_down_while_held_gives_the_collector_back_unfrozen(self) -> None:
        heap = QuietCollector()
        heap.install(now=0.0)
        frozen = gc.get_freeze_count()
        heap.hold()
        heap.uninstall()
        assert gc.isenabled() and not heap.holding
        assert gc.get_freeze_count() == frozen

    def test_a_collector_off_before_stays_off(self) -> None:
        heap = QuietCollector()
        with gc_paused():
            heap.hold()
            heap.release()
            assert not gc.isenabled()
            gc.unfreeze()
        assert gc.isenabled()


def silent_venues() -> dict[str, Any]:
    """The demo venues, Joyride's feed never answering (until told to fail)."""
    from tests.tui.fakes import fake_venues

    venues: dict[str, Any] = fake_venues()
    fail = asyncio.Event()

    async def silent(sink: FeedSink) -> None:
        await fail.wait()
        sink.health("joyride", FeedStatus.DOWN, "connection refused")
        await asyncio.Event().wait()

    venues["joyride"].run_feed = silent
    venues["joyride"].fail_now = fail.set
    return venues


async def test_start_up_holds_the_collector_until_every_venue_answered(tmp_path: Path) -> None:
    """Held from mount; given back once every venue has listed or is down."""
    from console.tui.app import ConsoleApp
    from tests.tui.fakes import FakeClock, fake_session

    clock = FakeClock()
    venues = silent_venues()
    session = fake_session(tmp_path, clock, venues)
    app = ConsoleApp(session, session.control, clock=clock)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            store = app.state.store
            while not ({"55tech", "x3algo", "pipai", "finradar"} <= store.listed):
                await pilot.pause()
            app.tick()
            assert app.heap.holding and not gc.isenabled()  # Joyride has not answered
            venues["joyride"].fail_now()
            while store.venue_health("joyride").status is not FeedStatus.DOWN:
                await pilot.pause()
            app.tick()
            assert "joyride" not in store.listed  # down: it counts as answered
            assert not app.heap.holding and gc.isenabled()
    finally:
        gc.unfreeze()
    assert gc.isenabled()


async def test_start_up_holds_the_collector_at_most_ten_seconds(tmp_path: Path) -> None:
    from console.tui.app import ConsoleApp
    from console.tui.controllers.redraw import START_UP_AT_MOST_S
    from tests.tui.fakes import FakeClock, fake_session

    clock = FakeClock()
    session = fake_session(tmp_path, clock, silent_venues())
    app = ConsoleApp(session, session.control, clock=clock)
    try:
        async with app.run_test(size=(80, 24)):
            app.tick()
            assert app.heap.holding
            app.started_at -= START_UP_AT_MOST_S + 1
            app.tick()
            assert not app.heap.holding and gc.isenabled()
    finally:
        gc.unfreeze()
    assert gc.isenabled()


async def test_a_dropped_widgets_line_cache_is_freed_with_it() -> None:
    """Textual's ``get_inner_outer`` cached on ``self`` kept each dropped widget's whole
    line cache (issue #6665); patched, the widgets mounted, drawn and removed here leave
    no cache of theirs behind. Fails with the patch off (each is still reachable)."""
    from textual._styles_cache import StylesCache  # (a private module: a test's only)
    from textual.app import App
    from textual.widgets import Label

    from console.tui.textual_compat import styles_cache

    def caches() -> int:
        gc.collect()
        return sum(isinstance(o, StylesCache) for o in gc.get_objects())

    styles_cache.install()  # as QuietCollector.install does when the console starts
    app: App[None] = App()
    async with app.run_test(size=(40, 30)) as pilot:

        async def cards(round_: int) -> None:
            await app.screen.mount_all([Label(f"card {round_}.{n}") for n in range(20)])
            await pilot.pause()  # drawn: each label's styles cache holds its lines
            await app.screen.remove_children()

        await cards(0)
        before = caches()
        for round_ in range(1, 4):
            await cards(round_)
        assert caches() <= before  # 60 more widgets gone, and their caches with them


def test_the_patched_inner_outer_gives_textuals_styles() -> None:
    from textual.color import Color

    from console.tui.textual_compat import styles_cache

    styles_cache.install()
    from textual._styles_cache import StylesCache  # (a private module: a test's only)

    for base, background in [
        (Color(10, 20, 30), Color(200, 0, 0, 0.5)),
        (Color(0, 0, 0), Color(255, 255, 255)),
    ]:
        expected = styles_cache.upstream_result(base, background)
        assert StylesCache().get_inner_outer(base, background) == expected
