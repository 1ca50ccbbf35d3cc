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
