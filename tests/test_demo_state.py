"""Each ``trading-console demo`` run is a fresh world, so it gets state of its own: a
pause journaled in one run does not show in the next (issue 12: "PAUSED journal 22:24Z
by root" in a world that never saw that pause). The last few runs are kept."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any, ClassVar

import pytest

from console.cli import sim as cli_sim
from console.cli.main import demo_config_path
from console.config import load_profile
from console.core.model import Action, ActionKind, Outcome, OutcomeKind
from console.core.session import Session


class SeenApp:
    """Stands in for the console in ``run_demo``: an operator pauses Joyride's first
    expiration, and what the session knows at start-up is recorded."""

    runs: ClassVar[list[dict[str, Any]]] = []

    def __init__(self, session: Session, control: object, **_: Any) -> None:
        self.session = session
        self.return_code = 0

    def run(self) -> None:
        session = self.session
        session.load_known_states()
        profile_dir = Path(str(session.journal.path)).parent
        known = session.store.known("joyride", "exp-1")
        intent = session.journal.intend("joyride", "exp-1", "exp-1", Action(ActionKind.PAUSE))
        session.journal.record_outcome(intent, Outcome(OutcomeKind.APPLIED, "paused"))
        session.journal.flush()
        profile = load_profile(demo_config_path())
        SeenApp.runs.append({"dir": profile_dir, "known": known, "as_demo": profile.source.parent,
                             "venue_state": profile.venue_state_dir("x3algo")})  # fmt: skip


def demo_args() -> argparse.Namespace:
    return argparse.Namespace(seed=1, scale=1, readonly=False, theme=None)


def test_a_pause_in_one_demo_run_does_not_leak_into_the_next(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import console.tui.app

    monkeypatch.setattr(console.tui.app, "ConsoleApp", SeenApp)
    SeenApp.runs = []
    root = cli_sim.demo_root()
    assert cli_sim.run_demo(demo_args(), root) == 0
    assert cli_sim.run_demo(demo_args(), root) == 0
    first, second = SeenApp.runs
    assert first["dir"] != second["dir"]  # a journal of its own
    assert first["known"] is None
    assert second["known"] is None  # the first run's pause is not in the second world
    assert second["as_demo"] == second["dir"]  # --demo reaches the latest run
    assert second["venue_state"].is_relative_to(second["dir"])  # the x3algo session too


def test_only_the_last_runs_are_kept_and_a_running_one_never_removed(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    runs = root / "runs"
    runs.mkdir(parents=True)
    for i in range(8):
        (runs / f"2026010{i}T000000Z-1").mkdir()
    alive = runs / "20260100T000000Z-1"
    (alive / "ready").write_text(str(os.getpid()))  # the oldest, but its simulator runs
    dead = runs / "20260101T000000Z-1"
    (dead / "ready").write_text("999999999")  # left by a demo killed with -9
    new = cli_sim.new_demo_run(root, keep=5)
    left = sorted(d.name for d in runs.iterdir())
    assert new.name in left
    assert (root / "current").read_text().strip() == new.name
    assert cli_sim.current_demo_config(root) == new / "config.toml"
    assert alive.name in left
    assert dead.name not in left
    finished = [n for n in left if n not in (new.name, alive.name)]
    assert finished == [f"2026010{i}T000000Z-1" for i in range(3, 8)]
