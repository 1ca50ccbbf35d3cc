"""The kill never calls more than it knows (issue 11, the hostile tester's second round).

Over loopback against the simulator: a call still waiting for its turn at the dispatch
deadline was never sent (*failed*, not *uncertain* "sent"); a venue that cannot report
pause state is halted by its answer only, never *verified* (Joyride's ``noop_pauses``
admin knob: it answers counts and pauses nothing); a target that starts after the plan
was frozen is named by the kill's re-read, journaled, and keeps the verdict from ALL
HALTED. Each fails on the code before.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from console.cli.main import main
from console.config import write_profile_files
from console.core.journal import Journal
from console.core.kill import KillPlan, KillScope, build_kill_plan
from console.core.model import OutcomeKind
from console.core.ports import RateLimit
from console.core.session import Session, SessionOptions
from console.sim.server import SimServer
from console.venues.registry import session_for
from tests.support import settings_for, sim_admin


def _session(
    sim: SimServer, tmp_path: Path, api: str, *, stops: RateLimit | None = None, **options: float
) -> Session:
    journal = Journal(tmp_path / "journal.sqlite3", profile="sim")
    limits = {"rate_limits": {"trading": stops}} if stops else {}
    settings = [settings_for(sim, api, **limits)]
    return session_for(SessionOptions(profile="sim", label="SIM", **options), settings, journal)


async def test_calls_still_waiting_for_the_pacer_at_the_deadline_are_failed_not_sent(
    sim: SimServer, tmp_path: Path
) -> None:
    # Five stops per ten minutes: five leave, the rest wait in x3algo's pacer when the
    # 3 s dispatch deadline passes. They never reached the venue: the report must not
    # call them "sent, but no answer" (uncertain), as it did for 64 of them.
    session = _session(sim, tmp_path, "x3algo", stops=RateLimit(5, 600.0), dispatch_deadline_s=3.0)
    try:
        assert await session.refresh() == {}
        kp = build_kill_plan(session.store, session.clients)
        assert len(kp.plan) > 5
        report = await session.dispatcher.run(kp.plan)
        kinds = [r.outcome.kind for r in report.results.values()]
        assert OutcomeKind.UNCERTAIN not in kinds, report.summary()
        unsent = [r for r in report.results.values() if r.outcome.kind is OutcomeKind.FAILED]
        assert len(unsent) == len(kp.plan) - 5
        assert all("not sent" in r.outcome.message for r in unsent)
        assert all("nothing reached the venue" in r.outcome.message for r in unsent)
        running = {*sim_admin(sim, "x3algo", "ids", status="active"),
                   *sim_admin(sim, "x3algo", "ids", status="paused")}  # fmt: skip
        assert {r.item.target_id for r in unsent} <= running  # truly never sent
    finally:
        await session.aclose()


def test_joyride_answering_counts_without_pausing_is_never_called_verified(
    sim: SimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sim_admin(sim, "joyride", "noop_pauses", on=True)  # answers db_updated, pauses nothing
    venues = [e for e in sim.venue_entries() if e["api"] == "joyride"]
    path = write_profile_files(tmp_path, profile="sim", label="SIM", color="warning",
                               venues=venues)  # fmt: skip
    code = main(["--config", str(path), "kill", "--yes", "--json"])
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    summary, results = lines[-1], lines[:-1]
    assert results and code == 14, summary  # halted by the venue's answer only
    assert summary["all_verified"] is False and summary["verdict"] == "halted_by_answer"
    assert summary["by_answer_only"] == len(results)
    assert all(r["verified"] is False and r["by_answer"] is True for r in results)
    assert "by the venue's answer only" in summary["summary"]
    for r in results:  # the venue really paused nothing
        assert sim_admin(sim, "joyride", "peek", expiration=int(r["target"]))["db_paused"] == 0

    code = main(["--config", str(path), "kill", "--yes"])
    out = capsys.readouterr().out
    assert code == 14
    assert "ALL HALTED" not in out
    assert f"HALTED — {len(results)} by the venue's answer only" in out
    assert "BY ANSWER ONLY: joyride" in out


async def _plan_then_a_late_start(sim: SimServer, session: Session) -> tuple[KillPlan, str]:
    """x3algo's kill planned, then a stopped algorithm started (not in the plan)."""
    assert await session.refresh() == {}
    kp = build_kill_plan(session.store, session.clients, scope=KillScope(venue="x3algo"))
    late = next(i for i in sim_admin(sim, "x3algo", "ids", status="stopped"))
    assert late not in {i.target_id for i in kp.plan.items}
    sim_admin(sim, "x3algo", "set_status", id=late, status="active")  # after the plan
    return kp, late


async def test_a_target_started_after_the_plan_keeps_the_kill_from_all_halted(
    sim: SimServer, tmp_path: Path
) -> None:
    from console.cli.kill import EXIT_APPEARED, _exit_code, _verdict, headline

    session = _session(sim, tmp_path, "x3algo")
    try:
        kp, late = await _plan_then_a_late_start(sim, session)
        report = await session.dispatcher.run(kp.plan)
        assert report.all_verified, report.summary()  # what was planned is halted
        assert [t.id for t in report.appeared["x3algo"]] == [late]
        assert _verdict(report, kp) == "appeared"
        assert _exit_code(report, kp, None) == EXIT_APPEARED
        assert "ALL HALTED" not in headline(report, kp)
        notes = [e for e in session.journal.entries(batch_id=report.batch_id) if e.kind == "note"]
        assert len(notes) == 1 and late in (notes[0].message or "")
    finally:
        await session.aclose()


async def test_the_appeared_note_is_journaled_when_the_batch_is_named_as_a_hub_names_it(
    sim: SimServer, tmp_path: Path
) -> None:
    session = _session(sim, tmp_path, "x3algo")
    try:
        kp, late = await _plan_then_a_late_start(sim, session)
        report = await session.dispatcher.run(kp.plan, batch_id="b" * 32)  # a hub's kill
        notes = [e for e in session.journal.entries(batch_id="b" * 32) if e.kind == "note"]
        assert len(notes) == 1 and late in (notes[0].message or "")
        assert [t.id for t in report.appeared["x3algo"]] == [late]
    finally:
        await session.aclose()


def test_a_wait_after_the_request_left_never_makes_it_not_sent() -> None:
    from console.core.turns import begin_call, waiting_turn

    turn = begin_call()
    with waiting_turn():  # the pacer before the request: it left after this
        pass
    try:
        with waiting_turn():  # a re-read settling the call waits behind the same pacer
            raise TimeoutError  # the deadline cuts that wait
    except TimeoutError:
        pass
    assert turn.left and not turn.waiting  # sent: uncertain, never "not sent"
