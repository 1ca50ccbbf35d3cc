"""What automation decides without sending anything is in the journal: a skip (who
skipped which run, and why) and a guard that only alerts (the values that fired it)
are ``note`` rows in the hash chain, beside the event log."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path

from console.core.journal_rows import iso_ms
from console.core.model import State
from console.sim.server import SimServer
from tests.automation.support import ManualClock, make_runner, make_session


async def test_a_skip_is_journaled_with_who_and_why_when_decided_and_when_passed_over(
    sim: SimServer, tmp_path: Path
) -> None:
    session = make_session(sim, tmp_path, ("finradar",))
    try:
        await session.refresh()
        clock = ManualClock(time.time())
        at = float((int(clock() // 60) + 2) * 60)
        hhmm = datetime.fromtimestamp(at, UTC).strftime("%H:%M")
        runner = make_runner(session, {"schedules": [{
            "name": "nvda", "at": hhmm, "scope": {"venue": "finradar", "attrs": {"ticker": "NVDA"}},
        }]}, clock)  # fmt: skip
        assert runner.skip_next("nvda", "alice@desk", "earnings call running late") is not None
        clock.now = at + 1
        assert await runner.tick() == []
        notes = session.journal.entries()
        assert [(n.kind, n.action) for n in notes] == [("note", "skip"), ("note", "skipped")]
        for note in notes:
            assert note.operator == "alice@desk"
            assert note.reason == "earnings call running late"
            assert (note.venue, note.target_id, note.target_name) == ("finradar", "schedule:nvda",
                                                                      "nvda")  # fmt: skip
            assert iso_ms(int(at * 1000)) in (note.message or "")
            assert json.loads(note.options) == {
                "schedule": "nvda",
                "run_at": iso_ms(int(at * 1000)),
            }
        assert "will be skipped" in (notes[0].message or "")
        assert "was skipped" in (notes[1].message or "")
        assert session.journal.interrupted() == []
        assert session.journal.verify_chain().ok
        assert [e["event"] for e in runner.events.read()] == ["skip", "skipped"]  # kept too
    finally:
        await session.aclose()


async def test_an_alert_only_guard_is_journaled_with_the_values_that_fired_it(
    sim: SimServer, tmp_path: Path
) -> None:
    session = make_session(sim, tmp_path, ("pipai",))
    try:
        await session.refresh()
        target = next(t for t in session.store.targets("pipai") if t.state is State.RUNNING)
        clock = ManualClock(time.time())
        runner = make_runner(session, {"guards": [{
            "name": "too-many", "rule": "positions_over", "threshold": 0,
            "scope": {"venue": "pipai", "ids": [target.id]},
        }]}, clock)  # fmt: skip
        assert await runner.tick() == []  # alert only: nothing sent
        assert await runner.tick() == []  # once per crossing
        [note] = session.journal.entries()
        assert note.kind == "note" and note.action == "alert"
        assert note.operator == "guard:too-many"
        assert (note.venue, note.target_id, note.target_name) == ("pipai", target.id, target.name)
        assert "fired on" in (note.reason or "") and "threshold=0" in (note.reason or "")
        assert "open_positions=" in (note.message or "") and "threshold=0" in (note.message or "")
        options = json.loads(note.options)
        assert options["rule"] == "positions_over" and options["threshold"] == 0
        assert options["values"]["threshold"] == 0 and "open_positions" in options["values"]
        assert session.journal.interrupted() == []
        assert session.journal.verify_chain().ok
        [event] = [e for e in runner.events.read() if e["event"] == "guard"]
        assert event["values"] == options["values"]
        assert session.store.get("pipai", target.id).state is State.RUNNING  # type: ignore[union-attr]
    finally:
        await session.aclose()
