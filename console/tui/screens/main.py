"""The main screen: header, global banner, the five panels in tabs, outcomes, footer.

Panels sit in tabs so each gets the full height at 80x24. The screen owns only moving
between panels (1-5, tab, shift+tab), overriding the default focus-cycling on tab; all
other keys are the app's.

Bigger terminals get more, by breakpoint classes on the screen (``app.tcss``): from
:data:`WIDE_FROM` columns (``-wide``) each panel's detail line becomes a pane on the
right, the cursor row in full beside the table; from :data:`TALL_FROM` rows (``-high``)
the outcome log is taller. Columns take the room there is (``panels/columns.py``).

The overview (:mod:`console.tui.widgets.overview`, one card per panel) is a strip above the
panels from :data:`OVERVIEW_FROM` (class ``-overview``), else the tab ``0 Overview``.
That tab has no rows: the keys that act on rows say so instead of acting on a panel the
operator cannot see.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.screen import Screen
from textual.widgets import TabbedContent, TabPane

from console.tui.keymap import APP_BINDINGS, SCREEN_BINDINGS
from console.tui.panels import TargetPanel
from console.tui.textual_compat.styles import stylesheet_generation
from console.tui.widgets.banner import GlobalBanner
from console.tui.widgets.footer import SteadyFooter
from console.tui.widgets.header import ConsoleHeader
from console.tui.widgets.outcomes import OutcomesView
from console.tui.widgets.overview import Overview


class PanelShown(Message):
    """A panel came on screen: the app flushes it at once rather than on the next tick.

    It names the panel, so the app need not look it up again: by the time the message
    is handled the screen may be leaving (the app quitting), with no tabs left to ask.
    """

    def __init__(self, panel: TargetPanel) -> None:
        super().__init__()
        self.panel = panel


def pane_id(panel: TargetPanel) -> str:
    return f"pane-{panel.KIND.value}"


WIDE_FROM = 160
TALL_FROM = 40
OVERVIEW_FROM = (160, 45)
"""Columns and rows from which the overview is a strip above the panels, not a tab.
(Meant to come from the profile; until then, this constant.)"""
OVERVIEW_PANE = "pane-overview"
ROW_KEYS = ("pause", "stop", "resume", "start", "filter", "sort", "reverse_sort", "select_all")
"""App keys that act on a panel's rows: on the Overview tab they say so instead."""

OVERVIEW_BINDINGS: list[Binding] = [
    *(
        Binding(b.key, f"no_rows({b.description!r})", b.description, show=False, id=b.id)
        for b in APP_BINDINGS
        if b.id in ROW_KEYS
    ),
]
"""The same ids as the app's keys, so a profile's remap moves these with them."""


def overview_fits(size: Size, start: tuple[int, int] = OVERVIEW_FROM) -> bool:
    return size.width >= start[0] and size.height >= start[1]


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
    BINDINGS: ClassVar[list[BindingType]] = [*SCREEN_BINDINGS, *OVERVIEW_BINDINGS]
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

    def __init__(
        self,
        header: ConsoleHeader,
        panels: Sequence[TargetPanel],
        *,
        kill_offered: Callable[[], bool] = lambda: False,
    ) -> None:
        """``kill_offered``: whether the emergency stop may run now (the footer shows
        its key then)."""
        super().__init__(id="main")
        self._styled_under: int | None = None
        self.kill_offered = kill_offered
        self.header = header
        self.panels = list(panels)
        self.overview_from = OVERVIEW_FROM
        self._last_panel = self.panels[0]
        self._overviews: tuple[Overview, ...] = ()

    def on_mount(self) -> None:
        self._styled_under = stylesheet_generation(self.app)  # every child styled once, just now
        self._place_overview()

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        """No restyle of every widget when the screen comes back (as KeptModal).

        Textual re-applies the whole stylesheet to a resumed screen: once at start-up,
        right after every widget was styled, and again each time a modal closes (the
        operator pressing Esc waited for it). The main screen is always in the stack,
        and ``App.refresh_css`` (a theme change) restyles every screen in the stack, so
        it misses nothing while covered; its widgets restyle themselves when their own
        classes or focus change. Textual counts stylesheet refreshes: a count that moved
        anyway still restyles. Called before Screen's own handler, with the same event.
        """
        generation = stylesheet_generation(self.app)
        if event.refresh_styles and self._styled_under == generation:
            event.refresh_styles = False
        self._styled_under = generation

    def compose(self) -> ComposeResult:
        classes = breakpoint_classes(self.app.size, self)
        classes["-overview"] = overview_fits(self.app.size, self.overview_from)
        self.update_classes(classes, animate=False)
        yield self.header
        yield GlobalBanner()
        strip = Overview(self.panels, self._strip_shown, id="overview")
        tab = Overview(self.panels, self._tab_shown, id="overview-tab")
        self._overviews = (strip, tab)
        yield strip
        with TabbedContent(id="panels", initial=pane_id(self.panels[0])):
            with TabPane("0 Overview  ", id=OVERVIEW_PANE):
                yield tab
            for n, panel in enumerate(self.panels, 1):
                with TabPane(f"{n} {panel.SHORT}  ", id=pane_id(panel)):
                    yield panel
        yield OutcomesView()
        yield SteadyFooter(kill_offered=self.kill_offered, compact=True, show_command_palette=False)

    # ----- the overview ---------------------------------------------------------------
    @property
    def overview_strip(self) -> bool:
        """The overview is the strip above the panels (a big terminal), not a tab."""
        return self.has_class("-overview")

    @property
    def overview_shown(self) -> bool:
        """The Overview tab is on screen (a small terminal): no panel's rows are."""
        return not self.overview_strip and self.query_one(TabbedContent).active == OVERVIEW_PANE

    def refresh_overview(self) -> None:
        """Targets changed: the overview on screen shows it on this redraw, not on its
        next 0.5 s refresh (a first paint would otherwise show empty cards for a moment,
        and whether a picture caught them empty would depend on timing)."""
        for overview in self._overviews:
            if overview.is_mounted:
                overview.refresh_cards()

    def _strip_shown(self) -> bool:
        return self.is_current and self.overview_strip

    def _tab_shown(self) -> bool:
        return self.is_current and self.overview_shown

    def on_resize(self, event: events.Resize) -> None:
        fits = overview_fits(event.size, self.overview_from)
        if fits != self.overview_strip:
            self.set_class(fits, "-overview")
            self._place_overview()

    def _place_overview(self) -> None:
        """Strip or tab: a big terminal has no Overview tab (the strip shows it)."""
        tabs = self.query_one(TabbedContent)
        if self.overview_strip:
            if tabs.active == OVERVIEW_PANE:
                self.show_panel(self.panels.index(self._last_panel))
            tabs.hide_tab(OVERVIEW_PANE)
            self.query_one("#overview", Overview).refresh_cards(force=True)
        else:
            tabs.show_tab(OVERVIEW_PANE)

    def action_overview(self) -> None:
        if self.overview_strip:
            self.notify("The overview is the strip above the panels: 1–5 open a panel.")
            return
        self.query_one(TabbedContent).active = OVERVIEW_PANE
        self.call_after_refresh(self.focus_active)

    def action_no_rows(self, what: str) -> None:
        self.notify(
            f"{what}: the overview has no rows. Press 1–5 to open a panel, then the key.",
            severity="warning",
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "no_rows":
            return self.overview_shown  # else the app's own key acts on the panel shown
        return True

    # ----- panels ---------------------------------------------------------------------
    @property
    def active_panel(self) -> TargetPanel:
        """The panel on screen; on the Overview tab, the last one shown (the app keeps
        flushing it; keys that act on rows are answered by :meth:`action_no_rows`)."""
        active = self.query_one(TabbedContent).active
        return next((p for p in self.panels if pane_id(p) == active), self._last_panel)

    def show_panel(self, index: int) -> None:
        tabs = self.query_one(TabbedContent)
        tabs.active = pane_id(self.panels[index % len(self.panels)])
        self.call_after_refresh(self.focus_active)

    def _step(self, by: int) -> None:
        """tab / shift+tab: through the panels, and the Overview tab when it is one."""
        order: list[str] = [pane_id(p) for p in self.panels]
        if not self.overview_strip:
            order.insert(0, OVERVIEW_PANE)
        tabs = self.query_one(TabbedContent)
        here = order.index(tabs.active) if tabs.active in order else 0
        tabs.active = order[(here + by) % len(order)]
        self.call_after_refresh(self.focus_active)

    def focus_active(self) -> None:
        """Focus the panel's table, unless the focus is already in that panel.

        It runs after a refresh, so a ``/`` typed right after ``3`` has already put the
        focus in panel 3's filter box: taking it back would send the filter's letters to
        the table as keys (``a`` arms, ``u`` opens the journal).
        """
        if self.overview_shown:
            self.query_one("#overview-tab", Overview).focus()
            return
        panel = self.active_panel
        focused = self.focused
        if focused is not None and panel in focused.ancestors_with_self:
            return
        panel.table.focus()

    def action_panel(self, index: int) -> None:
        self.show_panel(index)

    def action_next_panel(self) -> None:
        self._step(1)

    def action_previous_panel(self) -> None:
        self._step(-1)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        active = self.query_one(TabbedContent).active
        self._last_panel = next((p for p in self.panels if pane_id(p) == active), self._last_panel)
        if active == OVERVIEW_PANE:
            self.query_one("#overview-tab", Overview).refresh_cards(force=True)
        self.call_after_refresh(self.focus_active)
        self.app.refresh_bindings()
        self.post_message(PanelShown(self._last_panel))
