"""Every action of every panel against the loopback simulator, through the keyboard.

keys → modal → confirm → the simulator's state changed → the panel shows it → the journal
has it. The simulator's state is read back over its own API with a fresh client (or, for
Joyride, which cannot report a pause, with the simulator's ``peek`` admin command).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from textual.pilot import Pilot

from console.core.journal import Journal
from console.core.model import State, Target
from console.core.operator import Operator
from console.core.session import Session, SessionOptions
from console.sim.server import SimServer
from console.tui.app import ConsoleApp
from console.tui.screens.confirm import ConfirmScreen
from console.venues.registry import make_client, session_for
from tests.support import set_knobs, settings_for, sim_admin
from tests.tui.pilot_support import cell, log_text, wait_for

APIS = ("55tech", "x3algo", "pipai", "joyride", "finradar")
SIZE = (120, 40)


def sim_session(sim: SimServer, tmp_path: Path, **options: object) -> Session:
    opts = SessionOptions(profile="test", label="SIM", **options)  # type: ignore[arg-type]
    journal = Journal(tmp_path / "j.sqlite3", profile="test", operator=Operator("alice", "desk1"))
    return session_for(opts, [settings_for(sim, api) for api in APIS], journal)


@dataclass(frozen=True)
class Case:
    api: str
    panel: str  # key that shows the panel
    key: str  # the action key
    pick: Callable[[Target], bool]  # which target to act on
    shown: Callable[[str], bool]  # the status cell afterwards
    column: str = "status"
    options: tuple[str, ...] = ()  # switches to turn on in the modal


def _a(t: Target, name: str) -> object:
    return t.attrs.get(name)


CASES = {
    "55tech-pause": Case(
        "55tech", "1", "P", lambda t: t.state is State.RUNNING, lambda s: s == "MANUAL PAUSED"
    ),
    "55tech-resume": Case(
        "55tech",
        "1",
        "R",
        lambda t: _a(t, "manual_paused") is True and not _a(t, "manual_stopped"),
        lambda s: s == "LIVE",
    ),
    "55tech-stop": Case(
        "55tech", "1", "X", lambda t: t.state is State.RUNNING, lambda s: s == "MANUAL STOPPED"
    ),
    "55tech-start": Case(
        "55tech",
        "1",
        "S",
        lambda t: _a(t, "manual_stopped") is True and not _a(t, "manual_paused"),
        lambda s: s == "LIVE",
    ),
    "x3algo-stop": Case(
        "x3algo", "2", "X", lambda t: t.raw_status == "active", lambda s: s == "STOPPED"
    ),
    "x3algo-start": Case(
        "x3algo", "2", "S", lambda t: t.raw_status == "stopped", lambda s: s == "ACTIVE"
    ),
    "pipai-pause-closing": Case(
        "pipai",
        "3",
        "P",
        lambda t: t.raw_status == "deployed",
        lambda s: s == "PAUSED",
        options=("close_positions",),
    ),
    "pipai-resume": Case(
        "pipai", "3", "R", lambda t: t.raw_status == "paused", lambda s: s == "DEPLOYED"
    ),
    "joyride-pause": Case("joyride", "4", "P", lambda t: True, lambda s: s == "PAUSED", "state"),
    "joyride-resume": Case("joyride", "4", "R", lambda t: True, lambda s: s == "RUNNING", "state"),
    "finradar-stop": Case(
        "finradar", "5", "X", lambda t: t.state is State.RUNNING, lambda s: s == "STOPPED"
    ),
}


def first_row(app: ConsoleApp, pick: Callable[[Target], bool]) -> Target | None:
    """The topmost row ``pick`` accepts (fewest key presses to reach it)."""
    panel = app.active_panel
    for index in range(panel.table.row_count):
        key = panel.table.key_at(index)
        target = panel.targets.get(key or "")
        if target is not None and pick(target):
            return target
    return None


def specials(sim: SimServer, api: str) -> dict[str, str]:
    """x3algo's deliberately awkward algorithms (daily loss limit hit, draft, error ...)."""
    return dict(sim_admin(sim, api, "special")) if api == "x3algo" else {}


async def cursor_to(pilot: Pilot[None], app: ConsoleApp, key: str) -> None:
    """Move the cursor with j (k9s/vim style) until it sits on ``key``."""
    table = app.active_panel.table
    await pilot.press("home")
    for _ in range(table.row_count):
        if table.cursor_key == key:
            return
        await pilot.press("j")
    assert table.cursor_key == key


async def venue_state(sim: SimServer, api: str, target: Target) -> str:
    """What the simulator now says, read with a fresh client (Joyride: its hidden flag)."""
    if api == "joyride":
        peek = sim_admin(sim, "joyride", "peek", expiration=int(target.id))
        return "paused" if peek["round_paused"] else "running"
    client = make_client(settings_for(sim, api))
    try:
        fresh = await client.read_target(target.id)
    finally:
        await client.aclose()
    assert fresh is not None
    return fresh.state.value


@pytest.mark.parametrize("name", list(CASES))
async def test_action_through_keys_reaches_sim_panel_and_journal(
    name: str, sim: SimServer, tmp_path: Path
) -> None:
    case = CASES[name]
    session = sim_session(sim, tmp_path)
    app = ConsoleApp(session, session.control)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(case.panel)
        store = session.store
        await wait_for(
            pilot,
            lambda: (
                app.active_panel.table.row_count > 0
                and any(case.pick(t) for t in store.targets(case.api))
            ),
            "targets",
        )
        odd = set(specials(sim, case.api).values())

        def pick(t: Target) -> bool:
            return case.pick(t) and t.id not in odd

        await wait_for(pilot, lambda: first_row(app, pick) is not None, "a row to act on")
        target = first_row(app, pick)
        assert target is not None
        key = f"{case.api}/{target.id}"
        await cursor_to(pilot, app, key)
        await pilot.press(case.key)
        modal = app.screen
        assert isinstance(modal, ConfirmScreen), f"no modal for {name}"
        assert [i.target_id for i in modal.plan.items] == [target.id]
        for option in case.options:
            await pilot.click(f"#{modal.switch_for(option).id}")
        await pilot.press("y")
        await app.workers.wait_for_complete()
        report = app.last_report
        # verified, or (Joyride, which cannot be re-read) done by the venue's answer only
        assert report is not None and report.all_halted, report and report.summary()
        assert modal.draft is not None
        kind = modal.draft.kind
        await wait_for(pilot, lambda: case.shown(cell(app, key, case.column)), "panel shows it")
        expected = {"pause": "paused", "stop": "stopped"}.get(kind.value, "running")
        assert await venue_state(sim, case.api, target) == expected
        rows = [e for e in session.journal.entries() if e.target_id == target.id]
        assert [e.kind for e in rows][:2] == ["intent", "outcome"]
        assert rows[1].outcome in ("applied", "already") and rows[1].action == kind.value
        for option in case.options:
            assert f'"{option}": true' in rows[0].options


async def test_a_refused_start_says_why_for_which_target_and_what_next(
    sim: SimServer, tmp_path: Path
) -> None:
    """x3algo refuses to start an algorithm whose daily loss limit is hit (403)."""
    session = sim_session(sim, tmp_path)
    blocked = specials(sim, "x3algo")["daily_loss"]
    app = ConsoleApp(session, session.control)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        key = f"x3algo/{blocked}"
        await wait_for(pilot, lambda: app.active_panel.table.has_row(key), "row")
        await cursor_to(pilot, app, key)
        await pilot.press("S", "y")
        await app.workers.wait_for_complete()
        name = session.store.get("x3algo", blocked).name  # type: ignore[union-attr]
        await wait_for(pilot, lambda: "REJECTED" in log_text(app), "outcome logged")
        text = log_text(app)
        assert f"x3algo/{name}" in text and "next: the venue refused" in text
        assert "loss" in text.lower()
        assert cell(app, key, "status") == "STOPPED"
        [outcome] = [e for e in session.journal.entries() if e.kind == "outcome"]
        assert (outcome.target_id, outcome.outcome) == (blocked, "rejected")


async def test_a_venue_going_down_shows_its_words_ages_and_spares_the_rest(
    sim: SimServer, tmp_path: Path
) -> None:
    session = sim_session(sim, tmp_path, stale_after_s=1.0)
    app = ConsoleApp(session, session.control)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        await wait_for(pilot, lambda: app.active_panel.table.row_count > 0, "rows")
        set_knobs(sim, "x3algo", down=True)
        freshness = app.active_panel.query_one("#freshness")
        await wait_for(pilot, lambda: "— feed down" in str(freshness.render()), "feed down")
        assert "STALE — x3algo data" in str(freshness.render())
        statuses = {cell(app, k, "status") for k in app.active_panel.table.ordered_keys()}
        assert statuses == {"UNKNOWN"}
        assert "x3algo DOWN" in str(app.header.venue_line())
        await pilot.press("1")
        await wait_for(pilot, lambda: "55tech live" in str(app.header.venue_line()), "55tech ok")
        set_knobs(sim, "x3algo", down=False)
        await pilot.press("2")
        await wait_for(
            pilot,
            lambda: (
                "UNKNOWN"
                not in {cell(app, k, "status") for k in app.active_panel.table.ordered_keys()}
            ),
            "recovered",
        )
