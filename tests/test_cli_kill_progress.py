"""A CLI kill that waits says so: after a quiet spell, a line naming what it awaits.

x3algo's stops are held (the venue reads them and does not answer yet); the other
venues' results come and go; then nothing comes, and the kill names x3algo and how many
it awaits. Before, a kill paced by x3algo's 100 calls a minute sat silent for a minute.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from console.cli.main import main
from console.config import write_profile_files
from console.sim.server import SimServer
from tests.support import set_knobs, sim_admin, sim_counters


def kill_until(
    path: Path,
    capsys: pytest.CaptureFixture[str],
    seen: Callable[[str], bool],
    release: Callable[[], object],
) -> tuple[list[int], str]:
    """``kill --yes`` in a thread until what it said to stderr is ``seen`` (asked every
    50 ms, 30 s at most), then ``release`` the venue; the kill's exit codes and stderr."""
    codes: list[int] = []
    runner = threading.Thread(
        target=lambda: codes.append(main(["--config", str(path), "kill", "--yes"]))
    )
    runner.start()
    err: list[str] = []
    try:
        for _ in range(600):
            err.append(capsys.readouterr().err)
            if seen("".join(err)):
                break
            threading.Event().wait(0.05)
    finally:
        release()
        runner.join(60)
    err.append(capsys.readouterr().err)
    assert not runner.is_alive(), "".join(err)
    return codes, "".join(err)


def test_a_quiet_kill_says_what_it_still_awaits(
    sim: SimServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("console.cli.kill_progress.STILL_RUNNING_S", 0.3)
    path = write_profile_files(tmp_path, profile="sim", label="SIM", color="warning",
                               venues=sim.venue_entries())  # fmt: skip
    set_knobs(sim, "x3algo", hold_controls=True)
    codes, text = kill_until(
        path,
        capsys,
        lambda said: "still running" in said and bool(sim_counters(sim, "x3algo").get("held")),
        lambda: set_knobs(sim, "x3algo", hold_controls=False),
    )
    assert codes == [14], (codes, text)  # Joyride: by answer
    [line, *_] = [x for x in text.splitlines() if "still running" in x]
    assert line.startswith("[SIM] still running (")
    assert "; awaiting x3algo " in line and "answered" in line, line


def test_a_kill_whose_stops_are_refused_says_they_go_again_and_lands_them(
    sim: SimServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """x3algo refuses every stop 429 asking 3 s: the quiet-time line says the refused
    calls go again; once x3algo takes calls again, every stop lands in the same kill."""
    monkeypatch.setattr("console.cli.kill_progress.STILL_RUNNING_S", 0.3)
    venues = [v for v in sim.venue_entries() if v["api"] == "x3algo"]
    path = write_profile_files(tmp_path, profile="sim", label="SIM", color="warning",
                               venues=venues)  # fmt: skip
    set_knobs(sim, "x3algo", control_429=-1, retry_after="3")
    codes, text = kill_until(
        path,
        capsys,
        lambda said: "refused with 429, going again" in said,
        lambda: set_knobs(sim, "x3algo", control_429=0),
    )
    assert codes == [0], (codes, text)
    [line, *_] = [x for x in text.splitlines() if "going again" in x]
    assert re.search(r"; awaiting x3algo (\d+) \(\1 refused with 429, going again\)", line), line
    assert "the first refused with 429" in text
    assert sim_counters(sim, "x3algo").get("stopped", 0) > 0


def test_a_kill_prints_each_outcomes_warning(
    sim: SimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Joyride's DB/engine drift is a warning on an applied pause: the kill printed it in
    --json only (an independent Joyride's 3 instruments the engine did not know)."""
    venues = [v for v in sim.venue_entries() if v["api"] == "joyride"]
    path = write_profile_files(tmp_path, profile="sim", label="SIM", color="warning",
                               venues=venues)  # fmt: skip
    assert main(["--config", str(path), "status", "--json"]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    live = next(r for r in rows if r["raw_status"] != "expired")
    sim_admin(sim, "joyride", "drift", expiration=int(live["id"]), missing=2)
    assert main(["--config", str(path), "kill", "--yes"]) == 14  # by the venue's answer only
    err = capsys.readouterr().err
    [warning] = [x for x in err.splitlines() if x.startswith("    warning: ")]
    assert "2 instruments changed in the DB but missing from the matching engine" in warning


def test_a_kill_that_left_targets_running_says_what_to_do_next(
    sim: SimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """x3algo refuses every stop (429): the report ends saying how many still run, where,
    and that the kill can be run again (it re-plans; halted ones need nothing)."""
    venues = [{**v, "retry_after_cap": 1} for v in sim.venue_entries() if v["api"] == "x3algo"]
    path = write_profile_files(tmp_path, profile="sim", label="SIM", color="warning",
                               venues=venues)  # fmt: skip
    set_knobs(sim, "x3algo", control_429=-1, retry_after="0.01")
    assert main(["--config", str(path), "kill", "--yes"]) == 4
    out = capsys.readouterr().out
    [line] = [x for x in out.splitlines() if x.startswith("NEXT: ")]
    assert re.fullmatch(r"NEXT: (\d+) target\(s\) not halted \(x3algo \1\) — run the kill "
                        r"again: it plans from fresh reads and calls only what still runs",
                        line), line  # fmt: skip


def test_a_kill_that_could_not_list_a_venue_says_what_to_do_next(
    sim: SimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """x3algo's list answers 503 for good: the last words name it, say nothing was sent
    there, and what the operator can do (the UNREACHABLE line above says why)."""
    venues = [v for v in sim.venue_entries() if v["api"] in ("x3algo", "finradar")]
    path = write_profile_files(tmp_path, profile="sim", label="SIM", color="warning",
                               venues=venues, extra={"kill_read_retry": 0})  # fmt: skip
    set_knobs(sim, "x3algo", list_503=-1)
    assert main(["--config", str(path), "kill", "--yes"]) == 4
    out = capsys.readouterr().out
    [line] = [x for x in out.splitlines() if x.startswith("NEXT: ")]
    assert line == (
        "NEXT: nothing was sent to x3algo (could not be listed) — halt it from "
        "the venue's own console, or run the kill again once it answers"
    ), line


def test_a_venue_listed_after_failed_tries_joins_the_kill_saying_so(
    sim: SimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """x3algo's list answers 503 three times (a restart), then recovers: its targets join
    the running kill, and the line that says so says it took tries (a flaky venue)."""
    venues = [v for v in sim.venue_entries() if v["api"] in ("x3algo", "finradar")]
    path = write_profile_files(tmp_path, profile="sim", label="SIM", color="warning",
                               venues=venues)  # fmt: skip
    set_knobs(sim, "x3algo", list_503=3)
    assert main(["--config", str(path), "kill", "--yes"]) == 0
    out, err = capsys.readouterr()
    [line] = [x for x in err.splitlines() if x.startswith("trading-console: x3algo: listed in")]
    assert "(after 3 failed tries: " in line and "503" in line, line
    assert "ALL HALTED" in out


def test_a_kill_says_a_target_answered_done_but_unreadable_needs_a_look_not_a_rerun(
    sim: SimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One 55-tech client's status reads answer 500, its stop works: the kill stops it
    by its key, and the last words say no second kill would read it better."""
    venues = [v for v in sim.venue_entries() if v["api"] == "55tech"]
    path = write_profile_files(tmp_path, profile="sim", label="SIM", color="warning",
                               venues=venues)  # fmt: skip
    set_knobs(sim, "55tech", failing_status_keys=1)
    assert main(["--config", str(path), "kill", "--yes"]) == 4
    out = capsys.readouterr().out
    [line] = [x for x in out.splitlines() if x.startswith("NEXT: ")]
    assert line == ("NEXT: 1 target(s) answered done but not readable on re-read (55tech 1) "
                    "— check them on the venue's side: a second kill would send the same "
                    "call and read them no better"), line  # fmt: skip
    assert "(each still planned, its state UNKNOWN: its halt is sent all the same)" in out


def test_a_single_stop_reaches_an_engine_listed_by_its_keys_position(
    sim: SimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`status` lists 'key #1' (its status read answers 500); `stop 55tech 'key #1'` in a
    fresh process addresses it too, says what came back, and that no re-read confirmed it
    (its 500s are for good: the re-read is not tried again for 10 s)."""
    venues = [v for v in sim.venue_entries() if v["api"] == "55tech"]
    path = write_profile_files(tmp_path, profile="sim", label="SIM", color="warning",
                               venues=venues, extra={"kill_read_retry": 0})  # fmt: skip
    set_knobs(sim, "55tech", failing_status_keys=1)
    assert main(["--config", str(path), "status"]) == 4  # a row not read cleanly: named
    assert "key #1" in capsys.readouterr().out
    code = main(["--config", str(path), "stop", "55tech", "key #1", "--yes", "--reason", "t"])
    out, err = capsys.readouterr()
    assert "could not read key #1 (" in err and "its list holds it UNKNOWN: acting on" in err
    assert "Engine 'key #1' (client '" in out, out
    assert "re-read: unknown (NOT confirmed)" in out
    assert code == 5  # answered done, not confirmed


def test_a_stop_by_a_slug_whose_status_is_unread_names_the_way_to_reach_it(
    sim: SimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 55-tech engine's slug is known only from its status read: with that read failing,
    `stop 55tech <its slug>` cannot find it — and said only that it could not read it, at
    3 a.m. with the engine trading. It now names the unread row and the two commands
    that reach it (session 23, an independent 55-tech; failed on the code before)."""
    venues = [v for v in sim.venue_entries() if v["api"] == "55tech"]
    path = write_profile_files(tmp_path, profile="sim", label="SIM", color="warning",
                               venues=venues, extra={"kill_read_retry": 0})  # fmt: skip
    assert main(["--config", str(path), "status", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    [first] = [row for row in rows if row["attrs"]["key_no"] == 1]
    set_knobs(sim, "55tech", failing_status_keys=1)
    code = main(["--config", str(path), "stop", "55tech", first["id"], "--yes"])
    err = capsys.readouterr().err
    assert code == 4 and sim_counters(sim, "55tech").get("stop", 0) == 0, err
    assert f"could not read {first['id']}: " in err
    assert "— it may be one the venue lists but could not read: 'key #1'; " in err
    assert f"`trading-console --config {path} stop 55tech 'key #1'` acts on 'key #1'" in err
    assert f"`trading-console --config {path} kill --venue 55tech` halts every target" in err
