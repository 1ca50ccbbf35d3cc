"""The CLI over loopback: status lists all five kinds; stop is applied, then already; journaled."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from console.cli.main import main
from console.config import write_profile_files
from console.core.journal import Journal
from console.sim.server import SimServer
from tests.support import set_knobs

KINDS = {"engine", "algorithm", "strategy", "expiration", "sniper"}


@pytest.fixture
def profile_path(sim: SimServer, tmp_path: Path) -> Path:
    return write_profile_files(tmp_path, profile="sim", label="SIM", color="warning",
                               venues=sim.venue_entries())  # fmt: skip


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_status_json_lists_targets_of_all_five_kinds(
    profile_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--config", str(profile_path), "status", "--json")
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert {r["kind"] for r in rows} == KINDS
    assert all({"venue", "id", "name", "state", "raw_status"} <= r.keys() for r in rows)


def test_status_table_for_people(profile_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--config", str(profile_path), "status")
    assert code == 0
    assert out.splitlines()[0].split()[:5] == ["VENUE", "KIND", "ID", "NAME", "STATE"]


def test_status_says_which_list_it_still_waits_for(
    sim: SimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """PipAI's list hangs: past a second status names it, then shows the others and says
    PipAI could not be read (never a silent wait, never "no strategies")."""
    venues = [{**v, "request_timeout": 2.0} if v["api"] == "pipai" else v
              for v in sim.venue_entries()]  # fmt: skip
    path = write_profile_files(tmp_path, profile="sim", label="SIM", color="warning",
                               venues=venues)  # fmt: skip
    set_knobs(sim, "pipai", hold_lists=True)
    code, out, err = run(capsys, "--config", str(path), "status", "--json")
    assert code == 4, err
    [line] = [x for x in err.splitlines() if x.startswith("[SIM] still reading ")]
    assert "pipai" in line and line.endswith("— status shows every venue (at most 30 s)"), err
    assert "pipai: could not read targets" in err
    rows = [json.loads(line) for line in out.splitlines()]
    assert {r["kind"] for r in rows} == KINDS - {"strategy"}


def running_algorithm(profile_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    _, out, _ = run(capsys, "--config", str(profile_path), "status", "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    return next(r for r in rows if r["kind"] == "algorithm" and r["raw_status"] == "active")


def test_stop_is_applied_then_already_and_both_are_journaled(
    profile_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    algo = running_algorithm(profile_path, capsys)
    args = ["--config", str(profile_path), "stop", "x3algo", algo["id"], "--yes", "--json",
            "--reason", "cli test"]  # fmt: skip
    code, out, err = run(capsys, *args)
    first = json.loads(out)
    assert (code, first["outcome"], first["verified_state"]) == (0, "applied", "stopped"), err
    code, out, _ = run(capsys, *args)
    second = json.loads(out)
    assert (code, second["outcome"]) == (0, "already")
    journal = Journal(profile_path.parent / "journal.sqlite3", profile="sim")
    outcomes = [e for e in journal.entries(venue="x3algo") if e.kind == "outcome"]
    assert [e.outcome for e in outcomes] == ["applied", "already"]
    assert {e.reason for e in outcomes} == {"cli test"}
    assert journal.interrupted() == []


def test_without_yes_the_operator_must_type_y(
    profile_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    algo = running_algorithm(profile_path, capsys)
    monkeypatch.setattr(sys, "stdin", _Lines("n\n"))
    code, _, err = run(capsys, "--config", str(profile_path), "stop", "x3algo", algo["id"])
    assert code == 6
    assert "nothing was sent" in err
    journal = Journal(profile_path.parent / "journal.sqlite3", profile="sim")
    assert journal.entries() == []


def test_unknown_target_and_unknown_venue_exit_7(
    profile_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        capsys, "--config", str(profile_path), "stop", "x3algo", "ffffffffffffffffffffffff", "--yes"
    )
    assert code == 7
    assert "status" in err
    code, _, err = run(capsys, "--config", str(profile_path), "stop", "nowhere", "x", "--yes")
    assert code == 7
    assert "x3algo" in err


def test_an_action_the_venue_does_not_offer_is_refused(
    profile_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    algo = running_algorithm(profile_path, capsys)
    code, _, err = run(
        capsys, "--config", str(profile_path), "pause", "x3algo", algo["id"], "--yes"
    )
    assert code == 2
    assert "does not offer pause" in err


def test_no_config_is_a_friendly_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "--config", str(tmp_path / "none.toml"), "status")
    assert code == 2
    assert "trading-console demo" in err
    assert "Traceback" not in err


def test_the_console_script_runs_as_a_module(profile_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run(
        [sys.executable, "-m", "console", "--config", str(profile_path), "status", "--json"],
        capture_output=True, text=True, timeout=60, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert {json.loads(line)["kind"] for line in done.stdout.splitlines()} == KINDS


class _Lines:
    def __init__(self, text: str) -> None:
        self._lines = text.splitlines(keepends=True)

    def readline(self) -> str:
        return self._lines.pop(0) if self._lines else ""


def test_close_positions_on_a_paused_strategy_says_why_not(
    profile_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """PipAI's pause has the option; a paused strategy has no pause to carry it (it said
    "pipai pause has no close-positions option", which is not so)."""
    _, out, _ = run(capsys, "--config", str(profile_path), "status", "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    paused = next(r for r in rows if r["kind"] == "strategy" and r["state"] == "paused")
    code, _, err = run(capsys, "--config", str(profile_path), "pause", "pipai", paused["id"],
                       "--close-positions", "--yes")  # fmt: skip
    assert code == 2
    assert "is paused: pipai offers no pause of it, so nothing can close its positions" in err


def test_status_says_a_joyride_pause_is_the_journals_word_not_the_venues(
    profile_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Joyride cannot report a pause: what status shows is what this console set, per
    its journal (someone may have lifted it at the venue since) — it read PAUSED as if
    the venue had said so."""
    _, out, _ = run(capsys, "--config", str(profile_path), "status", "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    live = next(r for r in rows if r["kind"] == "expiration" and r["raw_status"] != "expired")
    code, _, err = run(capsys, "--config", str(profile_path), "pause", "joyride", live["id"],
                       "--yes")  # fmt: skip
    assert code == 14, err  # halted by the venue's answer only
    _, out, _ = run(capsys, "--config", str(profile_path), "status", "--json")
    row = next(json.loads(x) for x in out.splitlines() if json.loads(x)["id"] == live["id"])
    assert row["state"] == "paused" and row["known_from"]["journal"] is True, row
    assert row["known_from"]["set_by"]
    _, out, _ = run(capsys, "--config", str(profile_path), "status")
    [line] = [x for x in out.splitlines() if live["id"] in x]
    assert "PAUSED per journal " in line, line


def test_a_profile_that_names_no_venue_is_said_so_never_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``venues = []`` (a profile kept for its journal): status and kill raised
    "ValueError: Set of Tasks/Futures is empty" with a traceback (session 23)."""
    path = tmp_path / "config.toml"
    path.write_text('[profiles.p]\nlabel = "P"\njournal = "journal.sqlite3"\nvenues = []\n')
    for argv, what in ((["status"], "nothing to read"), (["kill", "--yes"], "nothing to stop")):
        code, out, err = run(capsys, "--config", str(path), *argv)
        assert code == 2 and "Traceback" not in err, err
        assert f"profile 'p' names no venue: {what} — add a [[profiles.p.venues]] entry" in err
    code, out, _ = run(capsys, "--config", str(path), "kill", "--yes", "--json")
    assert code == 2 and json.loads(out)["summary"] == "not started"
