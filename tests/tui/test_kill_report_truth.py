"""The kill report's words for what cannot be verified and for what the plan missed.

A Joyride round is halted by the venue's answer only (it cannot be re-read): never
VERIFIED, never ALL HALTED, never re-checked as if it could be. A target that appeared
since the plan is named (APPEARED) and keeps the headline from ALL HALTED, except after
a kill of selected rows, which left the rest on purpose. Fails on the code before.
"""

from __future__ import annotations

from dataclasses import replace

from console.core.kill import KillPlan
from console.core.model import Action, ActionKind, Outcome, OutcomeKind, State, Target, TargetKind
from console.core.plan import ItemResult, Plan, PlanItem, Report
from console.tui.format import Tones
from console.tui.kill.notes import notes_text
from console.tui.kill.report import verified_cell
from console.tui.kill.run import KillRun

ROUND = PlanItem("joyride", "1796544000", "06 DEC", TargetKind.EXPIRATION, Action(ActionKind.PAUSE))
ALGO = PlanItem("x3algo", "a1", "algo 1", TargetKind.ALGORITHM, Action(ActionKind.STOP))
PAUSED = Outcome(OutcomeKind.APPLIED, "paused", 200, 1.0, State.PAUSED)
STOPPED = Outcome(OutcomeKind.APPLIED, "stopped", 200, 1.0, State.STOPPED)


def _run(kp: KillPlan, appeared: tuple[Target, ...] = ()) -> KillRun:
    run = KillRun(kp, "DEMO", False, lambda: 0.0)
    report = Report(kp.plan, "batch", 0)
    results = {
        ("joyride", ROUND.target_id): ItemResult(ROUND, PAUSED, State.PAUSED, False, True),
        ("x3algo", "a1"): ItemResult(ALGO, STOPPED, State.STOPPED, True),
    }
    report.results = {
        (i.venue, i.target_id): results[(i.venue, i.target_id)] for i in kp.plan.items
    }
    if appeared:
        report.appeared = {"x3algo": appeared}
    run.begin(kp.plan)
    for result in report.results.values():
        run.on_result(result)
    run.finish(report)
    return run


def test_a_round_halted_by_the_venue_answer_only_is_never_all_halted() -> None:
    run = _run(KillPlan(Plan((ROUND, ALGO), "EMERGENCY STOP: everything", "kill")))
    assert run.plan_halted and not run.all_halted
    assert "1 by the venue's answer only" in run.summary()
    assert run.retry_plan() is None  # nothing a retry could change
    assert run.doubtful("joyride") == []  # a venue coming back cannot verify it either
    cell = verified_cell(run.results[("joyride", ROUND.target_id)], Tones.monochrome())
    assert "VERIFIED" not in cell.plain and "by answer only" in cell.plain
    notes = notes_text(run, Tones.monochrome(), watch_left=None, auto_restop=False).plain
    assert "BY ANSWER ONLY" in notes and "joyride: 1 target(s)" in notes


def test_a_target_that_appeared_since_the_plan_is_named_and_not_all_halted() -> None:
    late = Target("x3algo", TargetKind.ALGORITHM, "late1", "late one", State.RUNNING, "active")
    plan = Plan((ALGO,), "EMERGENCY STOP: everything", "kill", everything=True)
    run = _run(KillPlan(plan), (late,))
    assert not run.all_halted
    assert "1 APPEARED since the plan (not in this kill)" in run.summary()
    notes = notes_text(run, Tones.monochrome(), watch_left=None, auto_restop=False).plain
    assert "APPEARED" in notes and "late one" in notes
    # A kill of selected rows left the others on purpose: nothing to name.
    chosen = _run(KillPlan(replace(plan, everything=False)), (late,))
    assert chosen.appeared() == {} and "APPEARED" not in chosen.summary()
    assert chosen.all_halted


def test_a_venue_nothing_was_sent_to_says_what_the_operator_can_do() -> None:
    plan = Plan((ALGO,), "EMERGENCY STOP: everything", "kill", everything=True)
    run = _run(KillPlan(plan, {"pipai": "HTTP 503 (tried 7 times over 9.5 s)"}))
    assert not run.all_halted
    notes = notes_text(run, Tones.monochrome(), watch_left=None, auto_restop=False).plain
    assert "UNREACHABLE" in notes and "pipai: it never answered this session" in notes
    assert "nothing was sent there" in notes
    assert "halt it from the venue's own console, or K plans a new kill once it answers" in notes
