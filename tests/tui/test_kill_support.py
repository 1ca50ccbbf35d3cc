"""Helpers for the emergency-stop and audit tests (no tests here).

Fake venues that know their kill action (the real venue modules' rules, by kind and
state), sessions on fakes and on the loopback simulator, and the keyboard gesture of a
kill: ``K``, the label, Enter.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import Static

from console.core.journal import Journal
from console.core.session import Session, SessionOptions
from console.demo.world import OPERATOR, demo_session, memory_venues
from console.sim.server import SimServer
from console.tui.app import ConsoleApp
from console.tui.kill.kill_modal import KillScreen
from console.tui.kill.progress import KillProgressScreen
from console.venues.registry import session_for
from tests.support import settings_for
from tests.tui.fakes import FakeClock, FakeVenue
from tests.tui.pilot_support import wait_for

APIS = ("55tech", "x3algo", "pipai", "joyride", "finradar")


def killable_venues() -> dict[str, FakeVenue]:
    return memory_venues(killable=True)


@pytest.fixture(name="venues")
def kill_venues() -> dict[str, FakeVenue]:
    """The kill tests' venues fixture (a module imports it to use it): every kind killable."""
    return killable_venues()


@pytest.fixture(name="session")
def kill_session(tmp_path: Path, clock: FakeClock, venues: dict[str, FakeVenue]) -> Session:
    """The kill tests' session fixture, on :func:`kill_venues` (label DEMO)."""
    return fake_kill_session(tmp_path, clock, venues)


def fake_kill_session(
    tmp_path: Path, clock: FakeClock, venues: Mapping[str, FakeVenue], **options: Any
) -> Session:
    """Like ``fake_session``, with label DEMO and any SessionOptions field settable."""
    return demo_session(tmp_path / "journal.sqlite3", clock, venues, **options)


def sim_session(
    sim: SimServer,
    tmp_path: Path,
    *,
    journal: Journal | None = None,
    control_timeout_s: float = 3.0,
    **options: Any,
) -> Session:
    """A session on the simulator; short timeouts so a venue that stops answering fails
    fast (a venue that is down answers 503 at once). 3 s, not 1: a kill of 65 targets
    on a loaded CI machine (six test workers on two cores) saw calls answered after the
    second and called uncertain."""
    opts = SessionOptions(profile="test", label="SIM", **options)
    journal = journal or Journal(tmp_path / "j.sqlite3", profile="test", operator=OPERATOR)
    settings = [
        settings_for(
            sim, api, request_timeout_s=control_timeout_s, control_timeout_s=control_timeout_s
        )
        for api in APIS
    ]
    return session_for(opts, settings, journal)


def make_app(session: Session, **kwargs: Any) -> ConsoleApp:
    return ConsoleApp(session, session.control, **kwargs)


def shown(widget: Static) -> str:
    """What a Static shows, as plain text (Rich tables rendered at 160 columns)."""
    console = Console(width=160, color_system=None)
    with console.capture() as capture:
        console.print(widget.content)
    return capture.get()


def fed(session: Session) -> bool:
    """Has every venue delivered its targets at least once?"""
    return all(session.store.age(v) is not None for v in session.venues) and all(
        session.store.targets(v) for v in session.venues
    )


async def open_kill(pilot: Pilot[None], app: ConsoleApp) -> KillScreen:
    await pilot.press("K")
    await wait_for(pilot, lambda: isinstance(app.screen, KillScreen), "the kill modal")
    screen = app.screen
    assert isinstance(screen, KillScreen)
    return screen


async def confirm_kill(pilot: Pilot[None], app: ConsoleApp, label: str) -> KillProgressScreen:
    await pilot.press(*label, "enter")
    await wait_for(pilot, lambda: isinstance(app.screen, KillProgressScreen), "the progress view")
    screen = app.screen
    assert isinstance(screen, KillProgressScreen)
    return screen


async def kill_done(pilot: Pilot[None], app: ConsoleApp) -> None:
    await wait_for(
        pilot,
        lambda: app.kill.run is not None and not app.kill.active and bool(app.kill.run.reports),
        "the kill to finish",
        rounds=800,
    )
