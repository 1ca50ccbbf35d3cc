"""Everything of the emergency stop and the audit trail, as one mixin for the app.

``class ConsoleApp(KillMixin, ..., App[None])`` and :data:`KILL_BINDINGS` in its bindings
are the whole integration: Textual dispatches ``on_mount`` and ``on_worker_state_changed``
to every class in the app's MRO, so the mixin starts its own sticky-watch timer and
offers recovery of interrupted calls without the app calling it.

``K`` is a *priority* binding so it works on every screen, modals included (help, audit,
the kill report); Textual still lets a focused text box take the letter, so typing a
capital K in a filter never opens the kill. In read-only mode it is refused, with the
reason, until the operator arms. A second ``K`` while a kill runs sends nothing and
says so. The kill runs in its own worker group (``kill``), not the app's ``dispatch``
group: an exclusive worker cancels its group's running worker, and no other plan may
ever cancel a running kill; the dispatcher's busy lock is what prevents a second dispatch.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from textual import work
from textual.actions import SkipAction
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.screen import ModalScreen
from textual.worker import Worker, WorkerState

from console.core.dispatcher import DispatchBusy, ItemResult, Plan, Report
from console.core.kill import KillPlan, KillScope
from console.core.kill_lock import KillLock, KillLocked, kill_lock_for
from console.core.reverify import latest_intents, reverify
from console.core.scrub import printable
from console.core.session import Session
from console.tui.arming import ArmState
from console.tui.format import one_line
from console.tui.kill.eta import control_rate
from console.tui.kill.journal_mixin import JournalMixin
from console.tui.kill.kill_modal import KillRequest, KillScreen, KillView, describe_session
from console.tui.kill.progress import KillProgressScreen
from console.tui.kill.recheck import FeedRecovery
from console.tui.kill.run import Key, KillRun
from console.tui.kill.scope import freeze, panel_scope, scope_choices
from console.tui.kill.watch import WatchKeeper
from console.tui.modals.quit import QuitScreen
from console.tui.outcomes import OutcomesView

WATCH_S = 0.5
"""How often the sticky watch looks at the store (it reads memory, never the network)."""
WAIT_S = 0.05
"""How often a confirmed kill checks whether another plan has left the dispatcher."""
KILL_GROUPS = ("kill", "kill-restop", "kill-recheck")

KILL_BINDINGS: list[Binding] = [
    Binding("K", "kill", "EMERGENCY STOP", id="kill", priority=True, show=False),
    Binding("u", "audit", "Journal (audit)", id="audit", show=False),
    Binding("w", "kill_report", "Last kill report", id="kill_report", show=False),
]


class KillMixin(JournalMixin):
    """Kill modal, progress and report, sticky watch, audit screen, interrupted calls."""

    session: Session
    clock: Callable[[], float]
    arm: ArmState
    last_report: Report | None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kill_run: KillRun | None = None
        self.kill_watch: WatchKeeper | None = None
        self._kill_lock: KillLock | None = None
        self.kill_feeds = FeedRecovery()
        self._rechecking: set[str] = set()
        self._came_back: set[str] = set()

    def on_mount(self) -> None:
        self.set_interval(WATCH_S, self.watch_tick, name="kill-watch")
        self.offer_verification(at_start=True)

    # ----- K ----------------------------------------------------------------------------
    @property
    def kill_active(self) -> bool:
        run = self.kill_run
        return run is not None and (run.running or bool(run.waiting_for))

    def action_kill(self) -> None:
        if isinstance(self.screen, KillScreen):
            # Open already (its plan frozen): the key is part of the label being typed, so
            # let it through to the modal, which puts it in the label box.
            raise SkipAction()
        if not self.arm.enabled(self.clock()):
            self.bell()
            self.notify(
                "Read-only: the emergency stop is refused until you arm (a), then K.",
                severity="warning",
            )
            return
        run = self.kill_run
        if run is not None and self.kill_active:
            done, size = run.progress()
            self.notify(
                f"A kill is already running ({done}/{size} answered): nothing more was "
                "sent. w shows its progress.",
                severity="warning",
            )
            return
        scope = panel_scope(self.screen_stack[0])
        self._close_overlays()
        session = self.session
        choices = scope_choices(session.clients, *scope)

        def frozen(kill_scope: KillScope, close: bool) -> KillPlan:
            return freeze(session, kill_scope, close_positions=close)

        modal = KillScreen(
            self.kill_view(), choices, frozen, close_positions=session.options.kill_close_positions
        )
        self.push_screen(modal, self._kill_confirmed)

    def kill_view(self) -> KillView:
        return describe_session(self.session)

    def _close_overlays(self) -> None:
        """Close what is open over the panels: the kill modal must not hide behind them."""
        while len(self.screen_stack) > 1:
            top = self.screen
            if isinstance(top, ModalScreen):
                top.dismiss(None)
            else:
                self.pop_screen()

    def _kill_confirmed(self, request: KillRequest | None) -> None:
        if request is None:
            self._note("Emergency stop cancelled: nothing was sent.")
            return
        if not self.arm.enabled(self.clock()):
            self.notify(
                "The arm ran out while the kill modal was open: nothing was sent. Arm "
                "(a), then K again.",
                severity="error",
                timeout=15,
            )
            return
        if self.kill_active:
            self.notify("A kill is already running: nothing more was sent.", severity="warning")
            return
        if not self._take_kill_lock():
            return
        rates = {v: control_rate(c) for v, c in self.session.clients.items()}
        run = KillRun(
            request.kill,
            self.session.options.label,
            request.close_positions,
            self.clock,
            rates,
            self.session.venues,
        )
        self.kill_run = run
        self.kill_watch = None
        self._journal_state(run)
        run.begin(run.kill.plan)
        self.show_kill_progress()
        self._send(run, run.kill.plan)

    # ----- sending ----------------------------------------------------------------------
    @work(group="kill", exclusive=True, exit_on_error=False)
    async def _send(self, run: KillRun, plan: Plan) -> None:
        """Send ``plan`` (the kill or its retry) once the dispatcher is free; never twice."""
        dispatcher = self.session.dispatcher
        run.begin(plan)
        while True:
            other = dispatcher.running
            if other is not None:
                run.waiting_for = other.plan.title
                await asyncio.sleep(WAIT_S)  # the dispatcher has no "free" event to await
                continue
            run.begin(plan)
            try:
                batch = run.batch_ids[0] if run.reports else None  # retries join the kill
                report = await dispatcher.run(plan, run.on_result, batch_id=batch)
            except DispatchBusy:
                continue
            break
        rearm = run.finish(report)
        self._after_pass(run, report, rearm)

    def _after_pass(self, run: KillRun, report: Report, rearm: list[Key]) -> None:
        self._release_kill_lock()
        self._journal_state(run)
        merged = run.merged()
        self.last_report = merged
        summary = run.summary()
        self._note(f"EMERGENCY STOP: {summary} (batch {report.batch_id[:8]})")
        if run.all_halted:
            self.notify(f"EMERGENCY STOP: {summary}", timeout=10)
        else:
            self.notify(
                f"EMERGENCY STOP: {summary}. The report (w) says what failed; r there retries it.",
                severity="error",
                timeout=30,
            )
        options = self.session.options
        if self.kill_watch is None:
            self.kill_watch = WatchKeeper(
                run,
                self.session.store,
                minutes=options.watch_minutes,
                auto_restop=options.auto_restop,
                clock=self.clock,
            )
        else:
            self.kill_watch.include_verified(rearm)
        screen = self.screen
        if isinstance(screen, KillProgressScreen) and screen.is_mounted:
            screen.refresh_view()  # DONE at once, not on the view's next refresh (a view
            # not mounted yet draws everything when it is)

    def _retry(self, plan: Plan) -> None:
        run = self.kill_run
        if run is None or self.kill_active:
            self.notify("A kill is already running: nothing more was sent.", severity="warning")
            return
        if not self._take_kill_lock():
            return
        self._send(run, plan)

    def _journal_state(self, run: KillRun) -> None:
        """What the report says of the record: JOURNAL FAILED and where, or the receipt."""
        journal = self.session.journal
        failed = getattr(journal, "failed", None)
        if failed:
            where = getattr(journal, "fallback_path", None) or "standard error"
            run.journal_failed = f"{failed}; this kill is recorded in {where}"
            return
        with contextlib.suppress(Exception):
            run.chain_head = journal.chain_head() or ""

    def _take_kill_lock(self) -> bool:
        """One kill per profile across processes: refuse (nothing sent) if another holds it."""
        journal = self.session.journal
        lock = self._kill_lock = kill_lock_for(
            getattr(journal, "path", ":memory:"), self.session.options.profile
        )
        if lock is None:
            return True
        try:
            lock.acquire()
        except KillLocked as exc:
            self.notify(f"EMERGENCY STOP refused: {exc}", severity="error", timeout=30)
            self._note(f"EMERGENCY STOP refused: {exc}")
            self.bell()
            return False
        except OSError as exc:  # the lock file cannot be made: never block a kill for it
            self._note(f"The kill lock could not be taken ({exc}); sending anyway.")
        return True

    def _release_kill_lock(self) -> None:
        lock, self._kill_lock = self._kill_lock, None
        if lock is not None:
            lock.release()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group not in KILL_GROUPS or event.state is not WorkerState.ERROR:
            return
        error = event.worker.error
        run = self.kill_run
        if event.worker.group == "kill-recheck":
            self.notify(
                "The automatic re-verification of a venue that came back stopped with an "
                f"internal error ({type(error).__name__}: {error}); nothing was sent. r in the report "
                "(w) retries what is still not verified.",
                severity="error",
                timeout=30,
            )
            return
        if event.worker.group == "kill":
            self._release_kill_lock()
        if run is not None and event.worker.group == "kill":
            run.error = f"internal error ({type(error).__name__}: {error})"
            run.finish(None)
        self.notify(
            f"The emergency stop stopped with an internal error ({type(error).__name__}: "
            f"{error}). Check the journal (u) for what was sent.",
            severity="error",
            timeout=30,
        )

    # ----- the sticky watch ---------------------------------------------------------------
    def watch_tick(self) -> None:
        self._recheck_recovered()
        keeper = self.kill_watch
        if keeper is None or not keeper.active:
            return
        auto = keeper.watch.auto_restop
        revivals = keeper.check()
        if revivals and isinstance(self.screen, KillProgressScreen):
            self.screen.refresh_view()
        for revival in revivals:
            target = revival.target
            self.bell()
            then = "re-stopping it (auto re-stop is on)" if auto else "K stops it again"
            self.notify(
                f"REVIVED: {target.venue}/{printable(target.name)} is RUNNING again after the "
                f"emergency stop — {then}. w shows the report.",
                severity="error",
                timeout=30,
            )
        if keeper.pending and not self.session.dispatcher.busy and not self.kill_active:
            plan = keeper.restop_plan(self.session.clients)
            if plan is not None:
                self._restop(keeper, plan)

    @work(group="kill-restop", exclusive=True, exit_on_error=False)
    async def _restop(self, keeper: WatchKeeper, plan: Plan) -> None:
        try:
            batch = keeper.run.batch_ids[0] if keeper.run.reports else None
            report = await self.session.dispatcher.run(plan, batch_id=batch)  # the kill's batch
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
        back = self.kill_feeds.recovered(self.session.store, self.session.venues)
        run = self.kill_run
        if run is None:
            return
        self._came_back.update(v for v in back if any(i.venue == v for i in run.kill.plan.items))
        if not self._came_back or self.kill_active:
            return  # a pass still running re-reads by itself; look again once it ends
        came_back, self._came_back = sorted(self._came_back), set()
        keeper = self.kill_watch
        watching = keeper is not None and keeper.active
        if not watching and not any(isinstance(s, KillProgressScreen) for s in self.screen_stack):
            return
        for venue in came_back:
            doubtful = run.doubtful(venue)
            if doubtful and venue not in self._rechecking:
                self._rechecking.add(venue)
                self._recheck(run, venue, doubtful)

    @work(group="kill-recheck", exit_on_error=False)
    async def _recheck(self, run: KillRun, venue: str, doubtful: list[ItemResult]) -> None:
        try:
            intents = latest_intents(self.session.journal, run.batch_ids, venue)
            found = await reverify(
                self.session.dispatcher, venue, doubtful, intents, at=self.clock()
            )
        finally:
            self._rechecking.discard(venue)
        run.recheck(found, doubtful)
        if found.problem and not found.results:
            self._note(f"{venue} came back but could not be re-read: {one_line(found.problem)}")
            return
        left = len(found.results) - found.verified
        text = (
            f"{venue} came back: re-read {len(found.results)} target(s) of the emergency stop, "
            f"{found.verified} now verified halted (journaled; nothing was re-sent)"
        )
        if left:
            text += f"; {left} still NOT verified: r in the report (w) retries them"
        self._note(text)
        self.notify(text, severity="warning" if left else "information", timeout=15)
        self.last_report = run.merged()
        if self.kill_watch is not None:
            self.kill_watch.include_verified()
        screen = self.screen
        if isinstance(screen, KillProgressScreen) and screen.is_mounted:
            screen.refresh_view()

    # ----- quitting ----------------------------------------------------------------------
    def quit_question(self) -> QuitScreen | None:
        """The question to ask before quitting, or None to quit at once.

        A plan still running (its calls would be cut short), or the sticky watch still
        on (quitting ends it silently: nothing would catch a revival).
        """
        running = self.session.dispatcher.running
        keeper = self.kill_watch
        left = keeper.remaining_s() if keeper is not None and keeper.active else None
        if running is None and left is None:
            return None
        plan = f"{running.plan.title} ({running.done}/{len(running.plan)})" if running else None
        watched = len(keeper.watch.keys) if keeper is not None else 0
        return QuitScreen(plan, watch_left_s=left, watched=watched)

    # ----- other screens ----------------------------------------------------------------

    def show_kill_progress(self) -> None:
        run = self.kill_run
        if run is None or isinstance(self.screen, KillProgressScreen):
            return
        self.push_screen(
            KillProgressScreen(
                run,
                self.kill_view(),
                retry=self._retry,
                audit=self.open_audit,
                watch_left=self._watch_left,
                auto_restop=self.session.options.auto_restop,
            )
        )

    def _watch_left(self) -> float | None:
        keeper = self.kill_watch
        return keeper.remaining_s() if keeper is not None and keeper.active else None

    def action_kill_report(self) -> None:
        if self.kill_run is None:
            self.notify("No emergency stop yet this session.")
            return
        self.show_kill_progress()

    def _note(self, text: str) -> None:
        """A line in the main screen's outcome log, beside the other plans' outcomes."""
        with contextlib.suppress(NoMatches):
            self.screen_stack[0].query_one(OutcomesView).note(text)
