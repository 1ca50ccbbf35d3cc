"""The headless runner against the simulator: a schedule ahead of the clock runs, its
targets are verified stopped, and the webhook gets the report."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

from console.automation.headless import run_headless
from console.core.model import State
from console.sim.server import SimServer
from tests.automation.support import ManualClock, alerter_for, make_runner, make_session, webhook


async def test_automate_runs_a_schedule_and_the_webhook_gets_the_report(
    sim: SimServer, tmp_path: Path
) -> None:
    session = make_session(sim, tmp_path, ("finradar",))
    async with webhook() as hook:
        clock = ManualClock(time.time())
        at = (int(clock() // 60) + 1) * 60
        hhmm = datetime.fromtimestamp(at, UTC).strftime("%H:%M")
        runner = make_runner(session, {"schedules": [{
            "name": "close", "at": hhmm, "scope": {"venue": "finradar", "kind": "sniper"},
        }]}, clock, alerter_for(hook.url("tok-123456"), clock))  # fmt: skip
        stop = asyncio.Event()
        task = asyncio.create_task(run_headless(session, runner, stop, interval_s=0.05))
        try:
            clock.now = at  # the schedule is due on the runner's next tick
            await hook.wait_for(1, timeout=30)
            assert hook.bodies[0]["title"] == "[sim] schedule:close: ALL HALTED"
            stop.set()
            assert await task == 0
            [record] = runner.records
            assert record.all_verified and record.planned > 0
            rows = session.journal.entries(batch_id=record.batch_id, kind="verify")
            assert rows and {r.state for r in rows} == {State.STOPPED.value}
            assert not runner.active  # the lock was released on the way out
        finally:
            stop.set()
            await task
            await session.aclose()
