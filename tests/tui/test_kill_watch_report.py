"""The kill report and the sticky watch after an emergency stop (issue 12, items 2–5).

A target that revives makes the report not halted and ``r`` stops it again; a venue
that comes back is re-read by itself (a read, journaled, nothing re-sent); quitting
during the watch asks first; the report's and the audit's essential columns show at
80 and 100 columns.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from console.core.model import Outcome, OutcomeKind, State
from console.core.session import Session
from console.tui.app import ConsoleApp
from console.tui.kill.columns import Col, fit
from console.tui.kill.progress import KillProgressScreen
from console.tui.screens.audit import AuditScreen
from console.tui.screens.quit import QuitScreen
from console.venues.kit.base import FeedStatus
from tests.tui.fakes import FakeClock, FakeVenue
from tests.tui.pilot_support import journal, wait_for
from tests.tui.test_kill_support import (
    confirm_kill,
    fake_kill_session,
    kill_done,
    make_app,
    open_kill,
    shown,
)

# isort: split
from tests.tui.test_kill_support import kill_session, kill_venues  # noqa: F401 (fixtures)

SIZE = (120, 40)


def sent(venues: dict[str, FakeVenue]) -> list[tuple[str, str]]:
    return [(name, tid) for name, v in venues.items() for tid, _ in v.executed]


async def killed(pilot: Pilot[None], app: ConsoleApp) -> KillProgressScreen:
    """Every venue fed, then K, the label, Enter, and the kill's end."""
    await wait_for(pilot, lambda: all(app.state.store.targets(v) for v in app.state.venues))
    await open_kill(pilot, app)
    progress = await confirm_kill(pilot, app, "DEMO")
    await kill_done(pilot, app)
    return progress


def summary(progress: KillProgressScreen) -> str:
    return shown(progress.query_one("#kill-summary", Static))


def revive(venue: FakeVenue, target_id: str) -> None:
    """Someone restarts a halted target behind the console's back."""
    target = venue.targets[target_id]
    venue.targets[target_id] = replace(target, state=State.RUNNING, raw_status="ACTIVE")
    venue.poke()


# ----- item 2: a revival is not ALL HALTED, and r stops it again ---------------------------
async def test_a_revived_target_makes_the_report_need_attention_and_r_stops_it_again(
    session: Session, venues: dict[str, FakeVenue]
) -> None:
    app = make_app(session, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        progress = await killed(pilot, app)
        run = app.kill.run
        assert run is not None and run.plan_halted
        await wait_for(pilot, lambda: " HALTED — " in summary(progress))
        before = sent(venues)
        revive(venues["finradar"], "n1")
        await wait_for(pilot, lambda: bool(run.revivals), "the sticky watch to see it")
        assert not run.plan_halted
        await wait_for(pilot, lambda: "NEEDS ATTENTION" in summary(progress), "the headline")
        assert "1 REVIVED" in summary(progress) and "ALL HALTED" not in summary(progress)
        await pilot.press("r")
        assert progress.pending is not None
        assert [(i.venue, i.target_id) for i in progress.pending.items] == [("finradar", "n1")]
        assert "REVIVED" in shown(progress.query_one("#kill-notes", Static))
        await pilot.press("y")
        await wait_for(pilot, lambda: len(run.reports) == 2 and not app.kill.active, "re-stop")
        assert sent(venues) == [*before, ("finradar", "n1")]
        assert venues["finradar"].targets["n1"].state is State.STOPPED
        assert run.plan_halted, run.summary()
        await wait_for(pilot, lambda: " HALTED — " in summary(progress))
        assert "revived and re-stopped" in summary(progress)
        # Journaled in the kill's own batch: the report names it, u shows the whole kill.
        (kill_batch,) = run.batch_ids
        n1 = [e for e in journal(app) if e.target_id == "n1"]
        assert [(e.kind, e.batch_id) for e in n1 if e.kind == "intent"] == [
            ("intent", kill_batch),
            ("intent", kill_batch),
        ]
        assert f"kill batch {kill_batch[:8]}" in shown(progress.query_one("#kill-notes", Static))
        await pilot.press("u")
        await wait_for(pilot, lambda: isinstance(app.screen, AuditScreen), "the audit screen")
        assert isinstance(app.screen, AuditScreen)
        table = app.screen.query_one("#audit-table", DataTable)
        want = len([e for e in journal(app) if e.batch_id == kill_batch])
        await wait_for(pilot, lambda: table.row_count == want, "the kill's rows")
        await pilot.press("escape")
        # Watched again: a second revival is flagged again.
        revive(venues["finradar"], "n1")
        await wait_for(pilot, lambda: len(run.revivals) == 2, "the second revival")
        assert not run.plan_halted


# ----- item 3: a venue that comes back is re-verified by itself ------------------------------
async def test_a_venue_that_comes_back_is_re_read_and_its_targets_verified_without_re_sending(
    session: Session, venues: dict[str, FakeVenue]
) -> None:
    x3 = venues["x3algo"]
    x3.fail["a1"] = Outcome(OutcomeKind.UNCERTAIN, "no answer within 10 s")
    app = make_app(session, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: all(session.store.targets(v) for v in session.venues))
        x3.down = "connection refused"
        x3.poke()
        await wait_for(
            pilot,
            lambda: app.kill.feeds.seen.get("x3algo") is FeedStatus.DOWN,
            "the console to see x3algo DOWN",
        )
        progress = await killed(pilot, app)
        run = app.kill.run
        assert run is not None
        doubtful = {k for k, r in run.results.items() if k[0] == "x3algo" and not r.verified}
        assert doubtful == {("x3algo", "a1"), ("x3algo", "a2")}
        assert run.results[("x3algo", "a1")].outcome.kind is OutcomeKind.UNCERTAIN
        assert "NEEDS ATTENTION" in summary(progress)
        before = sent(venues)
        rows_before = len(journal(app))
        # The uncertain call did land; then the venue comes back.
        x3.targets["a1"] = replace(x3.targets["a1"], state=State.STOPPED, raw_status="stopped")
        x3.down = None
        x3.poke()
        await wait_for(pilot, lambda: bool(run.rechecks), "the automatic re-verification")
        assert all(run.results[k].verified for k in doubtful)
        assert run.results[("x3algo", "a1")].outcome.kind is OutcomeKind.UNCERTAIN  # as answered
        assert sent(venues) == before  # a read, never a re-send
        verifies = [e for e in journal(app)[rows_before:] if e.kind == "verify"]
        assert {e.target_id for e in verifies} == {"a1", "a2"}
        assert all("came back" in (e.message or "") and e.state == "stopped" for e in verifies)
        assert {e.batch_id for e in verifies} == {run.batch_ids[0]}
        assert run.plan_halted, run.summary()
        await wait_for(pilot, lambda: " HALTED — " in summary(progress), "the headline")
        assert "Re-verified: x3algo came back" in shown(progress.query_one("#kill-notes", Static))


# ----- item 4: quitting during the sticky watch asks --------------------------------------------
async def test_quitting_during_the_sticky_watch_asks_and_says_how_long_it_still_runs(
    session: Session,
) -> None:
    app = make_app(session, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        assert app.kill.quit_question() is None  # nothing running, no watch: q quits at once
        await killed(pilot, app)
        question = app.kill.quit_question()
        assert question is not None
        app.push_screen(question)
        await wait_for(pilot, lambda: bool(app.screen.query("#quit-watch")), "the question")
        assert isinstance(app.screen, QuitScreen)
        text = shown(app.screen.query_one("#quit-watch", Static))
        assert "the sticky watch still runs for 10 min: quit anyway?" in text.lower()
        await pilot.press("n")  # opens on "Keep running"
        assert not isinstance(app.screen, QuitScreen) and app.is_running


async def test_q_on_the_panels_during_the_sticky_watch_asks_before_quitting(
    session: Session,
) -> None:
    app = make_app(session, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        await killed(pilot, app)
        await pilot.press("escape")  # back to the panels; the watch still runs
        await pilot.press("q")
        await wait_for(pilot, lambda: isinstance(app.screen, QuitScreen), "the question", rounds=40)
        await pilot.press("escape")
        assert app.is_running


# ----- item 5: the essential columns show at 80 and 100 columns --------------------------------
def rendered_rows(table: DataTable[object]) -> list[str]:
    """The table's lines as drawn on screen (the header first), cut at its width."""
    return [table.render_line(y).text for y in range(table.size.height)]


OUTCOMES = ("APPLIED", "ALREADY", "FAILED", "UNCERTAIN", "REJECTED", "NO ANSWER")
LONG_ID = "7f9c2b1e-4d3a-4b8e-9a61-2f0c5d8e7a13"


def with_real_ids(venues: dict[str, FakeVenue]) -> None:
    """x3algo algorithms as a real account has them: long names, UUIDs for ids; the
    first one's stop fails."""
    x3 = venues["x3algo"]
    a1 = x3.targets.pop("a1")
    x3.targets[LONG_ID] = replace(a1, id=LONG_ID, name="btc-grid-momentum-eu-session-v3")
    x3.fail[LONG_ID] = Outcome(OutcomeKind.FAILED, "HTTP 503: upstream unavailable, retry")


@pytest.mark.parametrize("size", [(80, 24), (100, 30)])
async def test_the_kill_report_shows_outcome_and_verified_without_scrolling(
    tmp_path: Path, clock: FakeClock, venues: dict[str, FakeVenue], size: tuple[int, int]
) -> None:
    with_real_ids(venues)
    session = fake_kill_session(tmp_path, clock, venues)
    app = make_app(session, clock=clock)
    async with app.run_test(size=size) as pilot:
        progress = await killed(pilot, app)
        table = progress.query_one("#kill-report", DataTable)
        await wait_for(
            pilot,
            lambda: table.row_count > 0 and "FAILED" in "".join(rendered_rows(table)),
            "the report's rows",
        )
        lines = rendered_rows(table)
        header, body = lines[0], [line for line in lines[1:] if line.strip()]
        for label in ("Target", "Action", "Outcome", "Verified"):
            assert label in header, (label, header)
        assert body
        for line in body:
            assert any(word in line for word in OUTCOMES), line
            assert "VERIFIED" in line or "by answer only" in line, line  # Joyride: no re-read
        assert "FAILED" in body[0] and "NOT VERIFIED" in body[0]  # what needs you first
        assert table.scroll_x == 0 and max(len(line.rstrip()) for line in lines) <= size[0]


@pytest.mark.parametrize("size", [(80, 24), (100, 30)])
async def test_the_audit_screen_shows_time_target_kind_and_result_without_scrolling(
    tmp_path: Path, clock: FakeClock, venues: dict[str, FakeVenue], size: tuple[int, int]
) -> None:
    with_real_ids(venues)
    session = fake_kill_session(tmp_path, clock, venues)
    app = make_app(session)  # real time: the journal stamps real time
    async with app.run_test(size=size) as pilot:
        await killed(pilot, app)
        await pilot.press("u")
        await wait_for(pilot, lambda: isinstance(app.screen, AuditScreen), "the audit screen")
        table = app.screen.query_one("#audit-table", DataTable)
        await wait_for(pilot, lambda: table.row_count > 0, "the journal's rows")
        lines = rendered_rows(table)
        header, body = lines[0], [line for line in lines[1:] if line.strip()]
        for label in ("Time", "Target", "Kind", "Result"):
            assert label in header, (label, header)
        assert body
        for line in body:
            assert any(kind in line for kind in ("intent", "outcome", "verify")), line
            assert any(word in line for word in (*OUTCOMES, "→ ", "intent")), line
        assert table.scroll_x == 0


def test_columns_give_way_by_priority_and_essentials_never_hide() -> None:
    cols = (
        Col("venue", priority=1, min_width=6),
        Col("target", min_width=10),
        Col("outcome", min_width=9),
        Col("message", priority=2, min_width=12),
    )
    natural = [10, 30, 9, 80]
    assert fit(cols, natural, 200) == [10, 30, 9, 80]  # the last may run off the edge
    assert fit(cols, natural, 69) == [10, 30, 9, 80]  # the message at its narrowest fits
    assert fit(cols, natural, 55) == [10, 30, 9, None]  # the message gives way first
    assert fit(cols, natural, 50) == [None, 30, 9, None]  # then the venue
    assert fit(cols, natural, 30) == [None, 17, 9, None]  # only then the target shrinks
    assert fit(cols, natural, 10) == [None, 10, 9, None]  # essentials never hide


async def test_a_watch_of_no_target_asks_nothing_on_quit(session: Session) -> None:
    """A kill that halted nothing (every target already halted) watches no target: quitting
    asked "It watches the 0 targets the emergency stop halted"."""
    app = make_app(session, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        await killed(pilot, app)
        keeper = app.kill.watch
        assert keeper is not None and keeper.active
        keeper.watch.keys = frozenset()  # as after a kill that halted no target
        assert app.kill.quit_question() is None


async def test_a_second_kill_keeps_watching_what_the_first_halted(
    session: Session, venues: dict[str, FakeVenue]
) -> None:
    """The first kill's targets are halted, so the second's plan holds only what ran
    again; its watch took the first's place and an earlier target's revival went
    unflagged (an independent FinRadar restarted after two kills)."""
    app = make_app(session, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        await killed(pilot, app)
        first = app.kill.watch
        assert first is not None
        earlier = first.watch.keys - {("finradar", "n1")}
        revive(venues["finradar"], "n1")  # runs again: the second kill halts it
        await wait_for(pilot, lambda: bool(app.kill.run and app.kill.run.revivals), "revival")
        await pilot.press("escape")
        await killed(pilot, app)
        run = app.kill.run
        assert run is not None
        replanned = {(i.venue, i.target_id) for i in run.kill.plan.items}
        assert ("finradar", "n1") in replanned
        only_earlier = earlier - replanned  # halted by the first kill, not in this plan
        second = app.kill.watch
        assert only_earlier and second is not None and second is not first
        assert only_earlier <= second.watch.keys
