"""State colours follow a theme switch, and the cursor row stays readable (issue 12,
item 18): rows are restyled when the theme changes; under NO_COLOR the cursor row is
marked without hiding a STOPPED cell's reverse video; on the cursor row of every shipped
colour theme LIVE/ACTIVE, text and STOPPED keep their contrast."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.color import Color
from rich.segment import Segment
from rich.style import Style

from console.tui.app import ConsoleApp
from console.tui.format import Tones
from console.tui.themes import theme_commands
from tests.tui.fakes import FakeClock, fake_session, fake_venues, preload
from tests.tui.pilot_support import wait_for

SIZE = (100, 30)


def console(tmp_path: Path, theme: str | None) -> ConsoleApp:
    clock = FakeClock()
    venues = fake_venues()
    session = fake_session(tmp_path, clock, venues)
    preload(session, venues)
    return ConsoleApp(session, session.control, clock=clock, start_feeds=False, theme=theme)


def line_of(app: ConsoleApp, words: str) -> list[Segment]:
    """The screen line showing ``words``, as the terminal gets it (line filters applied)."""
    for strip in app.screen._compositor.render_strips():
        segments = list(strip)
        if words in "".join(s.text for s in segments):
            for line_filter in app.get_line_filters():
                segments = line_filter.apply(segments, app.screen.styles.background)
            return segments
    raise AssertionError(f"{words!r} is not on screen")


def style_of(line: list[Segment], words: str) -> Style:
    found = [s.style for s in line if words in s.text and s.style is not None]
    assert found, f"{words!r} not in {[s.text for s in line]}"
    return found[0]


def luminance(colour: Color) -> float:
    triplet = colour.get_truecolor()

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * channel(triplet.red)
        + 0.7152 * channel(triplet.green)
        + 0.0722 * channel(triplet.blue)
    )


def contrast(style: Style) -> float:
    """WCAG contrast of a segment's text on its background (reverse swaps them)."""
    assert style.color is not None and style.bgcolor is not None, style
    high, low = sorted((luminance(style.color), luminance(style.bgcolor)), reverse=True)
    return (high + 0.05) / (low + 0.05)


async def loaded(app: ConsoleApp, pilot: object) -> None:
    from textual.pilot import Pilot

    assert isinstance(pilot, Pilot)
    app.tick()
    await wait_for(pilot, lambda: app.active_panel.table.row_count == 3, "engines")
    await pilot.pause()


async def test_switching_theme_from_the_palette_restyles_the_state_cells(tmp_path: Path) -> None:
    app = console(tmp_path, "trading-dark")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await pilot.press("j")  # the cursor off the LIVE row: its own colour shows
        dark = Tones.from_theme(app.theme_variables)
        assert style_of(line_of(app, "acme"), "LIVE").color == dark.ok.color
        switch = {c.title: c for c in theme_commands(app)}["Theme: trading-light"]
        switch.run()
        await wait_for(
            pilot,
            lambda: Tones.from_theme(app.theme_variables).ok.color != dark.ok.color,
            "the light theme's colours",
        )
        light = Tones.from_theme(app.theme_variables)
        await wait_for(
            pilot,
            lambda: style_of(line_of(app, "acme"), "LIVE").color == light.ok.color,
            "LIVE in the light theme's success colour",
        )
        stopped = style_of(line_of(app, "crux"), "MANUAL STOPPED")
        assert stopped.color == light.danger.color and stopped.reverse
        # Cells of a panel not on screen are restyled too when it is shown.
        await pilot.press("2")
        await wait_for(pilot, lambda: app.active_panel.KIND.value == "algorithm")
        app.tick()
        await wait_for(pilot, lambda: app.active_panel.table.row_count == 3, "algorithms")
        app.active_panel.table.move_cursor(row=2)
        await pilot.pause()
        active = style_of(line_of(app, "btc-grid"), "ACTIVE")
        assert active.color == light.ok.color


async def test_no_color_cursor_row_is_marked_and_keeps_a_stopped_cells_reverse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = console(tmp_path, None)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        app.active_panel.table.move_cursor(row=2)  # crux: MANUAL STOPPED
        await pilot.pause()
        row = line_of(app, "crux")
        name = style_of(row, "crux")
        stopped = style_of(row, "MANUAL STOPPED")
        assert stopped.reverse and not name.reverse  # STOPPED stands out on the cursor row
        other = style_of(line_of(app, "acme"), "acme")
        assert (name.underline or name.reverse) and not (other.underline or other.reverse)
        assert name.bold


@pytest.mark.parametrize("theme", ["trading-dark", "trading-light", "trading-high-contrast"])
async def test_the_cursor_rows_states_are_readable_in_every_shipped_colour_theme(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, theme: str
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    app = console(tmp_path, theme)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        assert app.theme == theme
        live = style_of(line_of(app, "acme"), "LIVE")  # the cursor starts on acme
        assert contrast(live) >= 4.5, (theme, live)
        assert contrast(style_of(line_of(app, "acme"), "acme")) >= 7, theme
        app.active_panel.table.move_cursor(row=2)
        await pilot.pause()
        stopped = style_of(line_of(app, "crux"), "MANUAL STOPPED")
        assert stopped.reverse and contrast(stopped) >= 3, (theme, stopped)
