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
