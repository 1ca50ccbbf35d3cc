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

from textual.app import ComposeResult
from textual.binding import BindingType
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
        self.header = header
        self.panels = list(panels)

    def compose(self) -> ComposeResult:
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
