"""The header: which profile, whether keys can act, each venue's health, and UTC time.

Two lines, so it fits 80x24:

    [ PROD ] profile prod   ARMED 4:59                          07:35:25 UTC
    55tech live 1s │ x3algo poll 2s │ pipai DOWN 42s │ joyride poll 1s │ ...

The profile label is shown in the profile's theme colour *and* in words; ARMED, DOWN,
RECONN and stale ages are in reverse video, so nothing depends on colour.

From :data:`WIDE` columns on, each streaming venue's mark is followed by its event-rate
sparkline (the last :data:`SPARK_SECONDS` seconds and the events per second), so every
venue's pulse is in view whatever panel is on screen; narrower, the sparkline is only
in the freshness line of the venue's own panel.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import Label

from console.core.ports import FeedStatus
from console.core.store import Store
from console.tui.format import Tones, fmt_short_age
from console.tui.panels.freshness import rate_text, streams
from console.tui.widgets.live_static import LiveStatic

WIDE = 160
"""From this many columns the header has room for every venue's event-rate sparkline."""

SPARK_SECONDS = 12

PROFILE_COLOURS = ("error", "warning", "success", "accent", "primary", "secondary")

MARKS = {
    FeedStatus.CONNECTING: "conn",
    FeedStatus.LIVE: "live",
    FeedStatus.POLLING: "poll",
    FeedStatus.RECONNECTING: "RECONN",
    FeedStatus.DOWN: "DOWN",
}


def profile_class(colour: str) -> str:
    """The CSS class that paints the label with the profile's theme colour."""
    return f"-colour-{colour if colour in PROFILE_COLOURS else 'warning'}"


def fmt_arm(seconds: float) -> str:
    s = max(0, int(seconds + 0.999))
    return f"{s // 60}:{s % 60:02d}"


class ConsoleHeader(Widget):
    """Profile, control state, venue health marks and the UTC clock."""

    def __init__(
        self, store: Store, venues: Sequence[str], *, label: str, profile: str, colour: str
    ) -> None:
        super().__init__(id="header")
        self.store = store
        self.venues = list(venues)
        self.label = label
        self.profile = profile
        self.colour = colour
        self._tones = Tones.monochrome()
        self._tones_for: str | None = None

    @property
    def tones(self) -> Tones:
        """The theme's danger and warning styles, read for the theme in force whenever it
        changed: the app may draw the header before its mount ran (ARMED came out grey
        under load) and after a theme switch."""
        theme = self.app.theme
        if theme != self._tones_for:
            self._tones = Tones.from_theme(self.app.theme_variables)
            self._tones_for = theme
        return self._tones

    def compose(self) -> ComposeResult:
        with Horizontal(id="header-top"):
            yield Label(f" {self.label} ", id="profile-label", classes=profile_class(self.colour))
            yield Label(f" profile {self.profile} ", id="profile-name")
            yield LiveStatic(id="mode")
            yield LiveStatic(id="plan-state")
            yield LiveStatic(id="clock")
        yield LiveStatic(id="venues")

    def refresh_view(
        self,
        now: float,
        *,
        readonly: bool,
        armed_left: float | None,
        arm_minutes: float,
        running: str = "",
        automation: Text | None = None,
    ) -> None:
        """``automation``: the next scheduled run and its countdown, or who acts while this
        console stands by (nothing when the profile has no automation)."""
        self.query_one("#mode", LiveStatic).show(self._mode(readonly, armed_left, arm_minutes))
        state = Text(running, "bold") if running else Text()
        if automation:
            state.append("  " if running else "")
            state.append_text(automation)
        self.query_one("#plan-state", LiveStatic).show(state if state else "")
        clock = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(now))
        self.query_one("#clock", LiveStatic).show(clock)
        self.query_one("#venues", LiveStatic).show(self.venue_line())

    def _mode(self, readonly: bool, armed_left: float | None, arm_minutes: float) -> Text:
        if armed_left is not None:
            return Text(f" ARMED {fmt_arm(armed_left)} ", self.tones.danger)
        if readonly:
            text = Text(" READ-ONLY ", "bold")
            text.append(f" a arms {arm_minutes:g} min", "dim")
            return text
        return Text(" ARMED ", self.tones.danger) + Text(" profile not read-only", "dim")

    def venue_line(self) -> Text:
        wide = self.size.width >= WIDE
        line = Text(no_wrap=True, overflow="ellipsis")
        for i, venue in enumerate(self.venues):
            if i:
                line.append("│", "dim")
            health = self.store.venue_health(venue)
            age = self.store.age(venue)
            stale = self.store.is_stale(venue)
            mark = MARKS[health.status]
            bad = health.status in (FeedStatus.DOWN, FeedStatus.RECONNECTING)
            line.append(f"{venue} ")
            line.append(mark, self.tones.danger if bad else self.tones.plain)
            line.append(" ")
            age_text = fmt_short_age(age)
            line.append(age_text if not stale else f"{age_text}!", self.tones.warn if stale else "")
            if wide and streams(self.store, venue):
                line.append(" ")
                line.append_text(rate_text(self.store, venue, SPARK_SECONDS))
                line.append(" ")
        return line
