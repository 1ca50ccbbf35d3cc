"""The kill against each hostile venue: time from confirm to report, and what it said.

For every case of :mod:`console.sim.hostile` (issue 11's findings), a fresh simulator
in its own process gets the case's knobs, and ``trading-console kill --yes --json`` runs
as a separate process, as an operator would run it. Printed per case: the wall time of
the whole command, the kill's own time from confirm to report (``elapsed_s``), the exit
code, and the report's summary line. Goal: every case ends (no hang), within its
deadlines, with the broken venue named and exit non-zero where something is not halted.

    .venv/bin/python benchmarks/kill_hostile.py [--only NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._harness import ROOT, knobs, simulator
from console.config import write_profile_files
from console.sim.hostile import CASES, HostileCase

TIMEOUT_S = 900.0


def run_case(case: HostileCase, workdir: Path) -> tuple[float, int | None, dict[str, object]]:
    with simulator("--seed", "7", "--still") as sim:
        profile = sim.profile
        for api, values in case.knobs.items():
            knobs(profile, api, **values)
        venues = []
        for v in profile.config.venues:
            entry = v.model_dump(exclude_defaults=True)
            entry["credentials"] = profile._secrets().get(v.name, {})
            entry.update(case.venue.get(v.api, {}))
            venues.append(entry)
        directory = workdir / case.name
        config = write_profile_files(directory, profile="sim", label="SIM", color="warning",
                                     venues=venues, extra=dict(case.profile))  # fmt: skip
        cmd = [sys.executable, "-m", "console", "--config", str(config), "kill", "--yes",
               "--json", "--reason", f"hostile {case.name}"]  # fmt: skip
        # Each case keeps its logins in a state folder of its own: x3algo's budget of 5
        # logins per 15 minutes is remembered there, and cases run back to back (or the
        # script run twice in 15 minutes) used it up: the kill then truthfully reported
        # x3algo UNREACHABLE ("cannot refresh the token for another 15 min").
        env = {**os.environ, "XDG_STATE_HOME": str(directory / "state")}
        started = time.monotonic()
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S,
                                  cwd=ROOT, env=env)  # fmt: skip
        except subprocess.TimeoutExpired:
            return time.monotonic() - started, None, {"summary": f"HUNG past {TIMEOUT_S:g} s"}
        wall = time.monotonic() - started
        lines = done.stdout.strip().splitlines()
        try:
            summary = json.loads(lines[-1]) if lines else {"summary": done.stderr[-300:]}
        except ValueError:
            summary = {"summary": lines[-1][:300]}
        return wall, done.returncode, summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", action="append", default=[], metavar="NAME")
    args = parser.parse_args()
    chosen = [c for c in CASES if not args.only or c.name in args.only]
    import tempfile

    bad = 0
    width = max(len(c.name) for c in chosen)
    print(f"{'case':{width}} {'finding':>7} {'wall s':>7} {'kill s':>7} {'exit':>4}  report")
    with tempfile.TemporaryDirectory(prefix="tc-hostile-") as tmp:
        for case in chosen:
            wall, code, summary = run_case(case, Path(tmp))
            elapsed = summary.get("elapsed_s")
            ok = code == case.kill_exit
            bad += not ok
            print(f"{case.name:{width}} {case.finding:>7} {wall:7.2f} "
                  f"{elapsed if elapsed is not None else '-':>7} {code!s:>4}  "
                  f"{summary.get('summary')}{'' if ok else f'  (expected exit {case.kill_exit})'}")  # fmt: skip
            for key in ("unreachable", "incomplete", "unreadable_rows"):
                for venue, why in dict(summary.get(key) or {}).items():  # type: ignore[call-overload]
                    print(f"{'':40}  {key}: {venue}: {str(why)[:150]}")
    print(f"{len(chosen) - bad}/{len(chosen)} cases ended as expected")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
