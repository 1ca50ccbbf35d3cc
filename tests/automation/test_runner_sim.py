"""The runner against the real simulator over loopback, on a clock the test moves."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

from console.automation.runner_lock import acting_runner
from console.core.model import State, TargetKind
from console.sim.server import SimServer
from tests.automation.support import ManualClock, make_runner, make_session


def _minute_ahead(now: float, minutes: int) -> tuple[str, float]:
    """``HH:MM`` (UTC) a few whole minutes after ``now``, and its UNIX time."""
    at = (int(now // 60) + minutes) * 60
    return datetime.fromtimestamp(at, UTC).strftime("%H:%M"), float(at)


async def test_a_schedule_fires_at_its_time_and_stops_exactly_its_scope(
    sim: SimServer, tmp_path: Path
) -> None:
    session = make_session(sim, tmp_path, ("x3algo", "finradar"))
    try:
        assert await session.refresh() == {}
        clock = ManualClock(time.time())
        hhmm, at = _minute_ahead(clock(), 3)
        scope = {"venue": "x3algo", "name": "*mean reversion*"}
        runner = make_runner(session, {"schedules": [{
            "name": "close", "at": hhmm, "tz": "UTC", "scope": scope, "reason": "market close",
        }]}, clock)  # fmt: skip
        before = {t.key: t.state for t in session.store.all_targets()}
        in_scope = {
            t.key for t in session.store.targets("x3algo") if "mean reversion" in t.name.lower()
        }
        assert in_scope and runner.next_run() == ("close", at)

        clock.now = at - 1
        assert await runner.tick() == []
        clock.now = at
        [record] = await runner.tick()
        assert await runner.tick() == []  # once

        assert record.who == "schedule:close" and record.all_verified, record.failures
        await session.refresh()
        planned = set()
        for entry in session.journal.entries(batch_id=record.batch_id):
            assert entry.operator == "schedule:close"
            assert entry.reason == "market close"
            planned.add((entry.venue, entry.target_id))
        assert planned and planned <= in_scope
        for key, state in before.items():
            now_state = session.store.get(*key).state  # type: ignore[union-attr]
            if key in in_scope:
                assert now_state.halted, key
            else:
                assert now_state == state, key  # nothing outside the scope moved
        assert runner.next_run() == ("close", at + 86400)
    finally:
        await session.aclose()


async def test_skip_next_skips_one_run_and_records_who_and_why(
    sim: SimServer, tmp_path: Path
) -> None:
    session = make_session(sim, tmp_path, ("finradar",))
    try:
        await session.refresh()
        clock = ManualClock(time.time())
        hhmm, at = _minute_ahead(clock(), 2)
        runner = make_runner(session, {"schedules": [{
            "name": "nvda", "at": hhmm, "scope": {"venue": "finradar", "attrs": {"ticker": "NVDA"}},
        }]}, clock)  # fmt: skip
        skip = runner.skip_next("nvda", "alice@desk", "earnings call running late")
        assert skip is not None and skip.at == at
        clock.now = at + 1
        assert await runner.tick() == []
        events = runner.events.read()
        assert [e["event"] for e in events] == ["skip", "skipped"]
        assert events[0]["who"] == "alice@desk" and events[0]["why"] == "earnings call running late"
        assert {e.kind for e in session.journal.entries()} == {"note"}  # nothing was sent
        assert runner.next_run() == ("nvda", at + 86400)
        clock.now = at + 86400
        [record] = await runner.tick()  # the run after the skipped one happens
        assert record.all_verified and record.planned >= 1
    finally:
        await session.aclose()


async def test_pre_expiry_pauses_each_expiration_n_minutes_before_it_expires(
    sim: SimServer, tmp_path: Path
) -> None:
    session = make_session(sim, tmp_path, ("joyride",))
    try:
        await session.refresh()
        expirations = sorted(
            (t for t in session.store.targets("joyride") if t.kind is TargetKind.EXPIRATION),
            key=lambda t: float(t.attrs["expiration"]),  # type: ignore[arg-type]
        )
        live = [t for t in expirations if float(t.attrs["expiration"]) > time.time() + 3600]  # type: ignore[arg-type]
        assert len(live) >= 2
        first, second = live[0], live[1]
        clock = ManualClock(time.time())
        runner = make_runner(session, {"schedules": [{
            "name": "pre-expiry", "before_expiry": 30, "action": "pause",
            "scope": {"kind": "expiration"},
        }]}, clock)  # fmt: skip
        due_first = float(first.attrs["expiration"]) - 1800  # type: ignore[arg-type]
        clock.now = due_first - 1
        assert all(r.planned == 0 for r in await runner.tick())
        clock.now = due_first
        [record] = await runner.tick()
        # Joyride cannot be re-read: its pauses are halted by its answer only
        assert record.who == "schedule:pre-expiry" and record.ok and record.by_answer, record
        rows = session.journal.entries(batch_id=record.batch_id)
        assert {r.target_id for r in rows} == {first.id}
        assert {r.action for r in rows} == {"pause"}
        assert session.store.effective_state(session.store.get("joyride", first.id)) is State.PAUSED  # type: ignore[arg-type]
        assert await runner.tick() == []  # once per expiration
        due_second = float(second.attrs["expiration"]) - 1800  # type: ignore[arg-type]
        assert runner.next_run() == ("pre-expiry", due_second)
        clock.now = due_second
        [record2] = await runner.tick()
        assert {r.target_id for r in session.journal.entries(batch_id=record2.batch_id)} == {
            second.id
        }
    finally:
        await session.aclose()


async def test_a_guard_that_stops_acts_once_and_journals_the_values(
    sim: SimServer, tmp_path: Path
) -> None:
    session = make_session(sim, tmp_path, ("pipai",))
    try:
        await session.refresh()
        running = [t for t in session.store.targets("pipai") if t.state is State.RUNNING]
        target = running[0]
        clock = ManualClock(time.time())
        runner = make_runner(session, {"guards": [{
            "name": "too-many", "rule": "positions_over", "threshold": 0, "action": "stop",
            "scope": {"venue": "pipai", "ids": [target.id]},
        }]}, clock)  # fmt: skip
        records = await runner.tick()
        assert [r.who for r in records] == ["guard:too-many"]
        rows = session.journal.entries(batch_id=records[0].batch_id)
        assert {r.operator for r in rows} == {"guard:too-many"}
        assert "open_positions=" in (rows[0].reason or "") and "threshold=0" in (
            rows[0].reason or ""
        )
        assert records[0].all_verified, records[0].failures
        assert await runner.tick() == []  # no second firing for the same crossing
        [event] = [e for e in runner.events.read() if e["event"] == "guard"]
        assert event["values"]["threshold"] == 0 and event["target"] == target.id
    finally:
        await session.aclose()


async def test_the_dead_man_timeline(sim: SimServer, tmp_path: Path) -> None:
    session = make_session(sim, tmp_path, ("finradar",))
    try:
        await session.refresh()
        clock = ManualClock(time.time())
        start = clock()
        runner = make_runner(session, {"deadman": {
            "enabled": True, "alert_after": 10, "kill_after": 5,
            "scope": {"venue": "finradar"},
        }}, clock)  # fmt: skip
        clock.now = start + 9 * 60
        assert await runner.tick() == []
        runner.check_in("bob@desk", "heartbeat")  # at 9 min: the silence starts again
        assert runner.checkins.last() is not None
        clock.now = start + 18 * 60  # 9 min after the check-in: nothing yet
        assert await runner.tick() == []
        clock.now = start + 19 * 60  # 10 min after: the alert, once
        assert await runner.tick() == []
        assert [e["event"] for e in runner.events.read()] == ["deadman_alert"]
        assert await runner.tick() == []
        clock.now = start + 23 * 60 + 59
        assert await runner.tick() == []
        assert session.journal.entries() == []
        clock.now = start + 24 * 60  # 5 min after the alert: the kill of its scope
        [record] = await runner.tick()
        assert record.who == "deadman" and record.all_verified, record.failures
        assert {e.operator for e in session.journal.entries()} == {"deadman"}
        assert {e.venue for e in session.journal.entries()} == {"finradar"}
        assert await runner.tick() == []  # once per silence
    finally:
        await session.aclose()


async def test_two_runners_on_one_profile_never_both_act(sim: SimServer, tmp_path: Path) -> None:
    session = make_session(sim, tmp_path, ("finradar",))
    try:
        await session.refresh()
        clock = ManualClock(time.time())
        hhmm, at = _minute_ahead(clock(), 2)
        raw = {"schedules": [{"name": "all", "at": hhmm, "scope": {"venue": "finradar"}}]}
        first, second = make_runner(session, raw, clock), make_runner(session, raw, clock)
        assert first.claim() and not second.claim()
        assert second.holder and "pid" in second.holder
        clock.now = at
        assert await second.tick() == []
        [record] = await first.tick()
        assert record.all_verified
        journal_path = tmp_path / "journal.sqlite3"
        assert acting_runner(journal_path, "sim") == second.holder
        status = json.loads(json.dumps(second.status()))  # what `automation --json` prints
        assert status["active"] is False and status["standby_because"] == second.holder
        assert [r["who"] for r in status["runs"]] == ["schedule:all"]  # from the event log
        assert status["schedules"][0]["next_run_in_s"] == 86400
        first.release()
        assert acting_runner(journal_path, "sim") is None
        assert second.claim() and second.status()["active"]
        second.release()
    finally:
        await session.aclose()


async def test_a_schedule_whose_venue_is_down_says_so(sim: SimServer, tmp_path: Path) -> None:
    session = make_session(sim, tmp_path, ("finradar",))
    try:
        # never refreshed: the venue never listed, as when it is down from the start
        clock = ManualClock(time.time())
        hhmm, at = _minute_ahead(clock(), 1)
        runner = make_runner(session, {"schedules": [{
            "name": "close", "at": hhmm, "scope": {"venue": "finradar"},
        }]}, clock)  # fmt: skip
        clock.now = at
        [record] = await runner.tick()
        assert not record.ok and record.planned == 0
        assert any(p.startswith("UNREACHABLE: finradar") for p in record.problems)
    finally:
        await session.aclose()
