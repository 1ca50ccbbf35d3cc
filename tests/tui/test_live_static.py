"""A LiveStatic repaints a changed text, and asks for a layout pass of the screen only
when the text may change its size: the clock ticking must not re-arrange every widget."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.containers import Horizontal
from textual.geometry import Size
from textual.pilot import Pilot
from textual.screen import Screen

from console.tui.widgets.live_static import LiveStatic


class Harness(App[None]):
    """Counts the screen's layout passes (each re-arranges and repaints every widget)."""

    pilot: Pilot[None]
    layouts = 0
    CSS = """
    Horizontal { height: 1; }
    #clock { width: auto; }
    #line { height: 1; }
    #note { width: 20; }
    """

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield LiveStatic("12:00:00", id="clock")
            yield LiveStatic("rest", id="rest")
        yield LiveStatic("fresh 1 s ago", id="line")
        yield LiveStatic("short", id="note")  # width fixed, height auto (Static's default)

    def on_mount(self) -> None:
        screen = self.screen
        refresh_layout = screen._refresh_layout

        def counted(size: Size | None = None, scroll: bool = False) -> None:
            self.layouts += 1
            refresh_layout(size, scroll)

        screen._refresh_layout = counted  # type: ignore[method-assign]


async def shown(app: Harness, widget_id: str, text: str) -> tuple[bool, str]:
    """Show ``text``; whether the screen wanted a layout pass, and what the screen shows
    where the widget is once the next frame is drawn."""
    screen: Screen[None] = app.screen
    widget = app.query_one(f"#{widget_id}", LiveStatic)
    before = app.layouts
    widget.show(text)
    await app.pilot.pause()
    laid_out = app.layouts > before
    region = widget.region
    strips = screen._compositor.render_strips()
    lines = [strips[y].crop(region.x, region.right).text for y in range(region.y, region.bottom)]
    return laid_out, "\n".join(line.rstrip() for line in lines)


async def test_same_width_text_is_repainted_without_a_layout_pass() -> None:
    app = Harness()
    async with app.run_test(size=(60, 10)) as pilot:
        app.pilot = pilot
        await pilot.pause()
        assert await shown(app, "clock", "12:00:01") == (False, "12:00:01")
        assert await shown(app, "line", "fresh 2 s ago · a longer line now") == (
            False,
            "fresh 2 s ago · a longer line now",
        )
        assert await shown(app, "note", "other") == (False, "other")


async def test_a_text_that_may_change_the_size_asks_for_a_layout_pass() -> None:
    app = Harness()
    async with app.run_test(size=(60, 10)) as pilot:
        app.pilot = pilot
        await pilot.pause()
        clock = app.query_one("#clock", LiveStatic)
        assert await shown(app, "clock", "12:00:00 UTC") == (True, "12:00:00 UTC")
        assert clock.size.width == len("12:00:00 UTC")  # the auto width followed
        assert await shown(app, "note", "short\nand two lines") == (True, "short\nand two lines")
        assert app.query_one("#note", LiveStatic).size.height == 2
        # As wide as before but wider than the widget: the wrapping may differ.
        wide = "x" * 25
        assert (await shown(app, "note", wide))[0] is True
        assert (await shown(app, "note", "y" * 25))[0] is True
