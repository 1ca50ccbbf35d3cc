"""Target.with_state: a copy only when something changes (a kill's plan asks it of every
target it reads: 50,000 copies that differed in nothing were a third of the K key's
~0.6 s at ~50,000 targets)."""

from __future__ import annotations

from console.core.model import State, Target, TargetKind


def target() -> Target:
    return Target("x3algo", TargetKind.ALGORITHM, "a1", "algo-1", State.RUNNING, "active",
                  {"profit": 1.5}, confirmed_at=100.0)  # fmt: skip


def test_the_same_state_is_the_same_target() -> None:
    t = target()
    assert t.with_state(State.RUNNING) is t
    assert t.with_state(State.RUNNING, "active") is t


def test_a_new_state_or_status_is_a_copy_with_everything_else_kept() -> None:
    t = target()
    paused = t.with_state(State.PAUSED)
    assert (paused.state, paused.raw_status) == (State.PAUSED, "active")
    assert (paused.id, paused.attrs, paused.confirmed_at) == (t.id, t.attrs, 100.0)
    renamed = t.with_state(State.RUNNING, "running")
    assert renamed is not t and renamed.raw_status == "running"
    assert t.with_state(State.RUNNING, "") is t  # no status given: the target's own
