"""The tick: the store's changes to the panels, the header and the banner, at a steady pace.

Kept apart from the app's keys and life cycle because this is the path every price and
status travels to the screen. Feeds write into the store as fast as venues speak; every
``tick_s`` the store's changed keys are drained, grouped by panel (one call a panel, not
one a key) and drawn only when on screen. Until the panel on screen has rows, a faster
tick gets the first paint out. A display bug never kills the console: it is logged and
said once (and again at the 100th). The garbage collector is held while the venues'
first lists come in, then collected at quiet moments (:class:`QuietCollector`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from textual.app import App
from textual.css.query import NoMatches
from textual.theme import Theme
from textual.timer import Timer

from console.core.input_first import INPUT_FIRST
from console.core.model import TargetKind
from console.core.ports import ControlPort, FeedStatus, StateSource
from console.tui.arming import ArmState
from console.tui.controllers.automation import AutomationController
from console.tui.controllers.control import ControlController
from console.tui.format import Tones
from console.tui.heap import QuietCollector
from console.tui.panels import API_KINDS, PANELS, TargetPanel
from console.tui.screens.main import MainScreen
from console.tui.textual_compat.app_state import exiting, shutting_down
from console.tui.widgets.banner import GlobalBanner, find_block
from console.tui.widgets.header import ConsoleHeader

log = logging.getLogger(__name__)
FIRST_PAINT_TICK_S = 0.05
START_UP_AT_MOST_S = 10.0
"""The garbage collector is held while the venues' first lists come in, at most this long."""


def build_panels(
    state: StateSource, *, started_at: float, clock: Callable[[], float]
) -> list[TargetPanel]:
    """One panel a kind of target, numbered as their tabs, each given the venues whose
    api offers that kind (a venue of an api the TUI does not know is adopted later, by
    its first target: :meth:`RedrawController.tick`)."""
    kinds = {c.name: API_KINDS.get(c.api) for c in state.clients.values()}
    panels: list[TargetPanel] = [
        cls(
            state.store,
            [v for v, k in kinds.items() if k is cls.KIND],
            session_started=started_at,
            clock=clock,
        )
        for cls in PANELS
    ]
    for number, panel in enumerate(panels, 1):
        panel.number = number
    return panels


class RedrawController:
    """Drains the store every tick and redraws what changed.

    ``started_at`` gives the session's start (real time), ``last_input`` the monotonic
    time of the last key or click and ``input_waiting`` whether one is queued now: the
    heap is collected only when the operator is not typing.
    """

    def __init__(
        self,
        app: App[None],
        state: StateSource,
        control: ControlPort,
        *,
        clock: Callable[[], float],
        arm: ArmState,
        main: MainScreen,
        header: ConsoleHeader,
        panels: Sequence[TargetPanel],
        controls: ControlController,
        automation: AutomationController,
        heap: QuietCollector,
        started_at: Callable[[], float],
        last_input: Callable[[], float],
        input_waiting: Callable[[], bool],
    ) -> None:
        self.app = app
        self.state = state
        self.control = control
        self.clock = clock
        self.arm = arm
        self.main = main
        self.header = header
        self.panels = panels
        self.controls = controls
        self.automation = automation
        self.heap = heap
        self.started_at = started_at
        self.last_input = last_input
        self.input_waiting = input_waiting
        self.panel_of_kind = {p.KIND: p for p in panels}
        self.panel_of_venue = {v: p for p in panels for v in p.venues}
        self._last_second = -1
        self._failures = 0
        self._eager: Timer | None = None
        self._deferred = False  # the last tick gave way to a key being answered

    def start(self, tick_s: float) -> None:
        """The steady tick, the faster one until the first rows, and a tick right away."""
        self.app.set_interval(tick_s, self.tick, name="redraw")
        self._eager = self.app.set_interval(
            FIRST_PAINT_TICK_S, self._until_first_rows, name="first"
        )
        self.app.call_after_refresh(self.tick)

    def _until_first_rows(self) -> None:
        """Tick fast until the panel on screen has rows: the first paint should not wait."""
        if exiting(self.app) or not self.main.is_attached:
            return  # shutting down: the panels may be gone already
        try:
            shown = self.main.active_panel.rows.shown
        except NoMatches:  # a quit before the first rows: the tabs already taken down
            return
        if shown or time.time() - self.started_at() > 30:
            if self._eager is not None:
                self._eager.stop()
        else:
            self.tick()

    def tick(self) -> None:
        """Drain the store and redraw what changed; a display bug never kills the console."""
        app = self.app
        if exiting(app) or not self.main.is_attached:
            return  # shutting down (or not up yet): nothing left to draw on
        if INPUT_FIRST.held and not self._deferred:
            # A key's answer is being built: it goes first (core/input_first.py); the
            # store keeps what changed for the next tick. Never two ticks in a row, so a
            # key held down still leaves the screen a redraw every other tick.
            self._deferred = True
            return
        self._deferred = False
        try:
            self._tick()
            self._failures = 0
        except Exception as exc:
            if shutting_down(app):
                return  # widgets already going away at shutdown: nothing to draw on
            log.exception("redraw failed")
            self._failures += 1
            if self._failures in (1, 100):
                app.notify(
                    f"display error ({type(exc).__name__}: {exc}); data and keys still work",
                    severity="error",
                    timeout=10,
                )

        if self.heap.holding and self._start_up_over():
            self.heap.release()
        if self.control.running is None:  # a running plan manages the heap itself
            now = time.monotonic()
            self.heap.tick(now, now if self.input_waiting() else self.last_input())

    def _start_up_over(self) -> bool:
        """Every venue has given its full list once or is down, or start-up has taken
        :data:`START_UP_AT_MOST_S`."""
        store = self.state.store
        if time.time() - self.started_at() > START_UP_AT_MOST_S:
            return True
        return all(
            venue in store.listed or store.venue_health(venue).status is FeedStatus.DOWN
            for venue in self.state.clients
        )

    def _tick(self) -> None:
        app = self.app
        if not app.screen_stack or app.screen_stack[0] is not self.main:
            return  # starting up or shutting down
        now = self.clock()
        second_changed = int(now) != self._last_second
        self._last_second = int(now)
        store = self.state.store
        changes = store.drain()
        noted: dict[TargetPanel, tuple[list[tuple[str, str]], list[tuple[str, str]]]] = {}
        for key in changes.changed:  # one call a panel, not one a key (10,000 a second)
            panel = self.panel_of_venue.get(key[0]) or self._adopt_venue(key)
            if panel is not None:
                noted.setdefault(panel, ([], []))[0].append(key)
        for key in changes.removed:
            panel = self.panel_of_venue.get(key[0])
            if panel is not None:
                noted.setdefault(panel, ([], []))[1].append(key)
        for panel, (changed, removed) in noted.items():
            panel.note_changes(changed, removed)
        if changes.changed or changes.removed:
            self.main.refresh_overview()
        if self.arm.expire(now):
            app.refresh_bindings()
            app.notify("Arm expired: read-only again.", severity="warning")
        modal_open = len(app.screen_stack) > 1
        if not modal_open:
            self.main.active_panel.flush(now, second_changed=second_changed)
            self.controls.flush(now)
        if second_changed or changes.health or not modal_open:
            self.refresh_chrome(now)

    def _adopt_venue(self, key: tuple[str, str]) -> TargetPanel | None:
        """A venue whose api the TUI does not know: its first target tells its kind."""
        target = self.state.store.get(*key)
        if target is None:
            return None
        panel = self.panel_of_venue[key[0]] = self.panel_of_kind[target.kind]
        return panel

    def refresh_chrome(self, now: float) -> None:
        """The header, the engines' global block banner and the panels' tab labels."""
        running = self.control.running
        self.header.refresh_view(
            now,
            readonly=self.arm.readonly,
            armed_left=self.arm.left(now),
            arm_minutes=self.arm.minutes,
            running=f"RUNNING {running.done}/{len(running.plan)}" if running else "",
            automation=self.automation.header_text(),
        )
        store = self.state.store
        engines = self.panel_of_kind[TargetKind.ENGINE].venues
        block = find_block((t for v in engines for t in store.targets(v)), now, store.confirmed_at)
        stale_age = None
        if block is not None and store.is_stale(block.venue):
            stale_age = store.age(block.venue)
        self.main.query_one(GlobalBanner).show_block(block, stale_age=stale_age)
        for panel in self.panels:
            panel.refresh_tab_label()

    def restyle(self, theme: Theme) -> None:
        """A theme change restyles the rows: cell styles are built from the theme's
        colours (:class:`Tones`), which CSS does not reach."""
        tones = Tones.from_theme(self.app.theme_variables)
        for panel in self.panels:
            panel.tones = tones
            panel.rows.needs_rebuild = True  # every row redrawn with the new tones
        app = self.app
        if app.screen_stack and app.screen_stack[0] is self.main:
            self.main.active_panel.flush(self.clock(), second_changed=True)
