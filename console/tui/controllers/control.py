"""From a control key to outcomes on screen: plan, confirm, dispatch, report.

Kept apart from the app's screen plumbing so the path a stop travels reads in one
place. The plan is frozen when the key is pressed (:func:`build_draft`), shown in the
one installed :class:`ConfirmScreen`, dispatched by a worker through the control port
(which journals and verifies every call), and every result is buffered for the app's
next tick to write to the outcome log.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.app import App
from textual.worker import Worker, WorkerState

from console.core.dispatcher import DispatchBusy
from console.core.model import ActionKind
from console.core.plan import ItemResult, Plan, Report
from console.core.ports import ControlPort, StateSource
from console.core.scrub import printable
from console.tui.arming import ArmState
from console.tui.keymap import CONTROL_KINDS, display_key, effective_keys
from console.tui.panels import TargetPanel
from console.tui.planning import Excluded, PlanDraft, build_draft
from console.tui.screens.confirm import ConfirmScreen
from console.tui.widgets.outcomes import OutcomesView

DISPATCH_GROUP = "dispatch"


class ControlController:
    """Control keys, the confirmation, the dispatch worker and retry.

    ``panel`` gives the panel on screen, ``outcomes`` the outcome log, ``keys`` the
    validated keymap; results wait in :attr:`results` for the app's tick.
    """

    def __init__(
        self,
        app: App[None],
        state: StateSource,
        control: ControlPort,
        *,
        arm: ArmState,
        clock: Callable[[], float],
        keys: dict[str, str],
        confirm: ConfirmScreen,
        panel: Callable[[], TargetPanel],
        outcomes: Callable[[], OutcomesView],
    ) -> None:
        self.app = app
        self.state = state
        self.control = control
        self.arm = arm
        self.clock = clock
        self.keys = keys
        self.confirm = confirm
        self.panel = panel
        self.outcomes = outcomes
        self.last_report: Report | None = None
        self.results: list[ItemResult] = []

    def allowed(self, name: str) -> bool:
        """A control key acts only when armed and when the panel's venue offers it."""
        kind = CONTROL_KINDS.get(name)
        if kind is None or not self.arm.enabled(self.clock()):
            return False
        return kind in self.panel().ACTIONS

    def key(self, name: str) -> None:
        if self.allowed(name):
            self.open_confirmation(CONTROL_KINDS[name])

    def refuse_readonly(self, name: str) -> None:
        """P, X, R or S while read-only and not armed: the control binding is unbound, so
        the key lands here and only says why nothing opened (nothing is planned or sent)."""
        keys = effective_keys(self.keys)
        kind = CONTROL_KINDS[name].value
        self.app.notify(
            f"read-only — {display_key(keys['arm'])} arms for {self.arm.minutes:g} min "
            f"(no {kind} opened, nothing sent)",
            severity="warning",
            timeout=6,
        )

    def open_confirmation(self, kind: ActionKind) -> None:
        """Freeze a plan from what is under the cursor (or selected) and ask to confirm it."""
        refusal = self.control.journal_refusal()
        if refusal:
            self.app.notify(f"Nothing was opened: {refusal}", severity="error", timeout=30)
            return
        running = self.control.running
        if running is not None:
            self.app.notify(
                f"A plan is still running: {running.plan.title} ({running.done}/"
                f"{len(running.plan)}). Nothing was opened.",
                severity="warning",
            )
            return
        panel = self.panel()
        targets, scope = panel.action_targets()
        if not targets:
            self.app.notify("No row under the cursor: nothing to act on.", severity="warning")
            return
        draft = build_draft(
            kind,
            targets,
            self.state.store,
            self.state.clients,
            scope=scope,
            hidden=panel.is_hidden,
            clock=self.clock,
        )
        self.show_draft(draft, kind)

    def show_draft(self, draft: PlanDraft | list[Excluded], kind: ActionKind) -> None:
        if not isinstance(draft, PlanDraft):
            why = printable("; ".join(f"{e.target.name}: {e.why}" for e in draft[:3]))
            self.app.notify(f"Nothing to {kind.value}: {why}", severity="warning", timeout=8)
            return
        if isinstance(self.app.screen, ConfirmScreen):
            return  # never re-load an open confirmation: its plan is frozen
        options = self.state.options
        self.confirm.load(draft, label=options.label, colour=options.color)
        self.app.push_screen(self.confirm, self._confirmed)

    def _confirmed(self, plan: Plan | None) -> None:
        if plan is None:
            self.outcomes().note("Cancelled: nothing was sent.")
            return
        if not self.arm.enabled(self.clock()):
            self.app.notify(
                "The arm ran out while the confirmation was open: nothing was sent. "
                "Press a to arm again.",
                severity="error",
                timeout=10,
            )
            return
        refusal = self.control.journal_refusal()
        if refusal:
            self.app.notify(f"Nothing was sent: {refusal}", severity="error", timeout=30)
            return
        self.dispatch(plan)

    def dispatch(self, plan: Plan) -> Worker[Report | None]:
        """Run a confirmed plan in a worker; results reach the screen on the next tick."""
        return self.app.run_worker(
            partial(self._dispatch, plan),
            name="dispatch",
            group=DISPATCH_GROUP,
            exclusive=True,
            exit_on_error=False,
        )

    async def _dispatch(self, plan: Plan) -> Report | None:
        try:
            report = await self.control.dispatch(plan, self.results.append)
        except DispatchBusy as busy:
            self.app.notify(f"Not sent: {busy}.", severity="error")
            return None
        self.last_report = report
        self.flush(self.clock())
        self.outcomes().show_progress(report, running=False)
        if any(r.needs_retry for r in report.results.values()):
            self.app.notify(f"{plan.title}: {report.summary()}", severity="error", timeout=20)
        else:
            self.app.notify(f"{plan.title}: {report.summary()}", timeout=6)
        return report

    def remember(self, report: Report) -> None:
        """Keep ``report`` as the last one (the kill's, merged over its passes)."""
        self.last_report = report

    def flush(self, now: float) -> None:
        """Write the buffered results to the outcome log, and the running plan's progress."""
        outcomes = self.outcomes()
        results = self.results.copy()
        self.results.clear()  # in place: a running plan appends to this very list
        outcomes.write_results(results, now)  # also each tick: a burst's next chunk
        running = self.control.running
        if running is not None:
            outcomes.show_progress(running, running=True)

    def worker_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == DISPATCH_GROUP and event.state is WorkerState.ERROR:
            error = event.worker.error
            self.app.notify(
                f"The plan stopped with an internal error ({type(error).__name__}: "
                f"{error}). Check the journal (trading-console audit) for what was "
                "sent.",
                severity="error",
                timeout=30,
            )

    def retry(self) -> None:
        """A fresh confirmation for what failed or did not verify (options reset to off)."""
        plan = self.last_report.retry_plan() if self.last_report else None
        if plan is None:
            self.app.notify("Nothing to retry.")
            return
        store = self.state.store
        targets = [t for i in plan.items if (t := store.get(i.venue, i.target_id)) is not None]
        kind = plan.items[0].action.kind
        draft = build_draft(
            kind,
            targets,
            store,
            self.state.clients,
            scope="selection" if len(targets) > 1 else "one",
            clock=self.clock,
        )
        self.show_draft(draft, kind)
