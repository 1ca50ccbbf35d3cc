"""Issue 11's acceptance: ``kill --yes --json`` against each hostile venue, over loopback.

One test per named case of :mod:`console.sim.hostile` (each reproduces one numbered
finding): the kill ends with a report; every healthy venue is verified halted; the
broken venue is named with what went wrong; the exit code is non-zero when anything is
not halted; no credential appears in the output, the journal or the logs; no terminal
escape reaches the output.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from console.cli.main import main
from console.config import write_profile_files
from console.core.kill_lock import KillLock
from console.core.operator import Operator
from console.sim.hostile import CASES, HostileCase
from console.sim.server import SimServer
from tests.support import set_knobs, sim_counters

APIS = ("55tech", "x3algo", "pipai", "joyride", "finradar")


def hostile_profile(sim: SimServer, case: HostileCase, directory: Path) -> Path:
    venues = []
    for entry in sim.venue_entries():
        entry = {**entry, "request_timeout": 3.0, "control_timeout": 3.0}
        entry.update(case.venue.get(entry["api"], {}))
        entry["rate_scale"] = sim.knobs(entry["api"]).rate_scale
        venues.append(entry)
    return write_profile_files(directory, profile="sim", label="SIM", color="warning",
                               venues=venues, extra=dict(case.profile))  # fmt: skip


def secrets_of(sim: SimServer) -> set[str]:
    values: set[str] = set()
    for entry in sim.venue_entries():
        for value in entry["credentials"].values():
            values |= {v for v in str(value).split(",") if len(v) >= 6}
    return values


def journal_text(path: Path) -> str:
    with sqlite3.connect(path) as db:
        return "\n".join(repr(row) for row in db.execute("SELECT * FROM entries"))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_kill_against_a_hostile_venue_ends_truthfully(
    case: HostileCase,
    sim: SimServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    for api, knobs in case.knobs.items():
        set_knobs(sim, api, **knobs)
    path = hostile_profile(sim, case, tmp_path)
    code = main(["--config", str(path), "kill", "--yes", "--json", "--reason", case.name])
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines()]
    summary: dict[str, Any] = lines[-1]
    results = lines[:-1]
    said = captured.out + captured.err

    assert code == case.kill_exit, summary
    for api in APIS:
        mine = [r for r in results if r["venue"] == api]
        if api in case.broken:
            named = (
                api in summary["unreachable"]
                or api in summary["incomplete"]
                or api in summary["unreadable_rows"]
                or any(not (r["verified"] or r["by_answer"]) for r in mine)
            )
            assert named, f"{api} is broken but the report does not say so: {summary}"
        else:
            assert mine, f"nothing was sent to healthy {api}: {summary}"
            halted = [r["verified"] or r["by_answer"] for r in mine]
            assert all(halted), (api, [r for r in mine if not (r["verified"] or r["by_answer"])])
    if case.broken:
        assert summary["all_verified"] is False
    for word in case.words:
        assert word in said, f"{word!r} not in what the kill said"
    journal = tmp_path / "journal.sqlite3"
    record = journal_text(journal)
    for secret in secrets_of(sim):
        assert secret not in said
        assert secret not in record
        assert secret not in caplog.text
    assert "\x1b" not in said and "\x07" not in said
    assert journal.stat().st_mode & 0o077 == 0


def test_a_second_kill_of_the_profile_sends_nothing_and_names_the_first(
    sim: SimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Finding 8: two kills at once sent every call twice. The second now refuses."""
    path = hostile_profile(sim, HostileCase("plain", "8", "no fault"), tmp_path)
    holder = KillLock.beside(tmp_path / "journal.sqlite3", profile="sim",
                             operator=Operator("alice", "desk-1"))  # fmt: skip
    before = {api: sim_counters(sim, api).get("requests", 0) for api in APIS}
    with holder:
        code = main(["--config", str(path), "kill", "--yes", "--json"])
    captured = capsys.readouterr()
    assert code == 9
    assert "alice@desk-1" in captured.err and "nothing was sent" in captured.err
    assert json.loads(captured.out.splitlines()[-1])["summary"] == "not started"
    after = {api: sim_counters(sim, api).get("requests", 0) for api in APIS}
    assert after == before  # not even a read
    assert main(["--config", str(path), "kill", "--yes", "--json"]) == 14  # once released
