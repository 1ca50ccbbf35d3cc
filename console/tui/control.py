"""From a control key to outcomes on screen: plan, confirm, dispatch, report.

Kept apart from the app's screen plumbing so the path a stop travels reads in one
place. The plan is frozen when the key is pressed (:func:`build_draft`), shown in the
one installed :class:`ConfirmScreen`, dispatched by a worker through the session's
dispatcher (which journals and verifies every call), and every result is buffered for
the next tick to write to the outcome log.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import work
from textual.worker import Worker, WorkerState

from console.core.dispatcher import DispatchBusy, ItemResult, Plan, Report
from console.core.model import ActionKind
from console.core.scrub import printable
from console.core.session import Session
from console.tui.arming import ArmState
from console.tui.keymap import CONTROL_KINDS, display_key, effective_keys
from console.tui.modals.confirm import ConfirmScreen
from console.tui.outcomes import OutcomesView
from console.tui.planning import Excluded, PlanDraft, build_draft

if TYPE_CHECKING:
    from textual.app import App

    from console.tui.main_screen import MainScreen
    from console.tui.panels import TargetPanel

    _Base = App[None]
else:
    _Base = object


class ControlMixin(_Base):
    """Control keys, the confirmation, the dispatch worker and retry."""

    session: Session
    clock: Callable[[], float]
    arm: ArmState
    keys: dict[str, str]
    last_report: Report | None
    confirm_screen: ConfirmScreen
    results: list[ItemResult]

    @property
    def main(self) -> MainScreen:
        raise NotImplementedError

    @property
    def active_panel(self) -> TargetPanel:
        raise NotImplementedError

    def flush_results(self, now: float) -> None:
        raise NotImplementedError

    def control_allowed(self, name: str) -> bool:
        """A control key acts only when armed and when the panel's venue offers it."""
        kind = CONTROL_KINDS.get(name)
        if kind is None or not self.arm.enabled(self.clock()):
            return False
        return kind in self.active_panel.ACTIONS

    def action_control(self, name: str) -> None:
        if self.control_allowed(name):
            self.open_confirmation(CONTROL_KINDS[name])

    def action_readonly(self, name: str) -> None:
        """P, X, R or S while read-only and not armed: the control binding is unbound, so
        the key lands here and only says why nothing opened (nothing is planned or sent)."""
        keys = effective_keys(self.keys)
        kind = CONTROL_KINDS[name].value
        self.notify(
            f"read-only — {display_key(keys['arm'])} arms for {self.arm.minutes:g} min "
            f"(no {kind} opened, nothing sent)",
            severity="warning",
            timeout=6,
        )

    def journal_refusal(self) -> str | None:
        """Why a control action may not go now: its journal cannot be written (a kill
        still goes, with a fallback record; a single action waits for the journal)."""
        journal = self.session.journal
        if not getattr(journal, "failed", None):
            return None
        try:
            journal.require_ok()
        except Exception as exc:
            return str(exc)
        return None

    def open_confirmation(self, kind: ActionKind) -> None:
        """Freeze a plan from what is under the cursor (or selected) and ask to confirm it."""
        refusal = self.journal_refusal()
        if refusal:
            self.notify(f"Nothing was opened: {refusal}", severity="error", timeout=30)
            return
        running = self.session.dispatcher.running
        if running is not None:
            self.notify(
                f"A plan is still running: {running.plan.title} ({running.done}/"
                f"{len(running.plan)}). Nothing was opened.",
                severity="warning",
            )
            return
        panel = self.active_panel
        targets, scope = panel.action_targets()
        if not targets:
            self.notify("No row under the cursor: nothing to act on.", severity="warning")
            return
        draft = build_draft(
            kind,
            targets,
            self.session.store,
            self.session.clients,
            scope=scope,
            hidden=panel.is_hidden,
            clock=self.clock,
        )
        self.show_draft(draft, kind)

    def show_draft(self, draft: PlanDraft | list[Excluded], kind: ActionKind) -> None:
        if not isinstance(draft, PlanDraft):
            why = printable("; ".join(f"{e.target.name}: {e.why}" for e in draft[:3]))
            self.notify(f"Nothing to {kind.value}: {why}", severity="warning", timeout=8)
            return
        if isinstance(self.screen, ConfirmScreen):
            return  # never re-load an open confirmation: its plan is frozen
        options = self.session.options
        self.confirm_screen.load(draft, label=options.label, colour=options.color)
        self.push_screen(self.confirm_screen, self._confirmed)

    def _confirmed(self, plan: Plan | None) -> None:
        if plan is None:
            self.main.query_one(OutcomesView).note("Cancelled: nothing was sent.")
            return
        if not self.arm.enabled(self.clock()):
            self.notify(
                "The arm ran out while the confirmation was open: nothing was sent. "
                "Press a to arm again.",
                severity="error",
                timeout=10,
            )
            return
        refusal = self.journal_refusal()
        if refusal:
            self.notify(f"Nothing was sent: {refusal}", severity="error", timeout=30)
            return
        self.dispatch(plan)

    @work(group="dispatch", exclusive=True, exit_on_error=False)
    async def dispatch(self, plan: Plan) -> Report | None:
        """Run a confirmed plan; results reach the screen on the next tick."""
        try:
            report = await self.session.dispatcher.run(plan, self.results.append)
        except DispatchBusy as busy:
            self.notify(f"Not sent: {busy}.", severity="error")
            return None
        self.last_report = report
        self.flush_results(self.clock())
        self.main.query_one(OutcomesView).show_progress(report, running=False)
        if any(r.needs_retry for r in report.results.values()):
            self.notify(f"{plan.title}: {report.summary()}", severity="error", timeout=20)
        else:
            self.notify(f"{plan.title}: {report.summary()}", timeout=6)
        return report

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "dispatch" and event.state is WorkerState.ERROR:
            error = event.worker.error
            self.notify(
                f"The plan stopped with an internal error ({type(error).__name__}: "
                f"{error}). Check the journal (trading-console audit) for what was "
                "sent.",
                severity="error",
                timeout=30,
            )

    def action_retry(self) -> None:
        """A fresh confirmation for what failed or did not verify (options reset to off)."""
        plan = self.last_report.retry_plan() if self.last_report else None
        if plan is None:
            self.notify("Nothing to retry.")
            return
        store = self.session.store
        targets = [t for i in plan.items if (t := store.get(i.venue, i.target_id)) is not None]
        kind = plan.items[0].action.kind
        draft = build_draft(
            kind,
            targets,
            store,
            self.session.clients,
            scope="selection" if len(targets) > 1 else "one",
            clock=self.clock,
        )
        self.show_draft(draft, kind)
