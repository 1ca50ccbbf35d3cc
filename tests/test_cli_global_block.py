"""Under a 55-tech global block a stop is judged by the engine's manual flag, not its
status word (the independent 55-tech venue of session 18 found both).

The status word folds the global blocks in: under a system stop every engine reads
``system_stopped``, under a soft pause ``soft_paused``, whatever its own flags. The
vendor lifts those blocks on its own, so a manual stop that never came up is not done
(it was confirmed), and one that did is done (a soft pause read "paused, NOT verified").
Each test fails on the code before (the verification read the status word).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from console.cli.main import main
from console.config import write_profile_files
from console.sim.server import SimServer
from tests.support import set_knobs, sim_admin


@pytest.fixture
def profile_path(sim: SimServer, tmp_path: Path) -> Path:
    venues = [v for v in sim.venue_entries() if v["api"] == "55tech"]
    return write_profile_files(tmp_path, profile="sim", label="SIM", color="warning",
                               venues=venues)  # fmt: skip


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def live_engine(profile_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    code, out, err = run(capsys, "--config", str(profile_path), "status", "--json")
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    return str(next(r["id"] for r in rows if r["raw_status"] == "live"))


def stop(
    profile_path: Path, capsys: pytest.CaptureFixture[str], engine: str
) -> tuple[int, dict[str, object]]:
    code, out, _ = run(capsys, "--config", str(profile_path), "stop", "55tech", engine,
                         "--yes", "--json")  # fmt: skip
    return code, json.loads(out.splitlines()[-1])


def test_a_stop_that_never_landed_is_not_confirmed_by_a_system_stop(
    sim: SimServer, profile_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = live_engine(profile_path, capsys)
    sim_admin(sim, "55tech", "system_stop", active=True, reason="exchange outage")
    set_knobs(sim, "55tech", ignore_controls=True)  # answers stop_applied, keeps nothing
    code, result = stop(profile_path, capsys, engine)
    assert result["outcome"] == "applied"
    assert result["verified"] is False and result["verified_state"] == "running"
    assert code == 5


def test_a_landed_stop_under_a_soft_pause_is_confirmed(
    sim: SimServer, profile_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = live_engine(profile_path, capsys)
    sim_admin(sim, "55tech", "soft_pause", active=True, reason="maintenance")
    code, result = stop(profile_path, capsys, engine)
    assert result["verified"] is True and result["verified_state"] == "stopped"
    assert code == 0


def test_a_kill_under_an_emergency_is_not_all_halted_when_stops_did_not_land(
    sim: SimServer, profile_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sim_admin(sim, "55tech", "emergency", active=True, reason="risk limit")
    set_knobs(sim, "55tech", ignore_controls=True)
    code, _, err = run(capsys, "--config", str(profile_path), "kill", "--yes")
    assert "ALL HALTED" not in err
    assert "(NOT verified)" in err
    assert code == 5, err


def test_a_stop_whose_reason_the_venue_refuses_goes_again_without_it(
    sim: SimServer, profile_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The reason body is the console's reading of a gap (the reference shows no body):
    a venue refusing any body (422) must not keep the stop from landing."""
    engine = live_engine(profile_path, capsys)
    set_knobs(sim, "55tech", refuse_bodies=True)
    code, out, err = run(capsys, "--config", str(profile_path), "stop", "55tech", engine,
                         "--yes", "--json", "--reason", "desk drill")  # fmt: skip
    result = json.loads(out.splitlines()[-1])
    assert result["outcome"] == "applied", result
    assert "sent again without the reason: 55-tech refused the body, 422" in result["message"]
    assert result["verified"] is True and code == 0, err
