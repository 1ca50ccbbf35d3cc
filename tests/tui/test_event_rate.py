"""The per-venue event-rate sparkline: block characters from the store's per-second counts."""

from __future__ import annotations

from pathlib import Path

from console.core.store import Store
from console.tui.format import SPARK_BARS, Tones, fmt_rate, sparkline
from console.tui.panels.freshness import ViewFacts, freshness_line
from console.venues.kit.base import FeedStatus
from tests.tui.fakes import FROZEN, FakeClock

FACTS = ViewFacts(total=3, shown=3, selected=0, sort_label="Name ▲", filter_text="")


def test_sparkline_scales_to_the_busiest_second_and_keeps_idle_seconds_low() -> None:
    assert sparkline([0, 1, 2, 4, 8]) == "▁▂▃▅█"
    assert sparkline([0, 1, 1000]) == "▁▂█"  # one event is never drawn as none
    assert sparkline([0, 0, 0]) == SPARK_BARS[0] * 3
    assert sparkline([]) == ""


def test_rates_read_short() -> None:
    assert [fmt_rate(r) for r in (0, 0.4, 5, 12.6, 3200)] == [
        "0/s",
        "0.4/s",
        "5/s",
        "13/s",
        "3.2k/s",
    ]


def streaming_store(clock: FakeClock) -> Store:
    store = Store(clock=clock)
    store.snapshot("55tech", [])
    store.health("55tech", FeedStatus.LIVE)
    for ago, n in zip(range(10, 0, -1), (1, 2, 3, 4, 5, 6, 7, 8, 9, 10), strict=True):
        clock.now = FROZEN - ago
        store.count_events("55tech", n)
    clock.now = FROZEN
    return store


def test_a_streaming_venue_shows_its_last_ten_seconds_and_rate() -> None:
    store = streaming_store(FakeClock())
    line, stale, _ = freshness_line(store, ["55tech"], FACTS, Tones.monochrome())
    assert not stale
    assert line.plain.startswith("55tech live stream ▂▂▃▄▅▅▆▇▇█ 8/s · updated 0 s ago")
    assert len(line.plain) <= 78  # one 80-column row, less the padding


def test_the_sparkline_moves_once_a_second_not_per_event() -> None:
    clock = FakeClock()
    store = streaming_store(clock)
    before, _, _ = freshness_line(store, ["55tech"], FACTS, Tones.monochrome())
    store.count_events("55tech", 500)  # this second: counted, drawn when it is over
    same, _, _ = freshness_line(store, ["55tech"], FACTS, Tones.monochrome())
    clock.now += 1
    after, _, _ = freshness_line(store, ["55tech"], FACTS, Tones.monochrome())
    assert same.plain == before.plain
    assert after.plain != before.plain
    assert "▂▂▂▂▂▂▂▂▂█ 107/s" in after.plain  # (7+8+9+10+500) / 5


def test_a_polling_venue_has_no_sparkline(tmp_path: Path) -> None:
    store = Store(clock=FakeClock())
    store.snapshot("x3algo", [])
    store.health("x3algo", FeedStatus.POLLING)
    line, _, _ = freshness_line(store, ["x3algo"], FACTS, Tones.monochrome())
    assert line.plain.startswith("x3algo polling · updated 0 s ago")
    assert not set(SPARK_BARS) & set(line.plain)
