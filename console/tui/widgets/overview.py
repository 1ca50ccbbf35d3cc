"""The overview: all five panels at a glance, one card each.

A card says, per venue of its panel, how fresh the data is (the freshness line's words),
how many targets are in each state, and the totals of :data:`~console.tui.panels.tally.
TOTALS` (P&L, open positions, capital) where the kind has them. Where the terminal is
big enough (:data:`~console.tui.screens.main.OVERVIEW_FROM`) the five cards are a strip
above the panels; on smaller terminals they are the Overview tab (``0``).

Cost: a card re-reads only the targets that changed since its last refresh (the panels'
:class:`~console.tui.panels.tally.Tally`), every :data:`REFRESH_S`, and only while on
screen. No table is redrawn for it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Container

from console.core.model import State
from console.core.ports import FeedStatus
from console.core.store import Store
from console.tui.format import HUGE, Tones, compact, fmt_age, fmt_money, one_line
from console.tui.panels import TargetPanel
from console.tui.panels.freshness import FEED_WORDS
from console.tui.panels.tally import TOTALS, VenueTally
from console.tui.theme_follow import following_theme
from console.tui.widgets.live_static import LiveStatic

REFRESH_S = 0.5
"""How often a shown overview re-reads what changed (the ages count in seconds)."""

CARD_TEXT = 34
"""Totals are packed into lines this long (a card is ~37 columns wide at 200)."""

ORDER = (State.RUNNING, State.PAUSED, State.STOPPED, State.ERROR, State.UNKNOWN)
WORDS = {
    State.RUNNING: "running",
    State.PAUSED: "paused",
    State.STOPPED: "stopped",
    State.ERROR: "error",
    State.UNKNOWN: "unknown",
}


def fmt_total(label: str, value: float) -> str:
    if label == "open positions":
        return f"{label} {compact(value) if abs(value) >= HUGE else f'{value:,.0f}'}"
    return f"{label} {fmt_money(value)}"


def venue_lines(store: Store, venue: str, tally: VenueTally | None, tones: Tones) -> Text:
    """A venue's freshness, its targets by state and its totals (two or three lines)."""
    text = Text()
    health = store.venue_health(venue)
    age = store.age(venue)
    stale = store.is_stale(venue)
    detail = f": {one_line(health.detail, 60)}" if health.detail else ""
    if age is None:
        if health.status is FeedStatus.DOWN:
            text.append(f" NO DATA — {venue} feed down{detail} ", tones.danger)
        else:
            text.append(f"{venue} waiting for first data ({FEED_WORDS[health.status]})")
        return text
    why = ""  # a stale feed's words: last, so its count stays in a card's few lines
    if stale:
        why = f"feed {health.status.value}{detail}"
        text.append(f" STALE — {venue} data {fmt_age(age)} old ", tones.danger)
    elif health.status in (FeedStatus.DOWN, FeedStatus.RECONNECTING):
        text.append(f" {venue} {FEED_WORDS[health.status]} ", tones.danger)
        text.append(f" data {fmt_age(age)} old")
    else:
        text.append(f"{venue} {FEED_WORDS[health.status]} · updated {fmt_age(age)} ago")
    text.append("\n")
    if tally is None or not tally.total:
        text.append("  no targets")
        if why:
            text.append(f"\n  {why}", tones.warn)
        return text
    if stale:
        text.append(f"  {tally.total} targets, states UNKNOWN (stale)", tones.warn)
    else:
        first = True
        for state in ORDER:
            count = tally.counts.get(state, 0)
            if not count:
                continue
            text.append("  " if first else " · ")
            first = False
            style = tones.plain if state is State.RUNNING else tones.for_state(state)
            text.append(f"{count} {WORDS[state]}", style)
        if health.status is FeedStatus.DOWN:
            text.append(f" (as of {fmt_age(age)} ago)", "dim")
    totals = [fmt_total(label, tally.sums[label]) for label, _ in TOTALS if label in tally.sums]
    lines: list[str] = []
    for total in totals:  # packed to a card's width (37 columns at 200)
        if lines and len(lines[-1]) + 3 + len(total) <= CARD_TEXT:
            lines[-1] += " · " + total
        else:
            lines.append(total)
    for line in lines:
        text.append("\n  " + line, "dim" if stale else "")
    if why:
        text.append(f"\n  {why}", tones.warn)
    return text


def card_text(panel: TargetPanel, tones: Tones) -> Text:
    """One panel's card: its number and title, then each of its venues."""
    store = panel.store
    stale = any(store.is_stale(v) for v in panel.venues)
    text = Text()
    text.append(f"{panel.number} {panel.TITLE}", "bold")
    if stale:
        text.append(" !", tones.danger)
    for venue in panel.venues:
        text.append("\n")
        text.append_text(venue_lines(store, venue, panel.tally.venues.get(venue), tones))
    if not panel.venues:
        text.append("\nno venue of this kind in the profile", "dim")
    return text


class Overview(Container, can_focus=True):
    """The five cards (a grid; its shape is in ``app.tcss``)."""

    def __init__(
        self,
        panels: Sequence[TargetPanel],
        shown: Callable[[], bool],
        *,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.panels = list(panels)
        self.shown = shown
        self.tones = Tones.monochrome()

    def compose(self) -> ComposeResult:
        for panel in self.panels:
            yield LiveStatic(id=f"card-{panel.KIND.value}", classes="overview-card")

    def on_mount(self) -> None:
        self.tones = following_theme(self, self._retone)
        self.set_interval(REFRESH_S, self.refresh_cards, name="overview")
        self.refresh_cards()

    def _retone(self, tones: Tones) -> None:
        self.tones = tones
        self.refresh_cards(force=True)

    def refresh_cards(self, *, force: bool = False) -> None:
        """Re-read what changed and redraw the cards, only while the overview is on
        screen (a hidden one's panels still note their changed keys)."""
        if not force and not self.shown():
            return
        for panel in self.panels:
            panel.tally.refresh(panel.venues)
            card = self.query_one(f"#card-{panel.KIND.value}", LiveStatic)
            card.show(card_text(panel, self.tones))
