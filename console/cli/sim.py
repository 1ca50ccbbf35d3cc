"""``trading-console sim`` and ``trading-console demo``.

``sim`` serves the five simulated vendor APIs on loopback in the foreground and writes
a ready profile (config.toml + a mode-600 secrets.toml with the demo credentials).

``demo`` starts the simulator as a child process (its own interpreter, so it never
competes with the screen for the GIL), opens the console on the profile it wrote, and
on exit stops it. The child also exits by itself when its stdin closes, so even a
``kill -9`` of the console leaves no simulator behind.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from console.config import ConfigError, load_profile, state_dir, write_profile_files
from console.venues.registry import session_for


def add_parser(sub: Any) -> None:
    sim = sub.add_parser(
        "sim",
        help="serve the five simulated vendor APIs on loopback",
        description="Serve the five simulated vendor APIs on loopback in the foreground and "
        "write a ready profile (config.toml + a mode-600 secrets.toml). Stop with Ctrl-C.",
    )
    sim.add_argument("--seed", type=int, default=1, help="world seed (same seed, same world)")
    sim.add_argument(
        "--scale", type=int, default=1, help="multiply the world (100: 10,000+ targets)"
    )
    sim.add_argument("--scale-of", action="append", default=[], metavar="API=N",
                     help="one vendor's scale, e.g. 55tech=2 (repeatable)")  # fmt: skip
    sim.add_argument("--host", default="127.0.0.1", help="loopback address (127.0.0.1 or ::1)")
    sim.add_argument(
        "--port-base", type=int, default=0, help="first of five ports (default: free ports)"
    )
    sim.add_argument("--write-config", type=Path, metavar="DIR",
                     help="directory for config.toml + secrets.toml (default: the state dir)")  # fmt: skip
    sim.add_argument("--frozen-at", help="freeze the world clock (ISO-8601 or UNIX seconds)")
    sim.add_argument("--still", action="store_true", help="no world motion")
    sim.add_argument("--rate-scale", type=float, default=1.0, help="scale every rate window")
    sim.add_argument("--no-rate-limits", action="store_true", help="do not enforce rate limits")
    sim.add_argument("--label", default="SIM", help="profile label to write")
    sim.add_argument("--profile-name", default="sim", help="profile name to write")
    sim.add_argument("--ready-file", type=Path, help=argparse.SUPPRESS)
    sim.add_argument("--exit-on-stdin-eof", action="store_true", help=argparse.SUPPRESS)
    # The demo's runs: venue state (a login session) beside the profile, not per profile name.
    sim.add_argument("--state-beside", action="store_true", help=argparse.SUPPRESS)


def parse_instant(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def run_sim(args: argparse.Namespace) -> int:
    from console.sim.server import SimServer

    knobs = {"rate_scale": args.rate_scale, "rate_limits": not args.no_rate_limits}
    scales = {}
    for item in args.scale_of:
        api, _, n = item.partition("=")
        scales[api] = int(n)
    server = SimServer(
        seed=args.seed,
        scale=args.scale,
        scales=scales,
        host=args.host,
        port_base=args.port_base,
        frozen_at=parse_instant(args.frozen_at),
        motion=not args.still,
        knobs={api: knobs for api in ("55tech", "x3algo", "pipai", "joyride", "finradar")},
    )
    directory = args.write_config or state_dir() / "sim"

    async def main() -> None:
        ready = asyncio.Event()
        serving = asyncio.create_task(server.serve(ready))
        await ready.wait()
        entries = server.venue_entries()
        for entry in entries:
            entry["rate_scale"] = args.rate_scale
            entry["pacing"] = not args.no_rate_limits
            entry["poll_interval"] = 1.0
        color = "success" if args.label == "DEMO" else "warning"
        extra = {"state_dir": "state"} if getattr(args, "state_beside", False) else None
        path = write_profile_files(directory, profile=args.profile_name, label=args.label,
                                   color=color, venues=entries, extra=extra)  # fmt: skip
        _announce(server, path)
        if args.ready_file:
            args.ready_file.write_text(str(os.getpid()))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, server.request_stop)
        if args.exit_on_stdin_eof:
            threading.Thread(target=_stop_on_eof, args=(server,), daemon=True).start()
        await serving

    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main())
    return 0


def _stop_on_eof(server: Any) -> None:
    while sys.stdin.buffer.read(1024):
        pass
    server.request_stop()


def _announce(server: Any, path: Path) -> None:
    seed = next(iter(server.vendors.values())).ctx.seed
    lines = [f"trading-console simulator (seed {seed}) on loopback:"]
    for api in server.vendors:
        ws = server.ws_url(api)
        lines.append(f"  {api:9} {server.base_url(api)}" + (f"   ws {ws}" if ws else ""))
    lines += [
        f"Profile written to {path} (credentials in {path.parent / 'secrets.toml'}, mode 600).",
        f"In another terminal:  trading-console --config {path} status --json",
        f"                      trading-console --config {path}",
        "Stop with Ctrl-C.",
        "",
        path.read_text(),
    ]
    print("\n".join(lines), flush=True)


DEMO_RUNS_KEPT = 5
"""Finished demo runs kept (their journals can still be audited); older ones are removed."""


def demo_root() -> Path:
    return state_dir() / "demo"


def current_demo_config(root: Path | None = None) -> Path:
    """The profile of the latest demo run (``--demo`` on other commands); whether it is
    still running is told by the ``ready`` file beside it."""
    root = root or demo_root()
    try:
        name = (root / "current").read_text().strip()
    except OSError:
        name = ""
    return root / "runs" / name / "config.toml" if name else root / "config.toml"


def new_demo_run(root: Path, keep: int = DEMO_RUNS_KEPT) -> Path:
    """A fresh folder for one demo run (its profile, journal, venue state, simulator log),
    made the current one; finished runs beyond the last ``keep`` are removed."""
    runs = root / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    # Unique even for two runs in one second of one process; 0700, as mkdtemp makes it.
    directory = Path(tempfile.mkdtemp(prefix=f"{stamp}-{os.getpid()}-", dir=runs))
    (root / "current").write_text(directory.name + "\n")
    prune_demo_runs(runs, keep, spare=directory)
    return directory


def prune_demo_runs(runs: Path, keep: int, *, spare: Path) -> list[Path]:
    """Remove finished runs but the newest ``keep`` (a run with a ``ready`` file is
    still running and is never removed); returns what was removed."""
    finished = sorted(
        (d for d in runs.iterdir() if d.is_dir() and d != spare and not _running(d)),
        key=lambda d: d.name,
    )
    removed = finished[: max(0, len(finished) - keep)]
    for old in removed:
        shutil.rmtree(old, ignore_errors=True)
    return removed


def _running(run: Path) -> bool:
    """A run whose simulator (its pid in ``ready``) is still alive."""
    try:
        pid = int((run / "ready").read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return True


def run_demo(args: argparse.Namespace, root: Path) -> int:
    """Each run is a fresh simulated world, so it gets state of its own: a new folder with
    its own journal, so no pause from an earlier world shows in this one (docs/CONSOLE.md,
    "Demo state")."""
    directory = new_demo_run(root)
    config_path = directory / "config.toml"
    ready = directory / "ready"
    log_path = directory / "sim.log"
    cmd = [sys.executable, "-m", "console", "sim", "--seed", str(args.seed), "--scale",
           str(args.scale), "--write-config", str(directory), "--label", "DEMO",
           "--profile-name", "demo", "--ready-file", str(ready), "--exit-on-stdin-eof",
           "--state-beside"]  # fmt: skip
    with log_path.open("w") as log:
        child = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            if child.poll() is not None:
                raise ConfigError(f"the simulator exited early; see {log_path}")
            if time.monotonic() > deadline:
                raise ConfigError(f"the simulator did not start within 30 s; see {log_path}")
            time.sleep(0.05)
        profile = load_profile(config_path, "demo")
        if getattr(args, "local_desk", False):
            from console.cli import demo_desk

            return demo_desk.run(args, directory, profile)
        from console.cli.main import session_options
        from console.core.journal import Journal
        from console.tui.app import ConsoleApp

        journal = Journal(profile.journal_path, profile=profile.name)
        session = session_for(session_options(profile), profile.venue_settings(), journal)
        readonly = True if getattr(args, "readonly", False) else None
        theme = getattr(args, "theme", None) or profile.app.theme
        from console.cli.main import console_automation

        runner, alerter, problems = console_automation(profile, session)
        app = ConsoleApp(session, session.control, readonly=readonly, theme=theme,
                         keymap=profile.app.keys, automation=runner, alerter=alerter,
                         automation_problems=problems)  # fmt: skip
        app.run()
        return app.return_code or 0
    finally:
        ready.unlink(missing_ok=True)
        with contextlib.suppress(Exception):
            if child.stdin:
                child.stdin.close()
        try:
            child.wait(5)
        except subprocess.TimeoutExpired:
            child.terminate()
            try:
                child.wait(5)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
