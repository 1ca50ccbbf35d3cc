"""A kill planned while a venue's feed is DOWN names it as such (issue 12, item 17
re-walked): the header says DOWN within seconds while the data takes 30 s to count as
stale, and in between the kill confirmation read "fresh" for a venue not answering."""

from __future__ import annotations

from console.core.kill import build_kill_plan
from console.core.ports import FeedStatus
from console.core.store import Store
from tests.core.fakes import FakeClient


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def fed_store(clock: Clock, clients: dict[str, FakeClient]) -> Store:
    store = Store(stale_after_s=30, clock=clock)
    for name, client in clients.items():
        store.snapshot(name, [client._target(t) for t in client.states])
        store.health(name, FeedStatus.POLLING)
    return store


def test_a_venue_whose_feed_is_down_is_named_down_with_its_age_before_it_is_stale() -> None:
    clock = Clock()
    clients = {"x3algo": FakeClient("x3algo", ["a1"]), "finradar": FakeClient("finradar", ["n1"])}
    store = fed_store(clock, clients)
    clock.now += 8
    store.health("x3algo", FeedStatus.DOWN, "connection refused")
    kp = build_kill_plan(store, clients)
    assert kp.down == {"x3algo": 8.0}
    assert kp.stale == {}  # 8 s: not stale yet, but not fresh either
    assert len(kp.plan) == 2  # still planned from what it last showed
    clock.now += 30
    store.health("finradar", FeedStatus.POLLING)  # finradar answers; x3algo does not
    kp = build_kill_plan(store, clients)
    assert kp.down == {"x3algo": 38.0}
    assert kp.stale == {"x3algo": 38.0}


def test_a_feed_that_came_back_is_not_down() -> None:
    clock = Clock()
    clients = {"x3algo": FakeClient("x3algo", ["a1"])}
    store = fed_store(clock, clients)
    store.health("x3algo", FeedStatus.DOWN, "connection refused")
    store.health("x3algo", FeedStatus.LIVE)
    assert build_kill_plan(store, clients).down == {}
