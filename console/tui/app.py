"""The console app: a state source on screen, redrawn on a steady tick, driven by keys.

The constructor takes a :class:`~console.core.ports.StateSource` (what the screen reads)
and a :class:`~console.core.ports.ControlPort` (what its keys ask for): the local
session and its ``control`` today, a desk service another day; tests hand in one built
on fakes or on the loopback simulator, or a fake port. Feeds write into the source's
store as fast as venues speak; every ``tick_s`` the app drains the keys that changed and
hands them to the panels, which redraw those rows only (and only when on screen).

The app is composed, not inherited: it builds three controllers and hands each its
dependencies (``controls``: a control key, its confirmation and dispatch; ``kill``: the
emergency stop, its report and sticky watch; ``audit``: the journal on screen). It keeps
what Textual needs on the app itself: the bindings (declared in ``keymap``), one thin
``action_*`` per key and the workers' state events, each handed to its controller.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.app import App, SystemCommand
from textual.binding import BindingType
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.theme import Theme
from textual.worker import Worker

from console.automation.alerts import Alerter
from console.automation.runner import AutomationRunner
from console.core.model import Target, TargetKind
from console.core.plan import Report
from console.core.ports import ControlPort, FeedStatus, StateSource
from console.tui.arming import ArmState
from console.tui.controllers.audit import AuditController
from console.tui.controllers.automation import AutomationController
from console.tui.controllers.control import ControlController
from console.tui.controllers.kill import WATCH_S, KillController
from console.tui.focus import KeyRoutes
from console.tui.format import Tones
from console.tui.heap import QuietCollector
from console.tui.keymap import (
    APP_BINDINGS,
    AUTOMATION_BINDINGS,
    KILL_BINDINGS,
    READONLY_BINDINGS,
    all_bindings,
    display_key,
    effective_keys,
    validate_keymap,
    with_readonly_twins,
)
from console.tui.palette import Command, ConsoleCommands, console_commands
from console.tui.panels import API_KINDS, PANELS, TargetPanel
from console.tui.screens.confirm import ConfirmScreen
from console.tui.screens.help import HelpScreen
from console.tui.screens.main import MainScreen, PanelShown
from console.tui.screens.target import TargetScreen
from console.tui.textual_compat import notifications
from console.tui.textual_compat.app_state import exiting, queued_input, shutting_down
from console.tui.themes import install_themes, theme_commands, theme_notice
from console.tui.widgets.banner import GlobalBanner, find_block
from console.tui.widgets.header import ConsoleHeader
from console.tui.widgets.outcomes import OutcomesView

log = logging.getLogger(__name__)
FIRST_PAINT_TICK_S = 0.05
MAX_TOASTS = 3
"""Notifications on screen at once (see :meth:`ConsoleApp.notify`)."""
START_UP_AT_MOST_S = 10.0
"""The garbage collector is held while the venues' first lists come in, at most this long."""


class ConsoleApp(App[None]):
    """k9s for trading kill switches: five venues, one keyboard, every action journaled."""

    CSS_PATH: ClassVar[str] = "app.tcss"
    TITLE = "trading-console"
    BINDINGS: ClassVar[list[BindingType]] = [
        *APP_BINDINGS,
        *READONLY_BINDINGS,
        *KILL_BINDINGS,
        *AUTOMATION_BINDINGS,
    ]
    COMMANDS = App.COMMANDS | {ConsoleCommands}
    # Notifications (docs/CONSOLE.md, "Keys and looks"): at the top right, below the
    # header, tabs and freshness line, over the table's right-hand (non-essential)
    # columns; never over the outcome log, where each action's results are written.
    CSS = """
    ToastRack {
        dock: top;
        align: right top;
        margin: 5 0 0 0;
    }
    Toast {
        width: 50;
        max-width: 45%;
        padding: 0 1;
    }
    """

    def __init__(
        self,
        state: StateSource,
        control: ControlPort,
        *,
        readonly: bool | None = None,
        clock: Callable[[], float] = time.time,
        tick_s: float = 0.25,
        start_feeds: bool = True,
        theme: str | None = None,
        keymap: Mapping[str, str] | None = None,
        startup_warnings: Sequence[str] = (),
        automation: AutomationRunner | None = None,
        alerter: Alerter | None = None,
        automation_problems: Sequence[str] = (),
    ) -> None:
        """``automation``: the profile's runner (as ``trading-console automate`` builds it),
        ticked while the console is open; ``alerter``: the profile's alerts (the kill's too;
        default: the runner's); ``automation_problems``: said at start (an alert URL
        reference that did not resolve)."""
        super().__init__()
        self.state = state
        self.control_port = control
        self.clock = clock
        self.tick_s = tick_s
        self.start_feeds = start_feeds
        options = state.options
        self.arm = ArmState(options.readonly if readonly is None else readonly, options.arm_minutes)
        self.keys, self._key_problems = validate_keymap(keymap or {}, all_bindings())
        self._startup_warnings = tuple(startup_warnings)
        self._theme_problems = install_themes(self, choice=theme)
        self.animation_level = "none"  # instant over SSH; nothing here needs to glide
        self.started_at = time.time()  # real time: journal stamps are real time too
        self._last_second = -1
        self._tick_failures = 0
        self.heap = QuietCollector()
        self.last_input = 0.0  # time.monotonic() of the last key or click
        self.key_routes = KeyRoutes()
        kinds = {c.name: API_KINDS.get(c.api) for c in state.clients.values()}
        self.panels: list[TargetPanel] = [
            cls(
                state.store,
                [v for v, k in kinds.items() if k is cls.KIND],
                session_started=self.started_at,
                clock=clock,
            )
            for cls in PANELS
        ]
        for number, panel in enumerate(self.panels, 1):
            panel.number = number
        self._panel_of_kind = {p.KIND: p for p in self.panels}
        self._panel_of_venue = {
            v: self._panel_of_kind[k] for v, k in kinds.items() if k is not None
        }
        self.confirm_screen = ConfirmScreen()
        self.header = ConsoleHeader(
            state.store,
            state.venues,
            label=options.label,
            profile=options.profile,
            colour=options.color,
        )
        self._main = MainScreen(self.header, self.panels)
        self._main.overview_from = options.overview_from
        self.audit = AuditController(self, state, control, clock=clock)
        self.controls = ControlController(
            self,
            state,
            control,
            arm=self.arm,
            clock=clock,
            keys=self.keys,
            confirm=self.confirm_screen,
            panel=lambda: self.active_panel,
            outcomes=lambda: self.main.query_one(OutcomesView),
        )
        self.automation = AutomationController(
            self,
            automation,
            alerter,
            operator=str(state.journal.operator),
            problems=automation_problems,
        )
        self.kill = KillController(
            self,
            state,
            control,
            arm=self.arm,
            clock=clock,
            remember=self.controls.remember,
            audit=self.audit.open,
            alerts=self.automation,
        )

    # ----- life cycle -----------------------------------------------------------------
    def get_default_screen(self) -> Screen[None]:
        return self._main

    @property
    def main(self) -> MainScreen:
        return self._main

    @property
    def active_panel(self) -> TargetPanel:
        return self.main.active_panel

    @property
    def last_report(self) -> Report | None:
        """The last plan's report, a key's or the kill's (``r`` retries what it failed)."""
        return self.controls.last_report

    def on_mount(self) -> None:
        self.install_screen(self.confirm_screen, "confirm")
        self.theme_changed_signal.subscribe(self, self._restyle)
        if self.keys:
            self.set_keymap(with_readonly_twins(self.keys))
        notice = theme_notice(self._theme_problems)
        if notice:
            self.notify(notice, title="Themes", severity="warning", timeout=15)
        if self._key_problems:
            self.notify(
                "; ".join(self._key_problems),
                title="Key remaps refused",
                severity="warning",
                timeout=15,
            )
        for warning in self._startup_warnings:
            self.notify(warning, title="Plain HTTP", severity="warning", timeout=30)
        if self.start_feeds:
            self.state.start_feeds()
        self.heap.install(time.monotonic())
        if self.start_feeds:
            self.heap.hold()  # until every venue has answered once: see _start_up_over
        self.set_interval(self.tick_s, self.tick, name="redraw")
        self._eager = self.set_interval(FIRST_PAINT_TICK_S, self._until_first_rows, name="first")
        self.call_after_refresh(self.tick)
        self.call_after_refresh(self.main.focus_active)
        self.set_interval(WATCH_S, self.kill.watch_tick, name="kill-watch")
        self.automation.start()
        self.audit.offer_verification(at_start=True)

    async def on_unmount(self) -> None:
        await self.automation.aclose()
        self.heap.uninstall()
        await self.state.aclose()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown):
            self.last_input = time.monotonic()
            via = "key" if isinstance(event, events.Key) else "mouse"
            self.automation.operator_input(via)  # the dead-man timer: the operator is here
        if isinstance(event, events.Key):
            self.key_routes.read(event, self.focused)
        await super().on_event(event)

    async def on_key(self, event: events.Key) -> None:
        # Before App's own: a key typed before focus moved goes where focus went.
        self.key_routes.misrouted(self, event)

    def input_waiting(self) -> bool:
        """A key or click queued for the app but not handled yet (it came in during this
        tick): the moment is not quiet, whatever ``last_input`` says."""
        return queued_input(self)

    # ----- the tick -------------------------------------------------------------------
    def _until_first_rows(self) -> None:
        """Tick fast until the panel on screen has rows: the first paint should not wait."""
        if exiting(self) or not self._main.is_attached:
            return  # shutting down: the panels may be gone already
        if self.active_panel.rows.shown or time.time() - self.started_at > 30:
            self._eager.stop()
        else:
            self.tick()

    def tick(self) -> None:
        """Drain the store and redraw what changed; a display bug never kills the console."""
        if exiting(self) or not self._main.is_attached:
            return  # shutting down (or not up yet): nothing left to draw on
        try:
            self._tick()
            self._tick_failures = 0
        except Exception as exc:
            if shutting_down(self):
                return  # widgets already going away at shutdown: nothing to draw on
            log.exception("redraw failed")
            self._tick_failures += 1
            if self._tick_failures in (1, 100):
                self.notify(
                    f"display error ({type(exc).__name__}: {exc}); data and keys still work",
                    severity="error",
                    timeout=10,
                )

        if self.heap.holding and self._start_up_over():
            self.heap.release()
        if self.control_port.running is None:  # a running plan manages the heap itself
            now = time.monotonic()
            self.heap.tick(now, now if self.input_waiting() else self.last_input)

    def _start_up_over(self) -> bool:
        """Every venue has given its full list once or is down, or start-up has taken
        :data:`START_UP_AT_MOST_S`."""
        store = self.state.store
        if time.time() - self.started_at > START_UP_AT_MOST_S:
            return True
        return all(
            venue in store.listed or store.venue_health(venue).status is FeedStatus.DOWN
            for venue in self.state.clients
        )

    def _tick(self) -> None:
        if not self.screen_stack or self.screen_stack[0] is not self._main:
            return  # starting up or shutting down
        now = self.clock()
        second_changed = int(now) != self._last_second
        self._last_second = int(now)
        store = self.state.store
        changes = store.drain()
        noted: dict[TargetPanel, tuple[list[tuple[str, str]], list[tuple[str, str]]]] = {}
        for key in changes.changed:  # one call a panel, not one a key (10,000 a second)
            panel = self._panel_of_venue.get(key[0]) or self._adopt_venue(key)
            if panel is not None:
                noted.setdefault(panel, ([], []))[0].append(key)
        for key in changes.removed:
            panel = self._panel_of_venue.get(key[0])
            if panel is not None:
                noted.setdefault(panel, ([], []))[1].append(key)
        for panel, (changed, removed) in noted.items():
            panel.note_changes(changed, removed)
        if changes.changed or changes.removed:
            self._main.refresh_overview()
        if self.arm.expire(now):
            self.refresh_bindings()
            self.notify("Arm expired: read-only again.", severity="warning")
        modal_open = len(self.screen_stack) > 1
        if not modal_open:
            self.active_panel.flush(now, second_changed=second_changed)
            self.controls.flush(now)
        if second_changed or changes.health or not modal_open:
            self._refresh_chrome(now)

    def _adopt_venue(self, key: tuple[str, str]) -> TargetPanel | None:
        """A venue whose api the TUI does not know: its first target tells its kind."""
        target = self.state.store.get(*key)
        if target is None:
            return None
        panel = self._panel_of_venue[key[0]] = self._panel_of_kind[target.kind]
        return panel

    def _refresh_chrome(self, now: float) -> None:
        running = self.control_port.running
        self.header.refresh_view(
            now,
            readonly=self.arm.readonly,
            armed_left=self.arm.left(now),
            arm_minutes=self.arm.minutes,
            running=f"RUNNING {running.done}/{len(running.plan)}" if running else "",
            automation=self.automation.header_text(),
        )
        store = self.state.store
        engines = self._panel_of_kind[TargetKind.ENGINE].venues
        block = find_block((t for v in engines for t in store.targets(v)), now)
        stale_age = None
        if block is not None and store.is_stale(block.venue):
            stale_age = store.age(block.venue)
        self.main.query_one(GlobalBanner).show_block(block, stale_age=stale_age)
        for panel in self.panels:
            panel.refresh_tab_label()

    def on_panel_shown(self, message: PanelShown) -> None:
        if message.panel.is_attached:  # not when the app is already taking the screen down
            message.panel.flush(self.clock(), second_changed=True)

    # ----- bindings -------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "command_palette" and len(self.screen_stack) > 1:
            return False  # nothing may act behind an open confirmation
        if action == "control":
            return self.controls.allowed(str(parameters[0]))
        if action == "readonly":  # the control key's stand-in while it is unbound
            return not self.arm.enabled(self.clock())
        if action == "arm":
            return self.arm.readonly
        if action == "automation_skip":  # never bound while read-only and not armed
            return self.automation.configured and self.arm.enabled(self.clock())
        return True

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.controls.worker_changed(event)
        self.kill.worker_changed(event)
        self.automation.worker_changed(event)

    # ----- capital keys: control and the kill (their controllers do the work) ----------
    def action_control(self, name: str) -> None:
        self.controls.key(name)

    def action_readonly(self, name: str) -> None:
        self.controls.refuse_readonly(name)

    def action_retry(self) -> None:
        self.controls.retry()

    def action_kill(self) -> None:
        self.kill.start()

    def action_kill_report(self) -> None:
        self.kill.report()

    def action_audit(self) -> None:
        self.audit.open(None)

    def action_automation(self) -> None:
        self.automation.open_screen()

    def action_automation_skip(self) -> None:
        self.automation.skip()

    # ----- lower-case keys ------------------------------------------------------------
    def action_arm(self) -> None:
        now = self.clock()
        if self.arm.left(now) is not None:
            self.arm.disarm()
            self.notify("Disarmed: read-only.")
        else:
            self.arm.arm(now)
            self.notify(
                f"ARMED for {self.arm.minutes:g} min: control keys are live.", severity="warning"
            )
        self.refresh_bindings()
        self._refresh_chrome(now)

    def action_details(self) -> None:
        """Enter: the detail screen of the row under the cursor."""
        panel = self.active_panel
        target = self._cursor_target()
        if target is None:
            self.notify("No row under the cursor: nothing to show.", severity="warning")
            return

        def summary(shown: Target) -> Text:
            return panel.detail(shown, panel.context(shown, self.clock()))

        self.push_screen(
            TargetScreen(
                target,
                self.state.store,
                self.state.journal,
                clock=self.clock,
                summary=summary,
                copy_id=self.copy_target_id,
            )
        )

    def action_copy_id(self) -> None:
        """y: the id of the row under the cursor to the clipboard (OSC 52)."""
        target = self._cursor_target()
        if target is None:
            self.notify("No row under the cursor: nothing copied.", severity="warning")
            return
        self.copy_target_id(target)

    def _cursor_target(self) -> Target | None:
        """The row under the cursor; a panel just switched to (``2`` then Enter typed in
        one burst) is drawn first, so the key finds the row the operator will see."""
        panel = self.active_panel
        target = panel.cursor_target()
        if target is None and panel.rows.dirty:
            panel.flush(self.clock(), second_changed=True)
            target = panel.cursor_target()
        return target

    def copy_target_id(self, target: Target) -> None:
        self.copy_to_clipboard(target.id)
        self.notify(
            Text(f"{target.venue} id of {target.name}: {target.id}").markup,
            title="Copied to the clipboard",
            timeout=4,
        )

    def action_help(self) -> None:
        self.push_screen(
            HelpScreen(
                self.keys,
                readonly=self.arm.readonly,
                arm_minutes=self.arm.minutes,
                automation=self.automation.configured,
            )
        )

    def action_filter(self) -> None:
        self.active_panel.open_filter()

    def action_sort(self) -> None:
        self.active_panel.cycle_sort()

    def action_reverse_sort(self) -> None:
        self.active_panel.cycle_sort(reverse_only=True)

    def action_select_all(self) -> None:
        self.active_panel.select_shown()

    def action_clear(self) -> None:
        self.active_panel.clear()

    def action_outcomes(self) -> None:
        self.main.query_one(OutcomesView).toggle_class("-tall")

    async def action_quit(self) -> None:
        """Quit, asking first while a plan runs or the sticky watch is on."""
        question = self.kill.quit_question()
        if question is None:
            self.exit()
            return

        def answer(leave: bool | None) -> None:
            if leave:
                self.exit()

        self.push_screen(question, answer)

    def palette_commands(self) -> list[Command]:
        return [*console_commands(self), *theme_commands(self)]

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Textual's generic palette entries, kept where they fit this console.

        Kept: Quit (q: asks first while a plan runs) and Screenshot (an SVG of the
        screen for an incident note). Left out: the generic theme picker (the console's
        own "Theme: …" commands list the themes made for its state colours), Textual's
        key panel (``?`` is the help here), and Maximize / Minimize (a maximized table
        hides the header's READ-ONLY / ARMED and the venues' health).
        """
        keys = effective_keys(self.keys)
        yield SystemCommand(
            "Quit",
            f"{display_key(keys['quit'])} · asks first if a plan is still running",
            self.action_quit,
        )
        yield SystemCommand(
            "Screenshot",
            "save an SVG picture of this screen in the current folder",
            self.action_save_screenshot,
        )

    def action_save_screenshot(self) -> None:
        try:
            path = self.save_screenshot()
        except OSError as error:
            self.notify(
                f"Screenshot not saved: {error}. Run the console from a folder you can write.",
                severity="error",
                timeout=10,
            )
            return
        self.notify(Text(path).markup, title="Screenshot saved")

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Textual's notify, with at most :data:`MAX_TOASTS` on screen: the oldest go first
        (errors last), so the newest is always in view and the stack stays clear of the
        outcome log."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)
        self.call_later(self._trim_notifications)  # after the Notify just posted

    def _trim_notifications(self) -> None:
        on_screen = notifications.shown(self)
        excess = len(on_screen) - MAX_TOASTS
        if excess <= 0:
            return
        order = sorted(on_screen, key=lambda n: (n.severity == "error", n.raised_at))
        notifications.withdraw(self, order[:excess])

    def _restyle(self, theme: Theme) -> None:
        """A theme change restyles the rows: cell styles are built from the theme's
        colours (:class:`Tones`), which CSS does not reach."""
        tones = Tones.from_theme(self.theme_variables)
        for panel in self.panels:
            panel.tones = tones
            panel.rows.needs_rebuild = True  # every row redrawn with the new tones
        self.main.query_one(OutcomesView).tones = tones
        if self.screen_stack and self.screen_stack[0] is self._main:
            self.active_panel.flush(self.clock(), second_changed=True)
