"""The live store: keyed changes per drain, freshness, and what the journal knows."""

from __future__ import annotations

from console.core.model import State, Target, TargetKind
from console.core.store import KnownState, Store
from console.venues.kit.base import FeedStatus


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def algo(tid: str, state: State = State.RUNNING, **attrs: object) -> Target:
    return Target("x3algo", TargetKind.ALGORITHM, tid, f"algo {tid}", state, state.value, attrs)  # type: ignore[arg-type]


def test_drain_hands_over_only_what_changed() -> None:
    store = Store()
    store.snapshot("x3algo", [algo("a"), algo("b")])
    assert store.drain().changed == {("x3algo", "a"), ("x3algo", "b")}
    store.snapshot("x3algo", [algo("a"), algo("b", State.STOPPED)])
    changes = store.drain()
    assert changes.changed == {("x3algo", "b")}
    assert not store.drain()


def test_a_snapshot_removes_targets_that_are_gone() -> None:
    store = Store()
    store.snapshot("x3algo", [algo("a"), algo("b")])
    store.drain()
    store.snapshot("x3algo", [algo("a")])
    assert store.drain().removed == {("x3algo", "b")}
    assert store.get("x3algo", "b") is None


def test_patch_merges_attributes_and_ignores_unknown_targets() -> None:
    store = Store()
    store.snapshot("pipai", [algo("s", pnl="1.00", open_positions=2)])
    store.patch("pipai", "s", attrs={"open_positions": 3})
    store.patch("pipai", "nope", attrs={"open_positions": 9})
    target = store.get("pipai", "s")
    assert target is not None and dict(target.attrs) == {"pnl": "1.00", "open_positions": 3}


def test_states_read_unknown_once_a_venue_is_stale() -> None:
    clock = Clock()
    store = Store(stale_after_s=30, clock=clock)
    store.snapshot("x3algo", [algo("a")])
    target = store.get("x3algo", "a")
    assert target is not None
    assert store.effective_state(target) is State.RUNNING
    clock.now += 31
    assert store.is_stale("x3algo")
    assert store.effective_state(target) is State.UNKNOWN
    store.health("x3algo", FeedStatus.POLLING)
    assert store.effective_state(target) is State.RUNNING


def test_journal_knowledge_fills_a_state_the_venue_cannot_report() -> None:
    store = Store()
    exp = Target("joyride", TargetKind.EXPIRATION, "1740816000", "28 FEB", State.UNKNOWN,
                 "unknown", {"pause_source": "unknown"})  # fmt: skip
    store.snapshot("joyride", [exp])
    assert store.effective_state(exp) is State.UNKNOWN
    store.remember(
        "joyride", "1740816000", KnownState(State.PAUSED, "2026-11-21T10:00:00.000Z", "alice")
    )
    assert store.effective_state(exp) is State.PAUSED
    # A venue that does report its state is never overridden by the journal.
    store.remember("x3algo", "a", KnownState(State.PAUSED, "t", "alice"))
    store.snapshot("x3algo", [algo("a")])
    running = store.get("x3algo", "a")
    assert running is not None and store.effective_state(running) is State.RUNNING


def test_event_rate_counts_whole_seconds() -> None:
    clock = Clock()
    store = Store(clock=clock)
    for second in range(5):
        clock.now = 1_000.0 + second
        store.count_events("pipai", 100)
    clock.now = 1_005.0
    assert store.event_rate("pipai", seconds=5) == 100.0
    assert store.rate_history("pipai", seconds=3) == [100, 100, 100]


def test_a_snapshot_marks_changed_exactly_the_targets_that_differ_from_the_stored_ones() -> None:
    """The snapshot's own comparison agrees with ``Target.__eq__``: any field but
    ``confirmed_at`` makes a change; an equal target re-confirms the stored one (kept
    as it is, so a panel still holding it holds no second copy; the store answers the
    new read's time for it), not a change."""
    from dataclasses import replace

    store = Store(clock=lambda: 1000.0)
    base = algo("a", profit=1.0)
    variants = {
        "same": replace(base, attrs={"profit": 1.0}, confirmed_at=base.confirmed_at + 2.0),
        "name": replace(base, name="other"),
        "state": replace(base, state=State.PAUSED),
        "raw_status": replace(base, raw_status="paused"),
        "attrs": replace(base, attrs={"profit": 2.0}),
        "kind": replace(base, kind=TargetKind.STRATEGY),
    }
    for what, variant in variants.items():
        store.snapshot("x3algo", [base])
        store.drain()
        store.snapshot("x3algo", [variant])
        assert bool(store.drain().changed) == (variant != base), what
        stored = store.get("x3algo", "a")
        assert stored == variant and stored is not None, what
        assert store.confirmed_at(stored) == variant.confirmed_at, what  # re-confirmed
        if variant == base:  # unchanged: what the store held is kept, not the new copy
            assert stored is base and stored.confirmed_at == base.confirmed_at
        else:
            assert stored is variant, what


def test_confirmed_at_is_the_last_read_that_vouched_for_the_target_never_later() -> None:
    """A re-confirmed target stays the stored object; the store answers the read's time
    for it. A target written since the last full list (a stream's upsert, a patch) answers
    its own time, even when older than that list; a multi-page list's re-confirmation is
    its oldest page's time; a target no longer stored answers its own."""
    from dataclasses import replace

    clock = [100.0]
    store = Store(clock=lambda: clock[0])
    a, b = replace(algo("a"), confirmed_at=10.0), replace(algo("b"), confirmed_at=10.0)
    store.snapshot("x3algo", [a, b])
    assert store.confirmed_at(a) == 10.0
    store.snapshot("x3algo", [replace(a, confirmed_at=20.0), replace(b, confirmed_at=21.0)])
    assert store.get("x3algo", "a") is a and store.get("x3algo", "b") is b
    assert (store.confirmed_at(a), store.confirmed_at(b)) == (20.0, 20.0)  # oldest page
    streamed = replace(a, state=State.PAUSED, confirmed_at=15.0)
    store.upsert([streamed])
    assert store.confirmed_at(streamed) == 15.0  # its own word, not the earlier list's
    assert store.confirmed_at(a) == 10.0  # no longer the stored one
    clock[0] = 150.0
    store.patch("x3algo", "b", state=State.STOPPED)
    patched = store.get("x3algo", "b")
    assert patched is not None and store.confirmed_at(patched) == 150.0
    store.snapshot(
        "x3algo", [replace(streamed, confirmed_at=30.0), replace(patched, confirmed_at=30.0)]
    )
    assert store.get("x3algo", "a") is streamed and store.confirmed_at(streamed) == 30.0
    assert store.confirmed_at(patched) == 150.0  # later than the list: its own time
    store.snapshot("x3algo", [])
    assert store.confirmed_at(streamed) == 15.0  # gone: only its own time is known


def test_a_patch_that_confirms_nothing_leaves_the_data_to_go_stale() -> None:
    """55-tech's stream counts orders; its engines' status comes only from polling. With
    the polls failing, order events kept the venue's data "1 s old" and every engine's
    last status shown as fresh (an independent 55-tech, restarted LIVE, still read MANUAL
    STOPPED). A figure that says nothing of the state confirms nothing."""
    clock = Clock()
    store = Store(stale_after_s=30, clock=clock)
    store.snapshot("x3algo", [algo("a", State.STOPPED)])
    clock.now += 31
    before = store.targets("x3algo")[0].confirmed_at
    store.patch("x3algo", "a", attrs={"orders_seen": 7}, confirms=False)
    assert store.is_stale("x3algo")
    assert store.effective_state(store.targets("x3algo")[0]) is State.UNKNOWN
    assert store.targets("x3algo")[0].attrs["orders_seen"] == 7  # the figure is kept
    assert store.targets("x3algo")[0].confirmed_at == before
    store.patch("x3algo", "a", state=State.STOPPED)  # a stream's word on the state
    assert not store.is_stale("x3algo")


def test_knowledge_ends_when_a_call_may_have_changed_it_or_the_target_goes() -> None:
    """Joyride cannot report a pause: after an uncertain resume the row kept "PAUSED set
    here …" (the venue had resumed), and a round that vanished and came back kept its old
    "PAUSED" (an independent Joyride restarted fresh)."""
    store = Store(clock=lambda: 1000.0)
    store.blind_venues = {"x3algo"}
    store.snapshot("x3algo", [algo("a", State.UNKNOWN), algo("b", State.UNKNOWN)])
    for tid in ("a", "b"):
        store.remember("x3algo", tid, KnownState(State.PAUSED, "2026-12-06T07:46:00Z", "root"))
    store.forget("x3algo", "a")
    a, b = sorted(store.targets("x3algo"), key=lambda t: t.id)
    assert store.effective_state(a) is State.UNKNOWN
    assert store.effective_state(b) is State.PAUSED
    store.snapshot("x3algo", [algo("a", State.UNKNOWN)])  # b is gone
    store.snapshot("x3algo", [algo("a", State.UNKNOWN), algo("b", State.UNKNOWN)])
    assert store.known("x3algo", "b") is None
