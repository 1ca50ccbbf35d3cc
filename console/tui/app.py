"""The console app: a state source on screen, redrawn on a steady tick, driven by keys.

The constructor takes a :class:`~console.core.ports.StateSource` (what the screen reads)
and a :class:`~console.core.ports.ControlPort` (what its keys ask for): the local
session and its ``control`` today, a desk service another day; tests hand in one built
on fakes or on the loopback simulator, or a fake port. Feeds write into the source's
store as fast as venues speak; every ``tick_s`` the keys that changed are drained and
handed to the panels, which redraw those rows only (and only when on screen).

The app is composed, not inherited: it builds its controllers and hands each its
dependencies (``redraw``: the tick and the first paint; ``controls``: a control key, its
confirmation and dispatch; ``kill``: the emergency stop, its report and sticky watch;
``audit``: the journal on screen; ``automation``; ``rows``: the row under the cursor;
``notices``: the start-up warnings and the toast stack). It keeps what Textual needs on
the app itself: the bindings (declared in ``keymap``), one thin ``action_*`` per key and
the workers' state events, each handed to its controller.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import ClassVar

from textual import events
from textual.app import App, SystemCommand
from textual.binding import BindingType
from textual.driver import Driver
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.worker import Worker

from console.automation.alerts import Alerter
from console.automation.runner import AutomationRunner
from console.core.input_first import INPUT_FIRST
from console.core.plan import Report
from console.core.ports import ControlPort, StateSource
from console.tui.arming import ArmState
from console.tui.controllers.audit import AuditController
from console.tui.controllers.automation import AutomationController
from console.tui.controllers.control import ControlController
from console.tui.controllers.hangup import HangupController
from console.tui.controllers.kill import WATCH_S, KillController
from console.tui.controllers.notices import NoticeController
from console.tui.controllers.redraw import RedrawController, build_panels
from console.tui.controllers.rows import RowController
from console.tui.focus import KeyRoutes
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
from console.tui.panels import TargetPanel
from console.tui.screens.confirm import ConfirmScreen
from console.tui.screens.help import HelpScreen
from console.tui.screens.main import MainScreen, PanelShown
from console.tui.system_commands import save_screenshot, system_commands
from console.tui.textual_compat.app_state import queued_input
from console.tui.textual_compat.events import propagation_stopped
from console.tui.textual_compat.terminal_driver import driver_class
from console.tui.themes import install_themes, theme_commands
from console.tui.widgets.header import ConsoleHeader
from console.tui.widgets.outcomes import OutcomesView


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
        self.keys, key_problems = validate_keymap(keymap or {}, all_bindings())
        self.notices = NoticeController(
            self,
            theme_problems=install_themes(self, choice=theme),
            key_problems=key_problems,
            startup_warnings=startup_warnings,
        )
        self.animation_level = "none"  # instant over SSH; nothing here needs to glide
        self.started_at = time.time()  # real time: journal stamps are real time too
        self.heap = QuietCollector()
        self.last_input = 0.0  # time.monotonic() of the last key or click
        self.key_routes = KeyRoutes()
        self.panels = build_panels(state, started_at=self.started_at, clock=clock)
        self.confirm_screen = ConfirmScreen()
        self.header = ConsoleHeader(
            state.store,
            state.venues,
            label=options.label,
            profile=options.profile,
            colour=options.color,
        )
        self._main = MainScreen(self.header, self.panels, kill_offered=lambda: self.kill.offered)
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
            report_key=display_key(effective_keys(self.keys)["kill_report"]),
            journal_key=display_key(effective_keys(self.keys)["audit"]),
        )
        self.hangup = HangupController(self, state, control, self.kill)
        self.rows = RowController(self, state, clock=clock, panel=lambda: self.active_panel)
        self.redraw = RedrawController(
            self,
            state,
            control,
            clock=clock,
            arm=self.arm,
            main=self._main,
            header=self.header,
            panels=self.panels,
            controls=self.controls,
            automation=self.automation,
            heap=self.heap,
            started_at=lambda: self.started_at,
            last_input=lambda: self.last_input,
            input_waiting=self.input_waiting,
        )

    # ----- life cycle -----------------------------------------------------------------
    def get_driver_class(self) -> type[Driver]:
        """Textual's driver; the terminal's never makes the loop wait for it, and outlives
        a hang-up (``textual_compat/terminal_driver.py``)."""
        return driver_class(super().get_driver_class())

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
        self.theme_changed_signal.subscribe(self, self.redraw.restyle)
        if self.keys:
            self.set_keymap(with_readonly_twins(self.keys))
        self.notices.say_at_start()
        if self.start_feeds:
            self.state.start_feeds()
        self.heap.install(time.monotonic())
        if self.start_feeds:
            self.heap.hold()  # until every venue has answered once: see RedrawController
        self.redraw.start(self.tick_s)
        self.call_after_refresh(self.main.focus_active)
        self.set_interval(WATCH_S, self.kill.watch_tick, name="kill-watch")
        self.automation.start()
        self.audit.offer_verification(at_start=True)
        self.hangup.install()

    async def on_unmount(self) -> None:
        self.hangup.remove()
        INPUT_FIRST.release()
        await self.automation.aclose()
        self.heap.uninstall()
        await self.state.aclose()

    def post_message(self, message: Message) -> bool:
        # A key holds the feeds from the moment it reaches the loop, not only once the
        # app's queue gets to it: feed work queued meanwhile (a poll's 6,000-target list)
        # would otherwise run first, 10-25 ms (issue 13). Posted from another thread (no
        # running loop there), it holds when handled (on_event).
        if isinstance(message, events.Key) and self.control_port.running is None:
            with contextlib.suppress(RuntimeError):
                INPUT_FIRST.hold()
        return super().post_message(message)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown):
            self.last_input = time.monotonic()
            via = "key" if isinstance(event, events.Key) else "mouse"
            self.automation.operator_input(via)  # the dead-man timer: the operator is here
        if isinstance(event, events.Key):
            self.key_routes.read(event, self.focused)
            home = event.is_forwarded  # it went to a widget and came back up to the app
            hold = INPUT_FIRST.generation  # while a plan runs: released at once (if held)
            if self.control_port.running is None:  # a plan's reads never wait for the screen
                hold = INPUT_FIRST.hold()  # the feeds wait until the key's answer is painted
            try:
                await super().on_event(event)
            finally:
                self._release_when_answered(event, hold, home)
            return
        await super().on_event(event)

    def _release_when_answered(self, key: events.Key, hold: int, home: bool) -> None:
        """Release ``key``'s hold once its answer is painted: after the next refresh of the
        widget it went to (else of the screen on top: one it opened posted its resume
        first), unless it is still on its way back up to the app (not stopped by a
        handler), which then holds again and releases this way. Released on the app's next
        refresh instead, the feeds ran while a key was on its way or a modal was built
        (measured: 23 ms of feed work before a key came back up to the app)."""

        def answered() -> None:
            if INPUT_FIRST.generation != hold or not INPUT_FIRST.held:
                return  # a newer key (or this one, back up) holds now; or nothing is held
            if key.is_forwarded and not home and not propagation_stopped(key):
                # Still on its way: a key a widget's handler did not stop comes back up
                # to the app (Textual checks the bindings there). One dropped on the way
                # (its widget removed) is released when the hold runs out.
                self.call_after_refresh(answered)
                return
            INPUT_FIRST.release(hold)

        (self.focused or self.screen).call_after_refresh(answered)

    async def on_key(self, event: events.Key) -> None:
        # Before App's own: a key typed before focus moved goes where focus went.
        self.key_routes.misrouted(self, event)

    def input_waiting(self) -> bool:
        """A key or click queued for the app but not handled yet (it came in during this
        tick): the moment is not quiet, whatever ``last_input`` says."""
        return queued_input(self)

    # ----- the tick (the redraw controller does the work) -------------------------------
    def tick(self) -> None:
        """Drain the store and redraw what changed; a display bug never kills the console."""
        self.redraw.tick()

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
        self.redraw.refresh_chrome(now)

    def action_details(self) -> None:
        self.rows.details()

    def action_copy_id(self) -> None:
        self.rows.copy_id()

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
        """Textual's generic palette entries, kept where they fit (see ``system_commands``)."""
        return system_commands(
            self.keys, quit=self.action_quit, screenshot=self.action_save_screenshot
        )

    def action_save_screenshot(self) -> None:
        save_screenshot(self)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Textual's notify, with at most :data:`~console.tui.controllers.notices.MAX_TOASTS`
        on screen (:meth:`NoticeController.trim`)."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)
        self.call_later(self.notices.trim)  # after the Notify just posted
