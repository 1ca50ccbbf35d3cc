"""The emergency stop end to end from the keyboard, over loopback, against the simulator.

K → the frozen plan → type the label → Enter → every venue at once → the report; the
simulator is read back with fresh clients and the journal is checked row by row.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from textual.widgets import Static

from console.core.journal import Journal
from console.core.journal_rows import Intent
from console.core.model import Action, ActionKind, State
from console.sim.server import SimServer
from console.tui.kill.kill_modal import KillScreen
from console.tui.kill.progress import KillProgressScreen
from console.tui.screens.recovery import InterruptedScreen
from console.venues.registry import make_client
from tests.support import set_knobs, settings_for
from tests.tui.pilot_support import wait_for
from tests.tui.test_kill_support import (
    APIS,
    OPERATOR,
    confirm_kill,
    fed,
    kill_done,
    make_app,
    open_kill,
    shown,
    sim_session,
)

SIZE = (120, 40)


def record(app: Any) -> tuple[list[str], list[int]]:
    """Every notification's text and every bell, as they happen."""
    messages: list[str] = []
    rings: list[int] = []
    notify = app.notify

    def recording(message: str, **kwargs: Any) -> None:
        messages.append(message)
        notify(message, **kwargs)

    app.notify = recording
    app.bell = lambda: rings.append(1)
    return messages, rings


async def sim_states(sim: SimServer, api: str) -> dict[str, State]:
    client = make_client(settings_for(sim, api))
    try:
        return {t.id: t.state for t in await client.list_targets()}
    finally:
        await client.aclose()


async def test_kill_everything_from_the_keyboard_halts_verifies_and_journals_every_target(
    sim: SimServer, tmp_path: Path
) -> None:
    session = sim_session(sim, tmp_path)
    app = make_app(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: fed(session), "every venue's targets")
        modal = await open_kill(pilot, app)
        kp = modal.kp
        assert set(kp.counts_by_venue()) == set(APIS)
        await confirm_kill(pilot, app, "SIM")
        await kill_done(pilot, app)
        run = app.kill.run
        assert run.plan_halted, run.summary()
        joyride = kp.counts_by_venue()["joyride"]  # it cannot be re-read: by its answer only
        assert run.summary().startswith(
            f"halted {len(kp.plan) - joyride}/{len(kp.plan)} verified · {joyride} by the "
            "venue's answer only"
        )
        summary = shown(app.screen.query_one("#kill-summary", Static))
        assert f"HALTED — {joyride} by the venue's answer only" in summary
        assert "ALL HALTED" not in summary
        # Nothing failed: the toast sends the operator to the report, offering no retry
        # (it said "says what failed; r there retries it", and r had nothing to retry).
        said = [str(n.message) for n in app._notifications if "EMERGENCY STOP" in str(n.message)]
        assert said and said[-1].endswith("says what is not verified halted and why."), said
    for api in ("x3algo", "finradar"):
        planned = {i.target_id for i in kp.plan.items if i.venue == api}
        states = await sim_states(sim, api)
        assert {states[t] for t in planned} == {State.STOPPED}
    batch = run.reports[0].batch_id
    rows = Journal(tmp_path / "j.sqlite3", profile="test").entries(batch_id=batch)
    for kind in ("intent", "outcome", "verify"):
        assert sum(1 for r in rows if r.kind == kind) == len(kp.plan), kind
    assert {r.operator for r in rows} == {"alice"}


async def test_one_venue_down_during_the_kill_fails_there_and_the_others_complete(
    sim: SimServer, tmp_path: Path
) -> None:
    session = sim_session(sim, tmp_path)
    session.dispatcher.read_retry_s = 0.0  # down for good: its 503s not re-read for 10 s
    app = make_app(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: fed(session), "every venue's targets")
        modal = await open_kill(pilot, app)
        set_knobs(sim, "x3algo", down=True)  # after the plan is frozen
        await confirm_kill(pilot, app, "SIM")
        await kill_done(pilot, app)
        run = app.kill.run
        for (venue, _), result in run.results.items():
            if venue == "x3algo":
                assert result.outcome.kind.value in ("failed", "uncertain")
                assert not result.verified
            else:
                assert result.halted, (venue, result.outcome.message)
        assert len(run.results) == len(modal.kp.plan)
        counts = run.counts()["x3algo"]
        assert counts.failed + counts.uncertain == counts.planned and counts.verified == 0
        summary = shown(app.screen.query_one("#kill-summary", Static))
        assert "NEEDS ATTENTION" in summary and ("failed" in summary or "uncertain" in summary)
        retry = run.retry_plan()
        assert retry is not None and {i.venue for i in retry.items} == {"x3algo"}


async def test_stops_refused_with_429_show_as_going_again_then_land(
    sim: SimServer, tmp_path: Path
) -> None:
    """x3algo refuses every stop 429 asking 3 s: its counters say the refused calls go
    again (words and reverse video, not a colour); once x3algo takes calls, they land."""
    session = sim_session(sim, tmp_path)
    app = make_app(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: fed(session), "every venue's targets")
        await open_kill(pilot, app)
        set_knobs(sim, "x3algo", control_429=-1, retry_after="3")
        await confirm_kill(pilot, app, "SIM")
        counters = app.screen.query_one("#kill-counters", Static)
        await wait_for(pilot, lambda: "refused (429), again" in shown(counters), "the words")
        set_knobs(sim, "x3algo", control_429=0)
        await kill_done(pilot, app)
        run = app.kill.run
        assert run.plan_halted, run.summary()
        messages = [r.outcome.message for (v, _), r in run.results.items() if v == "x3algo"]
        assert messages and all("refused with 429" in m for m in messages), messages
        assert "refused (429)" not in shown(counters)  # a finished kill has no ETA column


async def test_a_second_K_during_a_kill_says_so_and_sends_nothing_more(
    sim: SimServer, tmp_path: Path
) -> None:
    session = sim_session(sim, tmp_path, control_timeout_s=5.0)
    app = make_app(session)
    messages, _ = record(app)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: fed(session), "every venue's targets")
        modal = await open_kill(pilot, app)
        # FinRadar holds its stops until released: the kill stays running, whatever the
        # machine's load (a 1 s latency let a loaded run end it before the keys came).
        set_knobs(sim, "finradar", hold_controls=True)
        await confirm_kill(pilot, app, "SIM")
        await wait_for(pilot, lambda: len(app.kill.run.results) > 0, "a first answer")
        assert app.kill.active
        await pilot.press("K")
        await pilot.press("K")
        assert app.kill.active, "the kill outlived both presses"
        assert isinstance(app.screen, KillProgressScreen)
        assert any("kill is already running" in m for m in messages)
        set_knobs(sim, "finradar", hold_controls=False)
        await kill_done(pilot, app)
    rows = Journal(tmp_path / "j.sqlite3", profile="test").entries()
    assert sum(1 for e in rows if e.kind == "intent") == len(modal.kp.plan)
    assert len({e.batch_id for e in rows}) == 1


async def test_the_sticky_watch_flags_a_target_restarted_behind_the_consoles_back(
    sim: SimServer, tmp_path: Path
) -> None:
    session = sim_session(sim, tmp_path, watch_minutes=5.0)
    app = make_app(session)
    messages, rings = record(app)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: fed(session), "every venue's targets")
        await open_kill(pilot, app)
        await confirm_kill(pilot, app, "SIM")
        await kill_done(pilot, app)
        assert app.kill.watch is not None and app.kill.watch.active
        victim = next(i for i in app.kill.run.kill.plan.items if i.venue == "x3algo")
        client = make_client(settings_for(sim, "x3algo"))
        try:
            outcome = await client.execute(victim.target_id, Action(ActionKind.START))
        finally:
            await client.aclose()
        assert outcome.ok, outcome.message
        await wait_for(pilot, lambda: bool(app.kill.run.revivals), "the revival", rounds=800)
        assert [r.target.id for r in app.kill.run.revivals] == [victim.target_id]
        assert rings, "the bell rang"
        assert any(m.startswith("REVIVED") and victim.target_name in m for m in messages)
        notes = app.screen.query_one("#kill-notes", Static)
        await wait_for(pilot, lambda: "REVIVED" in shown(notes), "REVIVED on screen")
        assert victim.target_name in shown(notes)
        assert "REVIVED" in app.kill.run.summary()
        assert not app.kill.run.restopped  # auto re-stop is off by default


async def test_an_interrupted_kill_is_offered_and_verified_on_the_next_start(
    sim: SimServer, tmp_path: Path
) -> None:
    client = make_client(settings_for(sim, "x3algo"))
    try:
        targets = (await client.list_targets())[:3]
    finally:
        await client.aclose()
    journal = Journal(tmp_path / "j.sqlite3", profile="test", operator=OPERATOR)
    batch = uuid.uuid4().hex
    journal.intend_many(
        Intent(uuid.uuid4().hex, batch, "x3algo", t.id, t.name, Action(ActionKind.STOP))
        for t in targets
    )
    assert len(journal.interrupted()) == 3
    session = sim_session(sim, tmp_path, journal=journal)
    app = make_app(session)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, InterruptedScreen), "the offer")
        assert "3 calls were cut short" in shown(app.screen.query_one("#interrupted-why", Static))
        await pilot.press("v")
        await wait_for(pilot, lambda: session.journal.interrupted() == [], "verification")
        screen = app.screen
        assert isinstance(screen, InterruptedScreen) and screen.results is not None
        assert {v.entry.target_id for v in screen.results} == {t.id for t in targets}
        text = shown(screen.query_one("#interrupted-list", Static))
        assert "0 could not be read" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, (InterruptedScreen, KillScreen))
    verifies = [
        e for e in Journal(tmp_path / "j.sqlite3", profile="test").entries() if e.kind == "verify"
    ]
    assert {e.batch_id for e in verifies} == {batch} and len(verifies) == 3
