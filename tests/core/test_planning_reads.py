"""A planning read that took its whole time is not tried again; a quick failure is.

``trading-console kill`` plans from one fresh read of every venue, so its first call
waits for the slowest read: a venue whose list never answered held every other venue's
stops for three request timeouts and the backoff (16.5 s at the defaults; measured 19 s
through a proxy holding PipAI's list). A read that failed only after its whole
``request_timeout`` is now given up at once (5 s); a quick failure (a 500, a reset) is
still retried, as one bad answer should not make a venue unreachable.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from console.core import read_retry
from console.core.journal import Journal
from console.core.model import Target
from console.core.ports import FeedError
from console.core.session import Session, SessionOptions
from tests.core.fakes import FakeClient


class Hanging(FakeClient):
    """A venue whose list read fails only after its whole request timeout."""

    def __init__(self, name: str) -> None:
        super().__init__(name, ["1"])
        self.settings = dataclasses.replace(self.settings, request_timeout_s=0.05)
        self.reads = 0

    async def list_targets(self) -> list[Target]:
        self.reads += 1
        await asyncio.sleep(self.settings.request_timeout_s)  # the venue, silent
        raise FeedError(f"no answer within {self.settings.request_timeout_s:g} s")


class Failing(FakeClient):
    """A venue whose list read fails at once (a 500), then answers."""

    def __init__(self, name: str) -> None:
        super().__init__(name, ["1"])
        self.reads = 0

    async def list_targets(self) -> list[Target]:
        self.reads += 1
        if self.reads == 1:
            raise FeedError("HTTP 500")
        return await super().list_targets()


async def test_a_read_that_took_its_whole_time_is_not_tried_again(tmp_path: Path) -> None:
    hanging, failing = Hanging("slow"), Failing("flaky")
    journal = Journal(tmp_path / "j.sqlite3", profile="t")
    session = Session(SessionOptions(profile="t", label="T"), [hanging, failing], journal)
    failures = await session.refresh()
    assert hanging.reads == 1 and "no answer within" in failures["slow"]
    assert failing.reads == 2 and "flaky" not in failures  # the quick failure, retried
    assert [t.id for t in session.store.targets("flaky")] == ["1"]


class Troubled(FakeClient):
    """A venue whose list read fails ``failures`` times (-1: always), each failure
    ``transient`` or not as the venue would mark it, then answers."""

    def __init__(self, name: str, failures: int, *, transient: bool) -> None:
        super().__init__(name, ["1"])
        self.failures, self.transient, self.reads = failures, transient, 0
        self.third = asyncio.Event()  # set as the third read begins; it then waits for
        self.go_on = asyncio.Event()  # this (set at once unless a test clears it)
        self.go_on.set()

    async def list_targets(self) -> list[Target]:
        self.reads += 1
        if self.reads == 3:
            self.third.set()
            await self.go_on.wait()
        if self.failures < 0 or self.reads <= self.failures:
            raise FeedError("HTTP 503 'Service temporarily unavailable'", transient=self.transient)
        return await super().list_targets()


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """The backoff's shape kept, its seconds made hundredths (no test waits 10 s)."""
    monkeypatch.setattr(read_retry, "BACKOFF_S", 0.005)
    monkeypatch.setattr(read_retry, "BACKOFF_CAP_S", 0.02)


def session_of(tmp_path: Path, clients: list[FakeClient], retry_s: float) -> Session:
    journal = Journal(tmp_path / "j.sqlite3", profile="t")
    options = SessionOptions(profile="t", label="T", read_retry_s=retry_s)
    return Session(options, clients, journal)


async def test_a_venue_briefly_in_trouble_is_tried_until_it_answers(
    tmp_path: Path,
) -> None:
    """Six 503s in a row (a restart): three tries made it UNREACHABLE for the kill;
    tried on within the retry window, it is read and planned."""
    restarting = Troubled("restarting", 6, transient=True)
    session = session_of(tmp_path, [restarting], retry_s=5.0)
    assert await session.refresh() == {}
    assert restarting.reads == 7
    assert [t.id for t in session.store.targets("restarting")] == ["1"]
    assert session.retrying == {}  # nothing left waiting once the read ended


async def test_a_failure_that_will_not_change_is_tried_three_times_only(
    tmp_path: Path,
) -> None:
    """A refused key, a missing path: the same answer again, whatever the window."""
    refusing = Troubled("refusing", -1, transient=False)
    session = session_of(tmp_path, [refusing], retry_s=5.0)
    failures = await session.refresh()
    assert refusing.reads == 3
    assert failures["refusing"] == "HTTP 503 'Service temporarily unavailable'"


async def test_a_venue_in_trouble_for_the_whole_window_is_named_with_its_tries(
    tmp_path: Path,
) -> None:
    down = Troubled("down", -1, transient=True)
    session = session_of(tmp_path, [down], retry_s=0.2)
    failures = await session.refresh()
    assert down.reads > 3
    assert failures["down"].startswith("HTTP 503 'Service temporarily unavailable' (tried ")
    assert f"(tried {down.reads} times over " in failures["down"]


async def test_a_command_waiting_for_a_venue_says_it_is_trying_again_and_why(
    tmp_path: Path,
) -> None:
    """What ``kill`` and ``status`` print of a list still on its way."""
    down = Troubled("down", -1, transient=True)
    down.go_on.clear()
    session = session_of(tmp_path, [down], retry_s=600.0)
    reads = session.start_reads()
    try:
        await down.third.wait()  # two reads failed; the third has begun
        assert session.listing_words("down") == (
            "down (failed 2×, trying again: HTTP 503 'Service temporarily unavailable')"
        )
        assert session.listing_words("other") == "other"
    finally:
        for task in reads.values():
            task.cancel()
        await asyncio.gather(*reads.values(), return_exceptions=True)
    assert session.retrying == {}
