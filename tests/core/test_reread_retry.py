"""A kill's verifying re-read of a venue that says it is briefly in trouble is tried
again (``console/core/read_retry.py``), as its planning read is.

A venue just sent a kill's stops is as likely to answer its re-read 503 as anything:
one 503 left every target of it NOT VERIFIED and the kill NEEDS ATTENTION, though
every stop had landed and the venue answered a second later.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from console.core import read_retry
from console.core.dispatcher import Dispatcher
from console.core.journal import Journal
from console.core.model import Action, ActionKind, Target, TargetKind
from console.core.operator import Operator
from console.core.plan import Plan, PlanItem
from console.core.ports import FeedError
from tests.core.fakes import FakeClient, quick


class BusyAfterStops(FakeClient):
    """A venue whose reads answer 503 ``failures`` times (-1: always) once a stop came."""

    def __init__(self, ids: list[str], failures: int, *, transient: bool = True) -> None:
        super().__init__("busy", ids)
        self.failures, self.transient, self.failed, self.reads = failures, transient, 0, 0

    def _busy(self) -> None:
        self.reads += 1
        if self.calls and (self.failures < 0 or self.failed < self.failures):
            self.failed += 1
            raise FeedError("HTTP 503 'Service temporarily unavailable'", transient=self.transient)

    async def list_targets(self) -> list[Target]:
        self._busy()
        return await super().list_targets()

    async def read_target(self, target_id: str) -> Target | None:
        self._busy()
        return await super().read_target(target_id)


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "j.sqlite3", profile="test", operator=Operator("op", "host"))


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """The backoff's shape kept, its seconds made hundredths."""
    monkeypatch.setattr(read_retry, "BACKOFF_S", 0.005)
    monkeypatch.setattr(read_retry, "BACKOFF_CAP_S", 0.02)


def stop_all(ids: list[str]) -> Plan:
    items = tuple(
        PlanItem("busy", i, f"name-{i}", TargetKind.ALGORITHM, Action(ActionKind.STOP)) for i in ids
    )
    return Plan(items, "stop all", "selection")


@pytest.mark.parametrize("ids", [["1"], ["1", "2", "3", "4", "5"]], ids=["read", "list"])
async def test_a_reread_answered_503_twice_is_tried_again_and_verifies(
    journal: Journal, ids: list[str]
) -> None:
    """One target is read alone, five by the list: both go again."""
    venue = BusyAfterStops(ids, 2)
    report = await quick(Dispatcher({"busy": venue}, journal)).run(stop_all(ids))
    assert all(r.verified for r in report.results.values()), report.summary()
    assert venue.failed == 2


async def test_a_reread_failing_in_a_way_that_will_not_change_is_read_once(
    journal: Journal,
) -> None:
    venue = BusyAfterStops(["1", "2", "3", "4"], -1, transient=False)
    report = await quick(Dispatcher({"busy": venue}, journal)).run(stop_all(["1", "2", "3", "4"]))
    assert not any(r.verified for r in report.results.values())
    assert venue.failed == 1
    verify = [e for e in journal.entries() if e.kind == "verify"]
    assert verify[0].message == "re-read failed: HTTP 503 'Service temporarily unavailable'"


async def test_a_venue_busy_for_the_whole_window_is_not_verified_and_says_its_tries(
    journal: Journal,
) -> None:
    venue = BusyAfterStops(["1", "2", "3", "4"], -1)
    dispatcher = quick(Dispatcher({"busy": venue}, journal, read_retry_s=0.2))
    report = await dispatcher.run(stop_all(["1", "2", "3", "4"]))
    assert not any(r.verified for r in report.results.values())
    assert venue.failed > 2
    verify = [e for e in journal.entries() if e.kind == "verify"]
    assert verify[0].message is not None
    assert f"(tried {venue.failed} times over " in verify[0].message


class HangsAfterStops(FakeClient):
    """A venue whose reads, once a stop came, fail only after their whole timeout."""

    def __init__(self, ids: list[str]) -> None:
        super().__init__("busy", ids)
        self.settings = dataclasses.replace(self.settings, request_timeout_s=0.05)
        self.reads_after = 0

    async def list_targets(self) -> list[Target]:
        if self.calls:
            self.reads_after += 1
            await asyncio.sleep(self.settings.request_timeout_s)  # the venue, silent
            raise FeedError("no answer within 0.05 s", transient=True)
        return await super().list_targets()


async def test_a_reread_that_took_its_whole_timeout_is_not_tried_again(
    journal: Journal,
) -> None:
    """A venue that does not answer would hold the report for every try."""
    venue = HangsAfterStops(["1", "2", "3", "4"])
    report = await quick(Dispatcher({"busy": venue}, journal)).run(stop_all(["1", "2", "3", "4"]))
    assert not any(r.verified for r in report.results.values())
    assert venue.reads_after == 1
