"""CLI exit codes follow what a re-read verified (``ItemResult.needs_retry``).

A call that got no answer (*uncertain*) whose target a re-read verified as asked needs
nothing more: the single-target command exits 0, and a kill's verdict is decided by the
targets still in doubt, not by answers a re-read has settled. A venue that cannot be
re-read exits 14 (by its answer only), never 0. Each failed on the code before.
"""

from __future__ import annotations

from console.cli.control import exit_code
from console.cli.kill import _exit_code
from console.core.kill import KillPlan
from console.core.model import Action, ActionKind, Outcome, OutcomeKind, State, TargetKind
from console.core.plan import ItemResult, Plan, PlanItem, Report


def _item(target_id: str, kind: ActionKind = ActionKind.STOP) -> PlanItem:
    return PlanItem("x3algo", target_id, target_id, TargetKind.ALGORITHM, Action(kind))


def _result(target_id: str, kind: OutcomeKind, verified: bool | None, **more: object) -> ItemResult:
    state = State.STOPPED if verified else State.RUNNING
    return ItemResult(_item(target_id), Outcome(kind, "words"), state, verified, **more)  # type: ignore[arg-type]


def test_an_uncertain_call_a_re_read_verified_exits_0() -> None:
    assert exit_code(_result("a1", OutcomeKind.UNCERTAIN, True)) == 0
    assert exit_code(_result("a1", OutcomeKind.FAILED, True)) == 0  # a 5xx that landed
    assert exit_code(_result("a1", OutcomeKind.UNCERTAIN, False)) == 5
    assert exit_code(_result("a1", OutcomeKind.FAILED, False)) == 4


def test_a_call_halted_by_the_venue_answer_only_exits_14() -> None:
    result = ItemResult(
        _item("1796544000", ActionKind.PAUSE),
        Outcome(OutcomeKind.APPLIED, "paused", 200, 1.0, State.PAUSED),
        State.PAUSED,
        False,
        by_answer=True,
    )
    assert not result.needs_retry
    assert exit_code(result) == 14


def test_a_kill_exit_code_ignores_an_uncertain_call_a_re_read_verified() -> None:
    settled = _result("a1", OutcomeKind.UNCERTAIN, True)
    refused = _result("a2", OutcomeKind.REJECTED, None)  # never re-read
    plan = Plan((settled.item, refused.item), "EMERGENCY STOP: everything", "kill")
    report = Report(plan, "b", 0)
    report.results = {("x3algo", "a1"): settled, ("x3algo", "a2"): refused}
    assert _exit_code(report, KillPlan(plan), None) == 3  # the rejection, not 5
