"""A kill of everything re-reads the venues it planned nothing on, too.

Over loopback against the simulator (x3algo with nothing running when the plan is
frozen, FinRadar with targets to stop): an x3algo algorithm started after the plan is
named by the kill's re-read (APPEARED, journaled), as on a venue with planned calls —
before, a venue with no planned call was never read again and the kill said ALL HALTED;
and when that venue cannot be read after the kill, the report says so (NOT RE-READ)
and never ALL HALTED. Each fails on the code before.
"""

from __future__ import annotations

from pathlib import Path

from console.cli.kill import (
    EXIT_APPEARED,
    EXIT_UNCERTAIN,
    _exit_code,
    _verdict,
    headline,
    report_problems,
)
from console.core.journal import Journal
from console.core.kill import KillPlan, build_kill_plan
from console.core.session import Session, SessionOptions
from console.sim.server import SimServer
from console.venues.registry import session_for
from tests.support import set_knobs, settings_for, sim_admin


def _session(sim: SimServer, tmp_path: Path, finradar_page: int = 200) -> Session:
    journal = Journal(tmp_path / "journal.sqlite3", profile="sim")
    finradar = settings_for(sim, "finradar", options={"page_size": finradar_page})
    settings = [finradar, settings_for(sim, "x3algo")]
    return session_for(SessionOptions(profile="sim", label="SIM"), settings, journal)


async def _plan_with_nothing_on_x3algo(sim: SimServer, session: Session) -> KillPlan:
    """Every x3algo algorithm stopped, then the kill of everything planned: its calls
    all go to FinRadar, and x3algo is in its scope with nothing planned."""
    drafts = set(sim_admin(sim, "x3algo", "ids", status="draft"))
    for algo in sim_admin(sim, "x3algo", "ids"):
        if algo not in drafts:
            sim_admin(sim, "x3algo", "set_status", id=algo, status="stopped")
    assert await session.refresh() == {}
    kp = build_kill_plan(session.store, session.clients)
    assert kp.complete and kp.plan.counts_by_venue().keys() == {"finradar"}
    return kp


async def test_a_target_started_on_a_venue_with_nothing_planned_is_named(
    sim: SimServer, tmp_path: Path
) -> None:
    session = _session(sim, tmp_path)
    try:
        kp = await _plan_with_nothing_on_x3algo(sim, session)
        late = sim_admin(sim, "x3algo", "ids", status="stopped")[0]
        sim_admin(sim, "x3algo", "set_status", id=late, status="active")  # after the plan
        report = await session.dispatcher.run(kp.plan)
        assert report.all_verified, report.summary()  # what was planned is halted
        assert [t.id for t in report.appeared["x3algo"]] == [late]
        assert report.unread == {}
        assert _verdict(report, kp) == "appeared"
        assert _exit_code(report, kp, None) == EXIT_APPEARED
        assert "ALL HALTED" not in headline(report, kp)
        notes = [e for e in session.journal.entries(batch_id=report.batch_id) if e.kind == "note"]
        assert len(notes) == 1 and late in (notes[0].message or "")
        assert notes[0].venue == "x3algo"
    finally:
        await session.aclose()


async def test_a_venue_with_nothing_planned_that_cannot_be_re_read_is_never_all_halted(
    sim: SimServer, tmp_path: Path
) -> None:
    session = _session(sim, tmp_path)
    try:
        kp = await _plan_with_nothing_on_x3algo(sim, session)
        set_knobs(sim, "x3algo", list_body="{}")  # after the plan: its list is unreadable
        report = await session.dispatcher.run(kp.plan)
        assert all(r.verified for r in report.results.values())  # FinRadar: all halted
        assert list(report.unread) == ["x3algo"], report.summary()
        assert not report.all_halted and not report.all_verified
        assert "1 venue(s) NOT RE-READ after the kill" in report.summary()
        assert _verdict(report, kp) == "needs_attention"
        assert headline(report, kp) == "NEEDS ATTENTION"
        assert _exit_code(report, kp, None) == EXIT_UNCERTAIN
        [(_badge, line)] = [p for p in report_problems(report) if p[0] == "NOT RE-READ"]
        assert line.startswith("x3algo: its list could not be read whole after the kill (")
        assert "check x3algo itself, or run the kill again" in line
        notes = [e for e in session.journal.entries(batch_id=report.batch_id) if e.kind == "note"]
        assert [n.venue for n in notes] == ["x3algo"]
        assert "not known" in (notes[0].message or "")
    finally:
        await session.aclose()


async def test_a_planned_venue_read_only_in_part_after_the_kill_is_not_re_read_whole(
    sim: SimServer, tmp_path: Path
) -> None:
    session = _session(sim, tmp_path, finradar_page=5)
    try:
        kp = await _plan_with_nothing_on_x3algo(sim, session)
        set_knobs(sim, "finradar", vanish_mid_read=True)  # its list moves on every read
        report = await session.dispatcher.run(kp.plan)
        assert report.unread["finradar"].startswith("INCOMPLETE: "), report.unread
        assert "x3algo" not in report.unread and not report.all_halted
        assert _verdict(report, kp) == "needs_attention"
    finally:
        await session.aclose()
