"""The kill's arithmetic: ETAs that know the rate limits, counters over retries, report order."""

from __future__ import annotations

import pytest

from console.core.kill import KillPlan
from console.core.model import Action, ActionKind, Outcome, OutcomeKind, State, TargetKind
from console.core.plan import ItemResult, Plan, PlanItem, Report
from console.tui.format import Tones
from console.tui.kill.eta import ControlRate, eta_s, fmt_eta
from console.tui.kill.plan_text import leaves_text
from console.tui.kill.report import report_rows
from console.tui.kill.run import KillRun
from console.venues.kit.base import RateLimit, VenueSettings
from console.venues.registry import DOCUMENTED, control_rate

X3 = DOCUMENTED["x3algo"]


def test_x3algo_stops_beyond_one_minute_of_budget_wait_for_the_next_window() -> None:
    assert eta_s(planned=100, answered=0, elapsed_s=0, rate=X3) is None  # one window: no wait
    assert eta_s(planned=250, answered=0, elapsed_s=0, rate=X3) == pytest.approx(120)
    assert eta_s(planned=250, answered=0, elapsed_s=30, rate=X3) == pytest.approx(90)


def test_the_observed_rate_corrects_the_limit_when_the_venue_is_slower() -> None:
    # 10 of 60 answered in 5 s: 50 more at 2/s is 25 s, though the limit allows them at once.
    assert eta_s(planned=60, answered=10, elapsed_s=5, rate=X3) == pytest.approx(25)
    assert eta_s(planned=60, answered=60, elapsed_s=5, rate=X3) == 0


def test_pipai_pauses_weigh_five_and_settings_scale_or_override_the_limit() -> None:
    assert DOCUMENTED["pipai"].calls_per_window == 240
    fast = VenueSettings(name="p", api="pipai", base_url="x", rate_scale=0.01)
    assert control_rate(fast) == ControlRate("weight", 1200, 0.6, 5)
    custom = VenueSettings(
        name="f", api="finradar", base_url="x", rate_limits={"requests": RateLimit(60, 60.0)}
    )
    assert control_rate(custom) == ControlRate("requests", 60, 60.0, 1)
    assert control_rate(VenueSettings(name="j", api="joyride", base_url="x", pacing=False)) is None


def test_eta_words() -> None:
    assert [fmt_eta(x) for x in (None, 0, 0.4, 42, 150)] == [
        "waiting",
        "done",
        "<1s",
        "~42s",
        "~2m30s",
    ]


def _item(venue: str, tid: str, kind: ActionKind = ActionKind.STOP) -> PlanItem:
    return PlanItem(venue, tid, f"name-{tid}", TargetKind.ALGORITHM, Action(kind), State.RUNNING)


def _result(item: PlanItem, outcome: OutcomeKind, verified: bool | None) -> ItemResult:
    state = State.STOPPED if verified else State.RUNNING
    return ItemResult(
        item,
        Outcome(outcome, f"{outcome.value} words"),
        state if verified is not None else None,
        verified,
    )


def _run() -> tuple[KillRun, list[PlanItem]]:
    items = [_item("x3algo", "a1"), _item("x3algo", "a2"), _item("finradar", "n1")]
    kill = KillPlan(Plan(tuple(items), "EMERGENCY STOP: everything", "kill"), {"pipai": "down"})
    return KillRun(kill, "DEMO", False, clock=lambda: 100.0), items


def test_counters_keep_the_latest_answer_per_target_across_a_retry() -> None:
    run, (a1, a2, n1) = _run()
    run.begin(run.kill.plan)
    run.on_result(_result(a1, OutcomeKind.FAILED, None))
    run.on_result(_result(a2, OutcomeKind.APPLIED, None))
    run.on_result(_result(a2, OutcomeKind.APPLIED, True))
    run.on_result(_result(n1, OutcomeKind.UNCERTAIN, False))
    run.finish(Report(run.kill.plan, "b1", 0))
    counts = run.counts()
    assert (counts["x3algo"].failed, counts["x3algo"].verified, counts["finradar"].uncertain) == (
        1,
        1,
        1,
    )
    retry = run.retry_plan()
    assert retry is not None and [i.target_id for i in retry.items] == ["a1", "n1"]
    run.begin(retry)
    assert run.progress() == (0, 2)
    run.on_result(_result(a1, OutcomeKind.APPLIED, True))
    assert run.progress() == (1, 2)
    assert run.counts()["x3algo"].verified == 2
    assert run.summary() == "halted 2/3 verified · 1 uncertain · 1 venue(s) UNREACHABLE"


def test_the_report_puts_what_needs_the_operator_first() -> None:
    run, (a1, a2, _) = _run()
    run.on_result(_result(a1, OutcomeKind.APPLIED, True))
    run.on_result(_result(a2, OutcomeKind.FAILED, False))
    rows = report_rows(run, {"x3algo": "x3algo"}, Tones.monochrome())
    assert [key for key, _ in rows] == ["x3algo/a2", "finradar/n1", "x3algo/a1"]
    assert "NO ANSWER" in str(rows[1][1][3])


def test_what_the_kill_leaves_behind_is_said_once_per_venue() -> None:
    item = _item("pipai", "s1", ActionKind.PAUSE)
    item = PlanItem(
        item.venue,
        item.target_id,
        item.target_name,
        TargetKind.STRATEGY,
        Action(ActionKind.PAUSE, {"close_positions": False}),
    )
    leaves = ("pipai: positions stay open (4 managed)", "pipai: positions stay open (2 managed)")
    kp = KillPlan(Plan((item,), "t", "kill", leaves), clears={"pipai": "close_positions"})
    text = leaves_text(kp, clear=False, clearing=["PipAI"]).plain
    assert "PipAI positions stay open" in text
    assert text.count("Leaves behind") == 1 and "(and a similar note for other targets)" in text
