"""The main screen: header, global banner, the five panels in tabs, outcomes, footer.

Panels sit in tabs so each gets the full height at 80x24. The screen owns only moving
between panels (1-5, tab, shift+tab), overriding the default focus-cycling on tab; all
other keys are the app's.

Bigger terminals get more, by breakpoint classes on the screen (``app.tcss``): from
:data:`WIDE_FROM` columns (``-wide``) each panel's detail line becomes a pane on the
right, the cursor row in full beside the table; from :data:`TALL_FROM` rows (``-high``)
the outcome log is taller. Columns that do not fit 80 simply come into view.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.geometry import Size
from textual.message import Message
from textual.screen import Screen
from textual.widgets import TabbedContent, TabPane

from console.tui.banner import GlobalBanner
from console.tui.footer import SteadyFooter
from console.tui.header import ConsoleHeader
from console.tui.keymap import SCREEN_BINDINGS
from console.tui.outcomes import OutcomesView
from console.tui.panels import TargetPanel


class PanelShown(Message):
    """A panel came on screen: the app flushes it at once rather than on the next tick."""


def pane_id(panel: TargetPanel) -> str:
    return f"pane-{panel.KIND.value}"


WIDE_FROM = 160
TALL_FROM = 40


def breakpoint_classes(size: Size, screen: Screen[None]) -> dict[str, bool]:
    """The screen's breakpoint classes for a terminal of ``size``, as Textual sets them on
    a resize (for each axis, the class of the highest breakpoint the size reaches).

    Set in ``compose``, before any child is styled: Textual sets them on the first
    resize, after every widget had been styled once, and the class change restyled the
    whole screen again (a third of the start-up's styling). The first resize then
    finds them set and changes nothing.
    """
    classes: dict[str, bool] = {}
    for reached, breakpoints in (
        (size.width, screen.HORIZONTAL_BREAKPOINTS or []),
        (size.height, screen.VERTICAL_BREAKPOINTS or []),
    ):
        passed = [(limit, name) for limit, name in breakpoints if reached >= limit]
        top = max(passed)[1] if passed else None
        classes.update({name: name == top for _, name in breakpoints})
    return classes


class MainScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = list(SCREEN_BINDINGS)
    # Textual types these as instance variables: a ClassVar annotation fails mypy.
    HORIZONTAL_BREAKPOINTS = [  # noqa: RUF012
        (0, "-narrow"),
        (WIDE_FROM, "-wide"),
    ]
    VERTICAL_BREAKPOINTS = [  # noqa: RUF012
        (0, "-low"),
        (TALL_FROM, "-high"),
    ]
    AUTO_FOCUS = "TargetTable"  # never the (hidden) filter box: a key typed early must act

    def __init__(self, header: ConsoleHeader, panels: Sequence[TargetPanel]) -> None:
        super().__init__(id="main")
        self._styled_under: int | None = None
        self.header = header
        self.panels = list(panels)

    def on_mount(self) -> None:
        self._styled_under = self.app._css_update_count  # every child styled once, just now

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        """No restyle of every widget when the screen comes back (as KeptModal).

        Textual re-applies the whole stylesheet to a resumed screen: once at start-up,
        right after every widget was styled, and again each time a modal closes (the
        operator pressing Esc waited for it). The main screen is always in the stack,
        and ``App.refresh_css`` (a theme change) restyles every screen in the stack, so
        it misses nothing while covered; its widgets restyle themselves when their own
        classes or focus change. Textual counts stylesheet refreshes: a count that moved
        anyway still restyles. Called before Screen's own handler, with the same event.
        """
        generation = self.app._css_update_count
        if event.refresh_styles and self._styled_under == generation:
            event.refresh_styles = False
        self._styled_under = generation

    def compose(self) -> ComposeResult:
        self.update_classes(breakpoint_classes(self.app.size, self), animate=False)
        yield self.header
        yield GlobalBanner()
        with TabbedContent(id="panels"):
            for n, panel in enumerate(self.panels, 1):
                with TabPane(f"{n} {panel.SHORT}  ", id=pane_id(panel)):
                    yield panel
        yield OutcomesView()
        yield SteadyFooter(compact=True)

    @property
    def active_panel(self) -> TargetPanel:
        active = self.query_one(TabbedContent).active
        return next((p for p in self.panels if pane_id(p) == active), self.panels[0])

    def show_panel(self, index: int) -> None:
        tabs = self.query_one(TabbedContent)
        tabs.active = pane_id(self.panels[index % len(self.panels)])
        self.call_after_refresh(self.focus_active)

    def focus_active(self) -> None:
        """Focus the panel's table, unless the focus is already in that panel.

        It runs after a refresh, so a ``/`` typed right after ``3`` has already put the
        focus in panel 3's filter box: taking it back would send the filter's letters to
        the table as keys (``a`` arms, ``u`` opens the journal).
        """
        panel = self.active_panel
        focused = self.focused
        if focused is not None and panel in focused.ancestors_with_self:
            return
        panel.table.focus()

    def action_panel(self, index: int) -> None:
        self.show_panel(index)

    def action_next_panel(self) -> None:
        self.show_panel(self.panels.index(self.active_panel) + 1)

    def action_previous_panel(self) -> None:
        self.show_panel(self.panels.index(self.active_panel) - 1)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self.call_after_refresh(self.focus_active)
        self.app.refresh_bindings()
        self.post_message(PanelShown())
