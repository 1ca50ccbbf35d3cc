"""The app asks a control port, not a session: a fake port hears the keys (issue 13, item 4).

The state comes from the demo session as usual; the control port is a fake that sends
nothing and records what it was asked. A control key's confirmed plan and the kill's
frozen plan both reach it, and nothing reaches the venues or the journal behind it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from console.core.journal_rows import Entry
from console.core.kill import KillPlan, KillScope
from console.core.kill_lock import KillLock
from console.core.model import ActionKind, Outcome, OutcomeKind, State
from console.core.plan import ItemResult, Plan, Report, ResultCallback
from console.core.ports import ControlPort, StateSource
from console.core.recovery import Verified
from console.core.reverify import Recheck
from console.core.session import Session
from console.tui.app import ConsoleApp
from console.tui.kill.kill_modal import KillScreen
from console.tui.screens.confirm import ConfirmScreen
from tests.tui.fakes import FakeVenue
from tests.tui.pilot_support import journal, log_text, wait_for

SIZE = (120, 40)


class FakeControl:
    """A control port that records plans and answers each item APPLIED, then verified."""

    def __init__(self) -> None:
        self.plans: list[Plan] = []
        self.kill_scopes: list[tuple[KillScope, bool]] = []

    @property
    def running(self) -> Report | None:
        return None

    @property
    def busy(self) -> bool:
        return False

    async def dispatch(
        self, plan: Plan, on_result: ResultCallback | None = None, *, batch_id: str | None = None
    ) -> Report:
        self.plans.append(plan)
        report = Report(plan, batch_id or "fake-batch", 0)
        for item in plan.items:  # as the dispatcher: the outcome, then its verification
            outcome = Outcome(OutcomeKind.APPLIED, "fake")
            verified = ItemResult(item, outcome, State.PAUSED, True)
            report.results[(item.venue, item.target_id)] = verified
            for result in (ItemResult(item, outcome), verified):
                if on_result is not None:
                    on_result(result)
        return report

    def plan_kill(self, scope: KillScope, *, clear_leaves_behind: bool) -> KillPlan:
        self.kill_scopes.append((scope, clear_leaves_behind))
        return KillPlan(Plan((), f"EMERGENCY STOP: {scope.describe()}", "kill"))

    def kill_lock(self) -> KillLock | None:
        return None

    async def reverify(
        self, venue: str, doubtful: Sequence[ItemResult], batch_ids: Sequence[str], *, at: float
    ) -> Recheck:
        return Recheck(venue, at, ())

    async def verify_interrupted(self, entries: list[Entry]) -> list[Verified]:
        return []

    def journal_refusal(self) -> str | None:
        return None

    def journal_failure(self) -> str | None:
        return None

    def refused_now(self) -> Mapping[str, int]:
        return {}

    def chain_head(self) -> str | None:
        return "fake-head"


def members(protocol: type) -> set[str]:
    return {name for name in vars(protocol) if not name.startswith("_")}


def test_the_fake_and_the_local_session_answer_every_question_of_the_ports(
    session: Session,
) -> None:
    assert members(ControlPort) <= set(dir(FakeControl))
    assert members(ControlPort) <= set(dir(session.control))
    assert members(StateSource) <= set(dir(session))


async def test_a_control_key_reaches_the_port_and_nothing_else(
    session: Session, venues: dict[str, FakeVenue]
) -> None:
    control = FakeControl()
    app = ConsoleApp(session, control, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.active_panel.table.row_count == 3, "engines")
        await pilot.press("P")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await app.workers.wait_for_complete()
        assert [(i.target_id, i.action.kind) for p in control.plans for i in p.items] == [
            ("acme", ActionKind.PAUSE)
        ]
        await wait_for(pilot, lambda: "APPLIED" in log_text(app), "the port's answer")
        assert app.last_report is not None and app.last_report.batch_id == "fake-batch"
        assert all(not v.executed for v in venues.values())  # the session sent nothing
        assert journal(app) == []


async def test_the_kill_key_asks_the_port_for_its_plan(session: Session) -> None:
    control = FakeControl()
    app = ConsoleApp(session, control, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.active_panel.table.row_count == 3, "engines")
        await pilot.press("K")
        assert isinstance(app.screen, KillScreen)
        assert control.kill_scopes == [(KillScope(), session.options.kill_clear_leaves_behind)]
        assert len(app.screen.kp.plan) == 0  # the port's (empty) plan is what the modal shows
