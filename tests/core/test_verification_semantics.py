"""What verification accepts: the asked state, or the one the venue said the call leaves.

A venue may keep two halts apart (55-tech: a manual pause and a manual stop); a start
then lifts the stop and leaves the pause. The venue says so on the outcome
(``Outcome.leaves``); the dispatcher accepts a re-read showing exactly that, never
more, and only when the call itself was answered as done.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from console.core.dispatcher import Dispatcher
from console.core.journal import Journal
from console.core.model import Action, ActionKind, Outcome, OutcomeKind, State, TargetKind
from console.core.operator import Operator
from console.core.plan import Plan, PlanItem, desired
from tests.core.fakes import FakeClient, quick

STILL_PAUSED = "the engine is still manually paused: resume to trade"


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "j.sqlite3", profile="test", operator=Operator("op", "host"))


def start_plan() -> Plan:
    item = PlanItem("v", "e1", "engine one", TargetKind.ENGINE, Action(ActionKind.START))
    return Plan((item,), "Start engine engine one on v")


def stopped_and_paused_engine(outcome: Outcome, after: State) -> FakeClient:
    """An engine the venue answers ``outcome`` for, reading ``after`` on re-read."""
    client = FakeClient("v", ["e1"], TargetKind.ENGINE)
    client.states["e1"] = State.STOPPED

    def answer(target_id: str, action: Action) -> Outcome:
        client.states[target_id] = after
        return outcome

    client.answer = answer
    return client


def started(
    kind: OutcomeKind = OutcomeKind.APPLIED, leaves: State | None = State.PAUSED
) -> Outcome:
    return Outcome(kind, "started", 200, 1.0, State.PAUSED, warning=STILL_PAUSED, leaves=leaves)


async def test_a_start_that_leaves_the_pause_the_venue_named_is_verified(
    journal: Journal,
) -> None:
    client = stopped_and_paused_engine(started(), State.PAUSED)
    report = await quick(Dispatcher({"v": client}, journal)).run(start_plan())
    result = report.results[("v", "e1")]
    assert (result.verified, result.verified_state) == (True, State.PAUSED)
    assert report.all_verified and "not confirmed" not in report.summary()
    [verify] = [e for e in journal.entries() if e.kind == "verify"]
    assert "start is done" in (verify.message or "") and STILL_PAUSED in (verify.message or "")


async def test_a_start_reread_still_stopped_is_not_verified_whatever_the_venue_said(
    journal: Journal,
) -> None:
    client = stopped_and_paused_engine(started(), State.STOPPED)
    result = (await quick(Dispatcher({"v": client}, journal)).run(start_plan())).results[
        ("v", "e1")
    ]
    assert (result.verified, result.verified_state) == (False, State.STOPPED)


async def test_what_a_call_leaves_counts_only_when_the_call_was_answered_done(
    journal: Journal,
) -> None:
    client = stopped_and_paused_engine(started(OutcomeKind.UNCERTAIN), State.PAUSED)
    result = (await quick(Dispatcher({"v": client}, journal)).run(start_plan())).results[
        ("v", "e1")
    ]
    assert result.verified is False


async def test_a_start_reading_paused_without_the_venue_saying_so_is_not_verified(
    journal: Journal,
) -> None:
    client = stopped_and_paused_engine(started(leaves=None), State.PAUSED)
    result = (await quick(Dispatcher({"v": client}, journal)).run(start_plan())).results[
        ("v", "e1")
    ]
    assert result.verified is False


def test_desired_accepts_the_left_state_and_nothing_else() -> None:
    assert not desired(ActionKind.START, State.PAUSED)
    assert desired(ActionKind.START, State.PAUSED, State.PAUSED)
    assert not desired(ActionKind.START, State.STOPPED, State.PAUSED)
    assert desired(ActionKind.START, State.RUNNING, State.PAUSED)
