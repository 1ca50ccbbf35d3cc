"""The line above each table that says how fresh its data is, in words.

A panel whose venue went quiet must not look live: past the stale threshold the line
turns to reverse video and reads ``STALE — data 42 s old — feed down: <venue's words>``.

A venue with a push stream also shows its event rate: a sparkline of the last
:data:`SPARK_SECONDS` seconds (one block character a second, scaled to the busiest) and
the events per second, e.g. ``55tech live stream ▂▃▅▇▅▃ 12/s · updated 0 s ago``. It
reads the store's per-second counts (``Store.rate_history``), so it changes once a
second whatever the event rate, and costs nothing per event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text

from console.core.ports import FeedStatus
from console.core.store import Store
from console.tui.format import Tones, fmt_age, fmt_rate, one_line, sparkline

FEED_WORDS = {
    FeedStatus.CONNECTING: "connecting",
    FeedStatus.LIVE: "live stream",
    FeedStatus.POLLING: "polling",
    FeedStatus.RECONNECTING: "reconnecting",
    FeedStatus.DOWN: "feed down",
}


SPARK_SECONDS = 10
"""Seconds of event rate in a panel's freshness line (it must fit 80 columns)."""


def streams(store: Store, venue: str) -> bool:
    """Does the venue have a push stream to chart (connected now, or events seen)?"""
    health = store.venue_health(venue)
    return health.status is FeedStatus.LIVE or health.events > 0


def rate_text(store: Store, venue: str, seconds: int) -> Text:
    """``▂▃▅▇▅▃ 12/s``: the last ``seconds`` of stream events and the rate over them."""
    history = store.rate_history(venue, seconds)
    text = Text(sparkline(history), "bold")
    text.append(f" {fmt_rate(sum(history[-5:]) / 5)}")
    return text


@dataclass(frozen=True)
class ViewFacts:
    """The panel's own numbers for the end of the line."""

    total: int
    shown: int
    selected: int
    sort_label: str
    filter_text: str


def venue_part(store: Store, venue: str, tones: Tones) -> tuple[Text, bool]:
    """One venue's freshness, and whether it is stale."""
    health = store.venue_health(venue)
    age = store.age(venue)
    stale = store.is_stale(venue)
    detail = one_line(health.detail, 120) if health.detail else ""
    text = Text()
    if age is None:
        if health.status is FeedStatus.DOWN:
            text.append(f" NO DATA — {venue} feed down: {detail} ", tones.danger)
        else:
            text.append(f"{venue}: waiting for first data ({FEED_WORDS[health.status]})…")
        return text, True
    if stale:
        words = f"feed {health.status.value}" + (f": {detail}" if detail else "")
        text.append(f" STALE — {venue} data {fmt_age(age)} old — {words} ", tones.danger)
        return text, True
    if health.status in (FeedStatus.DOWN, FeedStatus.RECONNECTING):
        words = FEED_WORDS[health.status] + (f": {detail}" if detail else "")
        text.append(f" {venue} {words} ", tones.warn)
        text.append(f" data {fmt_age(age)} old")
        return text, False
    text.append(f"{venue} {FEED_WORDS[health.status]}")
    if streams(store, venue):
        text.append(" ")
        text.append_text(rate_text(store, venue, SPARK_SECONDS))
    text.append(f" · updated {fmt_age(age)} ago")
    return text, False


def freshness_line(
    store: Store, venues: Sequence[str], facts: ViewFacts, tones: Tones
) -> tuple[Text, bool, bool]:
    """The whole line; whether any venue is stale; whether any needs attention (2 rows)."""
    line = Text()
    any_stale = False
    alert = any(
        store.venue_health(v).status in (FeedStatus.DOWN, FeedStatus.RECONNECTING) for v in venues
    )
    for i, venue in enumerate(venues):
        if i:
            line.append(" │ ")
        part, stale = venue_part(store, venue, tones)
        line.append_text(part)
        any_stale = any_stale or stale
    if not venues:
        line.append("no venue of this kind in the profile")
    counts = f" · {facts.total} rows"
    if facts.filter_text:
        counts += f" ({facts.shown} match /{facts.filter_text})"
    if facts.selected:
        counts += f" · {facts.selected} selected"
    line.append(counts)
    line.append(f" · sort {facts.sort_label}", "dim")
    return line, any_stale, alert or any_stale
