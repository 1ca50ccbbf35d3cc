"""Shared fixtures: a real simulator on loopback, settings pointing at it, a recording sink."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from console.sim.server import SimServer
from console.venues.kit.base import VenueSettings
from tests.support import RecordingSink, settings_for

pytest_plugins = ["tests.bytecode_cache"]  # the workers' bytecode, made once (it says why)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto`` starts three workers per core: much of the suite's time is spent
    waiting (a loopback venue holding an answer until the client gives up, a simulator,
    NATS server or hub process starting, a real terminal or a browser drawing), not
    computing. Measured on 2 cores: 267 s with 2 workers, 149 s with 4 (1,411 tests);
    with the desk's and the browser's tests (1,466): 186 s with 4, 147 s with 6."""
    return 3 * (os.cpu_count() or 1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``slow`` (10–30 s each: a subprocess drawing pictures, a schedule run
    against the simulator, a real terminal, a browser, hypothesis's CI examples) start
    first: xdist hands tests out in collection order, and a long one handed out last ends
    the run alone on one worker while the others idle. This needs ``--maxschedchunk 1``
    (pyproject's addopts): without it xdist first gives each worker a run of ~60
    consecutive tests, so one worker got every slow test and ended the run alone.

    The rest are spread: each module's tests at even intervals over the run, so modules
    whose tests mostly wait (the desk's, on nats-server and hub processes; the hostile
    kills, on venues that hold answers) run beside modules that compute (the TUI's)
    instead of together. In collection order the desk's ~100 tests ran at once and both
    cores were ~45 % busy for ~30 s; spread, the run keeps them ~92 % busy (measured on
    2 cores, CI=true: 87 → 92 % over the run). Module fixtures are set up again when a
    worker comes back to a module, so a fixture shared between modules is session-scoped."""
    files: dict[str, list[pytest.Item]] = {}
    for item in items:
        files.setdefault(str(item.path), []).append(item)
    spread = {id(item): (i + 0.5) / len(tests) for tests in files.values()
              for i, item in enumerate(tests)}  # fmt: skip
    items.sort(
        key=lambda item: (
            not (item.get_closest_marker("slow") or item.get_closest_marker("e2e")),
            spread[id(item)],
        )
    )


@pytest.fixture(autouse=True)
def _private_state(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each test keeps its state (login sessions, journal fallbacks, the demo's profile)
    in a folder of its own, never in the user's: platformdirs reads XDG_STATE_HOME."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))


@pytest.fixture
def sim_options() -> dict[str, Any]:
    """Override in a test module (or parametrize) to start the simulator differently."""
    return {}


@pytest.fixture
def sim(sim_options: dict[str, Any]) -> Iterator[SimServer]:
    """A fresh simulator of all five vendors, still (no motion), seed 7, in a thread."""
    options: dict[str, Any] = {"seed": 7, "motion": False}
    options.update(sim_options)
    server = SimServer(**options).start_in_thread()
    try:
        yield server
    finally:
        server.stop_thread()


@pytest.fixture
def sink() -> RecordingSink:
    return RecordingSink()


__all__ = ["RecordingSink", "VenueSettings", "settings_for"]
