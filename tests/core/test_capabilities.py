"""Capabilities: what a venue client declares is what core acts on (issue 13, item 1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.core.dispatcher import Dispatcher
from console.core.journal import Journal
from console.core.kill import build_kill_plan
from console.core.model import Action, ActionKind, Outcome, OutcomeKind, State, Target, TargetKind
from console.core.operator import Operator
from console.core.plan import Plan, PlanItem, exposure_of
from console.core.ports import Capabilities
from console.core.store import KnownState, Store
from tests.core.fakes import FakeClient, quick


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "j.sqlite3", profile="test", operator=Operator("op", "host"))


def _pause_unreadable(reports_pause_state: bool) -> FakeClient:
    """A venue whose re-read never shows the pause (its target reads UNKNOWN)."""
    client = FakeClient("v", ["1"])
    client.states["1"] = State.UNKNOWN
    client.caps = Capabilities(reports_pause_state=reports_pause_state)
    client.answer = lambda _id, _a: Outcome(OutcomeKind.APPLIED, "paused", 200, 1.0, State.PAUSED)
    return client


def _pause_plan() -> Plan:
    item = PlanItem("v", "1", "name-1", TargetKind.ALGORITHM, Action(ActionKind.PAUSE))
    return Plan((item,), "pause one", "one")


@pytest.mark.parametrize(
    ("reports", "state", "by_answer"),
    [(False, State.PAUSED, True), (True, State.UNKNOWN, False)],
)
async def test_a_venue_that_cannot_report_pause_is_halted_by_its_answer_never_verified(
    journal: Journal, reports: bool, state: State, by_answer: bool
) -> None:
    client = _pause_unreadable(reports)
    report = await quick(Dispatcher({"v": client}, journal, Store())).run(_pause_plan())
    result = report.results[("v", "1")]
    assert (result.verified_state, result.verified, result.by_answer) == (state, False, by_answer)
    assert not result.needs_retry if by_answer else result.needs_retry


def test_the_store_fills_only_the_venues_told_blind() -> None:
    store = Store(blind_venues=["blind"])
    for venue in ("blind", "seeing"):
        store.snapshot(venue, [Target(venue, TargetKind.EXPIRATION, "1", "e", State.UNKNOWN, "?")])
        store.remember(venue, "1", KnownState(State.PAUSED, "t", "alice"))
    states = {v: store.effective_state(t) for v in ("blind", "seeing") if (t := store.get(v, "1"))}
    assert states == {"blind": State.PAUSED, "seeing": State.UNKNOWN}


def _target(tid: str, **attrs: float) -> Target:
    return Target("v", TargetKind.ALGORITHM, tid, f"name-{tid}", State.RUNNING, "running", attrs)


def test_exposure_is_measured_by_the_attributes_the_client_declares() -> None:
    declared = (("risk", 1.0), ("lots", 100.0))
    assert exposure_of(_target("1", risk=-5, lots=2, pnl=1e6), declared) == 205
    assert exposure_of(_target("1", pnl=1e6), ()) == 0
    client = FakeClient("v", [])
    client.caps = Capabilities(exposure_attrs=declared)
    store = Store()
    store.snapshot(
        "v", [_target("small", risk=5), _target("big", lots=1), _target("none", pnl=9e9)]
    )
    plan = build_kill_plan(store, {"v": client}).plan
    assert [i.target_id for i in plan.items] == ["big", "small", "none"]
    assert [i.exposure for i in plan.items] == [100, 5, 0]
