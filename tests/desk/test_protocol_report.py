"""A kill's report crosses the desk whole: a target halted by its venue's answer only
(nothing can re-read it) stays so, never read back as unverified or verified, and the
targets a kill's re-read found running outside its plan reach every console."""

from __future__ import annotations

import dataclasses

from console.core.model import Action, ActionKind, Outcome, OutcomeKind, State, Target, TargetKind
from console.core.plan import ItemResult, Plan, PlanItem, Report
from console.desk import messages


def test_by_answer_and_appeared_go_over_the_wire_and_back() -> None:
    item = PlanItem("joyride", "BTC-20260101", "BTC 1 Jan", TargetKind.EXPIRATION,
                    Action(ActionKind.PAUSE), State.RUNNING)  # fmt: skip
    result = ItemResult(item, Outcome(OutcomeKind.APPLIED, "paused 40"), State.PAUSED, None, True)
    new = Target("x3algo", TargetKind.ALGORITHM, "a9", "Late starter", State.RUNNING, "active")
    report = Report(Plan((item,), "EMERGENCY STOP"), "b1", 1, {(item.venue, item.target_id): result}, 2,
                    {"x3algo": (new,)})  # fmt: skip
    wire = messages.ReportMsg.of(report).encode()
    back = messages.ReportMsg.decode(wire).report()
    assert (
        back.results[(item.venue, item.target_id)].by_answer
        and back.results[(item.venue, item.target_id)].verified is None
    )
    assert back.appeared == {"x3algo": (new,)}
    assert back.summary() == report.summary()
    assert [f.name for f in dataclasses.fields(ItemResult)] == [
        *(f for f in messages.ResultMsg.model_fields)
    ], "a field of ItemResult the wire does not carry"


def test_a_kill_of_everything_carries_its_venues_and_what_it_could_not_re_read() -> None:
    """The hub re-reads every venue of a kill's scope, planned or not (the plan's
    ``venues`` cross the wire), and the consoles learn which it could not read whole."""
    item = PlanItem("finradar", "tgt_1", "TSLA sniper", TargetKind.SNIPER,
                    Action(ActionKind.STOP), State.RUNNING)  # fmt: skip
    plan = Plan((item,), "EMERGENCY STOP", "kill", everything=True, venues=("finradar", "x3algo"))
    back_plan = messages.PlanMsg.decode(messages.PlanMsg.of(plan).encode()).plan()
    assert back_plan.everything and back_plan.venues == ("finradar", "x3algo")
    result = ItemResult(item, Outcome(OutcomeKind.APPLIED, "stopped"), State.STOPPED, True)
    report = Report(plan, "b1", 1, {(item.venue, item.target_id): result}, 2,
                    unread={"x3algo": "x3algo answered 503"})  # fmt: skip
    back = messages.ReportMsg.decode(messages.ReportMsg.of(report).encode()).report()
    assert back.unread == {"x3algo": "x3algo answered 503"}
    assert not back.all_halted and back.summary() == report.summary()
