"""Everything of the emergency stop on screen: modal, sending, report, sticky watch.

The app binds ``K``, ``w`` (and the timer of the watch) to this controller. ``K`` is a
*priority* binding so it works on every screen, modals included (help, audit, the kill
report); Textual still lets a focused text box take the letter, so typing a capital K
in a filter never opens the kill. In read-only mode it is refused, with the reason,
until the operator arms. A second ``K`` while a kill runs sends nothing and says so.
The kill runs in its own worker group (``kill``), not the ``dispatch`` group of single
actions: an exclusive worker cancels its group's running worker, and no other plan may
ever cancel a running kill; the dispatcher's busy lock prevents a second dispatch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.actions import SkipAction
from textual.app import App
from textual.css.query import NoMatches
from textual.screen import ModalScreen
from textual.worker import Worker, WorkerState

from console.core.dispatcher import DispatchBusy
from console.core.kill import KillPlan, KillScope
from console.core.kill_lock import KillLock, KillLocked
from console.core.last_kill import last_kill
from console.core.plan import ItemResult, Plan, Report
from console.core.ports import ControlPort, StateSource
from console.core.scrub import printable
from console.tui.arming import ArmState
from console.tui.format import one_line
from console.tui.kill.eta import control_rate
from console.tui.kill.kill_modal import KillRequest, KillScreen, KillView, describe_state
from console.tui.kill.progress import KillProgressScreen
from console.tui.kill.recheck import FeedRecovery
from console.tui.kill.run import Key, KillRun
from console.tui.kill.scope import panel_scope, scope_choices
from console.tui.kill.watch import WatchKeeper
from console.tui.screens.quit import QuitScreen
from console.tui.widgets.outcomes import OutcomesView

if TYPE_CHECKING:
    from console.tui.controllers.automation import AutomationController

WATCH_S = 0.5
"""How often the sticky watch looks at the store (it reads memory, never the network)."""
WAIT_S = 0.05
"""How often a confirmed kill checks whether another plan has left the dispatcher."""
KILL_GROUPS = ("kill", "kill-restop", "kill-recheck")


class KillController:
    """Kill modal, progress and report, sticky watch, re-verification of venues back.

    ``remember`` keeps the kill's merged report as the app's last report (``r`` retries
    it); ``audit`` opens the audit screen of a batch (the report's ``u``); ``alerts``
    sends the kill's alerts (started, its report, a revival) through the profile's
    alerter, in the background: a kill never waits for an alert.
    """

    def __init__(
        self,
        app: App[None],
        state: StateSource,
        control: ControlPort,
        *,
        arm: ArmState,
        clock: Callable[[], float],
        remember: Callable[[Report], None],
        audit: Callable[[str | None], None],
        alerts: AutomationController | None = None,
        report_key: str = "w",
        journal_key: str = "u",
    ) -> None:
        self.app = app
        self.w = report_key
        """The key that opens the kill's report (``w`` unless the profile remaps it)."""
        self.u = journal_key
        """The key that opens the journal (``u`` unless the profile remaps it)."""
        self.state = state
        self.control = control
        self.arm = arm
        self.clock = clock
        self.remember = remember
        self.audit = audit
        self.alerts = alerts
        self.run: KillRun | None = None
        self.watch: WatchKeeper | None = None
        self._earlier_watched: frozenset[tuple[str, str]] = frozenset()
        self.feeds = FeedRecovery()
        self._lock: KillLock | None = None
        self._rechecking: set[str] = set()
        self._came_back: set[str] = set()

    # ----- K ----------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        run = self.run
        return run is not None and (run.running or bool(run.waiting_for))

    @property
    def offered(self) -> bool:
        """May the emergency stop run now (armed, or a profile that is not read-only)?
        The footer shows ``K`` and the palette names the stop only then."""
        return self.arm.enabled(self.clock())

    def start(self) -> None:
        """K: the kill modal on the plan frozen now (or why not)."""
        app = self.app
        if isinstance(app.screen, KillScreen):
            # Open already (its plan frozen): the key is part of the label being typed, so
            # let it through to the modal, which puts it in the label box.
            raise SkipAction()
        if not self.offered:
            app.bell()
            app.notify(
                "Read-only: the emergency stop is refused until you arm (a), then K.",
                severity="warning",
            )
            return
        run = self.run
        if run is not None and self.active:
            done, size = run.progress()
            app.notify(
                f"A kill is already running ({done}/{size} answered): nothing more was "
                f"sent. {self.w} shows its progress.",
                severity="warning",
            )
            return
        scope = panel_scope(app.screen_stack[0])
        self._close_overlays()
        choices = scope_choices(self.state.clients, *scope)
        control = self.control

        def frozen(kill_scope: KillScope, clear: bool) -> KillPlan:
            return control.plan_kill(kill_scope, clear_leaves_behind=clear)

        clear = self.state.options.kill_clear_leaves_behind
        store = self.state.store

        def heard_from(venue: str) -> bool:
            return store.age(venue) is not None

        modal = KillScreen(self.view(), choices, frozen, clear_leaves_behind=clear,
                           heard_from=heard_from)  # fmt: skip
        app.push_screen(modal, self._confirmed)

    def view(self) -> KillView:
        return describe_state(self.state)

    def _close_overlays(self) -> None:
        """Close what is open over the panels: the kill modal must not hide behind them."""
        app = self.app
        while len(app.screen_stack) > 1:
            top = app.screen
            if isinstance(top, ModalScreen):
                top.dismiss(None)
            else:
                app.pop_screen()

    def _confirmed(self, request: KillRequest | None) -> None:
        app = self.app
        if request is None:
            self.note("Emergency stop cancelled: nothing was sent.")
            return
        if not self.arm.enabled(self.clock()):
            app.notify(
                "The arm ran out while the kill modal was open: nothing was sent. Arm "
                "(a), then K again.",
                severity="error",
                timeout=15,
            )
            return
        if self.active:
            app.notify("A kill is already running: nothing more was sent.", severity="warning")
            return
        if not self._take_lock():
            return
        state = self.state
        rates = {v: control_rate(c) for v, c in state.clients.items()}
        run = KillRun(
            request.kill,
            state.options.label,
            request.clear_leaves_behind,
            self.clock,
            rates,
            state.venues,
            refused=self.control.refused_now,
        )
        self.run = run
        # An earlier kill's watch still on: its targets stay watched by this kill's (they
        # are halted, so this plan does not hold them; a revival of one went unflagged).
        earlier = self.watch
        self._earlier_watched = (
            earlier.watch.keys if earlier is not None and earlier.active else frozenset()
        )
        self.watch = None
        self._journal_state(run)
        run.begin(run.kill.plan)
        self.show_progress()
        self._status(f"EMERGENCY STOP of {len(run.kill.plan)} targets — {self.w} shows its "
                     "progress", running=True, attention=True)  # fmt: skip
        self._send(run, run.kill.plan)
        if self.alerts is not None:
            self.alerts.kill_started(run.kill.plan.title, len(run.kill.plan), self.clock())

    # ----- sending ----------------------------------------------------------------------
    def _send(self, run: KillRun, plan: Plan) -> Worker[None]:
        return self._worker(partial(self._sending, run, plan), "_send", "kill")

    def _worker(
        self,
        job: Callable[[], Coroutine[Any, Any, None]],
        name: str,
        group: str,
        *,
        exclusive: bool = True,
    ) -> Worker[None]:
        """A worker of the app in one of :data:`KILL_GROUPS` (its errors come back to
        :meth:`worker_changed`)."""
        return self.app.run_worker(
            job, name=name, group=group, exclusive=exclusive, exit_on_error=False
        )

    async def _sending(self, run: KillRun, plan: Plan) -> None:
        """Send ``plan`` (the kill or its retry) once the dispatcher is free; never twice."""
        control = self.control
        run.begin(plan)
        while True:
            other = control.running
            if other is not None:
                run.waiting_for = other.plan.title
                await asyncio.sleep(WAIT_S)  # the dispatcher has no "free" event to await
                continue
            run.begin(plan)
            try:
                batch = run.batch_ids[0] if run.reports else None  # retries join the kill
                report = await control.dispatch(plan, run.on_result, batch_id=batch)
            except DispatchBusy:
                continue
            break
        rearm = run.finish(report)
        self._after_pass(run, report, rearm)

    def _after_pass(self, run: KillRun, report: Report, rearm: list[Key]) -> None:
        app = self.app
        self._release_lock()
        self._journal_state(run)
        merged = run.merged()
        self.remember(merged)
        if self.alerts is not None:
            self.alerts.kill_report(run.kill, merged, self.clock())
        summary = run.summary()
        self.note(f"EMERGENCY STOP: {summary} (batch {report.batch_id[:8]}; {self.w} shows "
                  "the report)")  # fmt: skip
        self._status(f"EMERGENCY STOP: {summary} — {self.w} shows the report",
                     running=False, attention=not run.all_halted)  # fmt: skip
        if run.all_halted:
            app.notify(f"EMERGENCY STOP: {summary}", timeout=10)
        else:  # r retries only what failed, is uncertain or did not verify
            retry = "; r there retries it" if run.retry_plan() is not None else ""
            app.notify(
                f"EMERGENCY STOP: {summary}. The report ({self.w}) says what is not verified "
                f"halted and why{retry}.",
                severity="error",
                timeout=30,
            )
        options = self.state.options
        if self.watch is None:
            self.watch = WatchKeeper(
                run,
                self.state.store,
                minutes=options.watch_minutes,
                auto_restop=options.auto_restop,
                clock=self.clock,
            )
            self.watch.watch.keys |= self._earlier_watched
        else:
            self.watch.include_verified(rearm)
        self._refresh_progress()

    def _refresh_progress(self) -> None:
        screen = self.app.screen
        if isinstance(screen, KillProgressScreen) and screen.is_mounted:
            screen.refresh_view()  # DONE at once, not on the view's next refresh (a view
            # not mounted yet draws everything when it is)

    def _retry(self, plan: Plan) -> None:
        run = self.run
        if run is None or self.active:
            self.app.notify("A kill is already running: nothing more was sent.", severity="warning")
            return
        if not self._take_lock():
            return
        self._send(run, plan)

    def _journal_state(self, run: KillRun) -> None:
        """What the report says of the record: JOURNAL FAILED and where, or the receipt."""
        failure = self.control.journal_failure()
        if failure:
            run.journal_failed = failure
            return
        head = self.control.chain_head()
        if head is not None:
            run.chain_head = head

    def _take_lock(self) -> bool:
        """One kill per profile across processes: refuse (nothing sent) if another holds it."""
        lock = self._lock = self.control.kill_lock()
        if lock is None:
            return True
        try:
            lock.acquire()
        except KillLocked as exc:
            self.app.notify(f"EMERGENCY STOP refused: {exc}", severity="error", timeout=30)
            self.note(f"EMERGENCY STOP refused: {exc}")
            self.app.bell()
            return False
        except OSError as exc:  # the lock file cannot be made: never block a kill for it
            self.note(f"The kill lock could not be taken ({exc}); sending anyway.")
        return True

    def _release_lock(self) -> None:
        lock, self._lock = self._lock, None
        if lock is not None:
            lock.release()

    def worker_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group not in KILL_GROUPS or event.state is not WorkerState.ERROR:
            return
        error = event.worker.error
        run = self.run
        if event.worker.group == "kill-recheck":
            self.app.notify(
                "The automatic re-verification of a venue that came back stopped with an "
                f"internal error ({type(error).__name__}: {error}); nothing was sent. r in the report "
                f"({self.w}) retries what is still not verified.",
                severity="error",
                timeout=30,
            )
            return
        if event.worker.group == "kill":
            self._release_lock()
        if run is not None and event.worker.group == "kill":
            run.error = f"internal error ({type(error).__name__}: {error})"
            run.finish(None)
        self.app.notify(
            f"The emergency stop stopped with an internal error ({type(error).__name__}: "
            f"{error}). Check the journal (u) for what was sent.",
            severity="error",
            timeout=30,
        )

    # ----- the sticky watch ---------------------------------------------------------------
    def watch_tick(self) -> None:
        self._recheck_recovered()
        keeper = self.watch
        if keeper is None or not keeper.active:
            return
        auto = keeper.watch.auto_restop
        revivals = keeper.check()
        if revivals and isinstance(self.app.screen, KillProgressScreen):
            self.app.screen.refresh_view()
        for revival in revivals:
            target = revival.target
            if self.alerts is not None:
                self.alerts.revived(target.venue, target.name, self.clock())
            self.app.bell()
            # The report's keys, not K: K would plan a whole new emergency stop, while r in
            # the report re-stops exactly what revived, in the kill's own batch.
            then = (
                f"re-stopping it (auto re-stop is on); {self.w} shows the report"
                if auto
                else f"{self.w} opens the report, r there stops it again (y sends; journaled "
                "in the kill's batch)"
            )
            self.app.notify(
                f"REVIVED: {target.venue}/{printable(target.name)} is RUNNING again after the "
                f"emergency stop — {then}.",
                severity="error",
                timeout=30,
            )
        if keeper.pending and not self.control.busy and not self.active:
            plan = keeper.restop_plan(self.state.clients)
            if plan is not None:
                self._worker(partial(self._restop, keeper, plan), "_restop", "kill-restop")

    async def _restop(self, keeper: WatchKeeper, plan: Plan) -> None:
        try:
            batch = keeper.run.batch_ids[0] if keeper.run.reports else None
            report = await self.control.dispatch(plan, batch_id=batch)  # the kill's batch
        except DispatchBusy:
            keeper.pending.extend(
                r
                for r in keeper.run.revivals
                if r.target.key in {(i.venue, i.target_id) for i in plan.items}
            )
            return
        keeper.restopped(report)

    # ----- re-verification when a venue comes back -----------------------------------------
    def _recheck_recovered(self) -> None:
        """Re-read a venue whose feed came back, for the kill's targets there still in doubt.

        Only while the report or the sticky watch is open, never while a pass runs (its
        own re-read decides then); a read only, journaled as verification rows.
        """
        back = self.feeds.recovered(self.state.store, self.state.venues)
        run = self.run
        if run is None:
            return
        self._came_back.update(v for v in back if any(i.venue == v for i in run.kill.plan.items))
        if not self._came_back or self.active:
            return  # a pass still running re-reads by itself; look again once it ends
        came_back, self._came_back = sorted(self._came_back), set()
        keeper = self.watch
        watching = keeper is not None and keeper.active
        stack = self.app.screen_stack
        if not watching and not any(isinstance(s, KillProgressScreen) for s in stack):
            return
        for venue in came_back:
            doubtful = run.doubtful(venue)
            if doubtful and venue not in self._rechecking:
                self._rechecking.add(venue)
                job = partial(self._recheck, run, venue, doubtful)
                self._worker(job, "_recheck", "kill-recheck", exclusive=False)

    async def _recheck(self, run: KillRun, venue: str, doubtful: list[ItemResult]) -> None:
        try:
            found = await self.control.reverify(venue, doubtful, run.batch_ids, at=self.clock())
        finally:
            self._rechecking.discard(venue)
        run.recheck(found, doubtful)
        if found.problem and not found.results:
            self.note(f"{venue} came back but could not be re-read: {one_line(found.problem)}")
            return
        left = len(found.results) - found.verified
        text = (
            f"{venue} came back: re-read {len(found.results)} target(s) of the emergency stop, "
            f"{found.verified} now verified halted (journaled; nothing was re-sent)"
        )
        if left:
            text += f"; {left} still NOT verified: r in the report ({self.w}) retries them"
        self.note(text)
        self.app.notify(text, severity="warning" if left else "information", timeout=15)
        self.remember(run.merged())
        if self.watch is not None:
            self.watch.include_verified()
        self._refresh_progress()

    # ----- quitting ----------------------------------------------------------------------
    def quit_question(self) -> QuitScreen | None:
        """The question to ask before quitting, or None to quit at once.

        A plan still running (its calls would be cut short), or the sticky watch still
        on (quitting ends it silently: nothing would catch a revival).
        """
        running = self.control.running
        keeper = self.watch
        watched = len(keeper.watch.keys) if keeper is not None else 0
        on = keeper is not None and keeper.active and watched > 0  # a watch of nothing: none
        left = keeper.remaining_s() if keeper is not None and on else None
        if running is None and left is None:
            return None
        plan = f"{running.plan.title} ({running.done}/{len(running.plan)})" if running else None
        return QuitScreen(plan, watch_left_s=left, watched=watched)

    # ----- the report ---------------------------------------------------------------------
    def show_progress(self) -> None:
        run = self.run
        if run is None or isinstance(self.app.screen, KillProgressScreen):
            return
        self.app.push_screen(
            KillProgressScreen(
                run,
                self.view(),
                retry=self._retry,
                audit=self.audit,
                watch_left=self._watch_left,
                auto_restop=self.state.options.auto_restop,
            ),
            self._closed_while_running,
        )

    def _closed_while_running(self, _: object = None) -> None:
        """The report closed while the kill still runs: say where it went (the header's
        ``RUNNING n/N`` alone did not tell a new operator how to bring it back)."""
        if self.active:
            text = f"The emergency stop goes on: {self.w} shows its progress and report."
            self.note(text)
            self.app.notify(text, timeout=8)

    def _watch_left(self) -> float | None:
        keeper = self.watch
        return keeper.remaining_s() if keeper is not None and keeper.active else None

    def report(self) -> None:
        """w: the last kill's report, or why there is none — and, when another console
        ran the profile's last kill (a desk), what the journal says of it."""
        if self.run is None:
            try:
                record = last_kill(self.state.journal)
            except Exception as exc:  # (the journal's own failure is said where it fails)
                record, why = None, f" (the journal could not be read: {one_line(str(exc), 120)})"
            else:
                why = ""
            if record is None:
                self.app.notify(f"No emergency stop from this console yet{why}. {self.u} opens "
                                "the journal: every call on this profile.", timeout=8)  # fmt: skip
                return
            self.app.notify(f"No emergency stop from this console yet. The last on this "
                            f"profile, from the journal: {printable(record.words())}. "
                            f"{self.u} opens the journal.", title="Last emergency stop",
                            timeout=20)  # fmt: skip
            return
        self.show_progress()

    def _outcomes(self) -> OutcomesView | None:
        """The main screen's outcome strip (None before it is mounted)."""
        try:
            return self.app.screen_stack[0].query_one(OutcomesView)
        except NoMatches:
            return None

    def _status(self, words: str, *, running: bool, attention: bool) -> None:
        """The main screen's line above the outcome log, for this kill."""
        outcomes = self._outcomes()
        if outcomes is not None:
            outcomes.show_kill(words, running=running, attention=attention)

    def note(self, text: str) -> None:
        """A line in the main screen's outcome log, beside the other plans' outcomes."""
        outcomes = self._outcomes()
        if outcomes is not None:
            outcomes.note(text)
