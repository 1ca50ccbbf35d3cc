"""The processes of ``benchmarks/desk_fanout.py``: the simulator with latency markers, a
process of headless desk consoles that records when each marker reached each console's
store, and (the parent's side) starting them and the local desk.

The simulator child is ``trading-console sim`` (the real :class:`SimServer`, world still,
seed 1) plus one task on its loop: ``--marker-rate`` times a second it publishes a PipAI
``position_opened`` event for a deployed strategy through the vendor's real stream hub,
whose ``total_pnl`` is ``bench:<seq>@<time.time() at publish>``. The console maps that
event to the row's ``pnl`` attribute (as any position event), so the marker travels the
whole way: simulator → hub's feed → hub's store → a state batch on NATS → each
console's store. Same machine, same clock: latency = arrival − the stamp. The 10,000
events/s of load are the simulator's own ``event_rate`` knob (order events, counted by
the hub, as ``benchmarks/console_load.py`` drives them).

A console process opens ``--count`` consoles with :func:`console.desk.desk_console.
open_desk` (each its own NATS connection, a :class:`DeskState` feeding its own Store —
no Textual), prints ``ready``, and when its stdin closes prints one JSON line: for each
marker seq, how many of its consoles got it and the latest arrival time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._harness import knobs
from console.config import Profile, load_profile, write_profile_files
from console.core.model import Target
from console.core.session import SessionOptions
from console.desk.desk_console import open_desk
from console.desk.desk_state import DeskState
from console.desk.local_desk import LocalDesk
from console.sim.registry import VENDOR_SIMS
from console.sim.server import SimServer

MARK = "bench:"
PROFILE = "bench"
PASSWORD_ENV = "DESK_FANOUT_PASSWORD"
USER = "bench"
PROCS = Path(__file__)


def marker(text: object) -> tuple[int, float] | None:
    """The seq and the simulator's stamp of a marker ``pnl`` (None for a real P&L)."""
    if isinstance(text, str) and text.startswith(MARK):
        seq, stamp = text[len(MARK) :].split("@", 1)
        return int(seq), float(stamp)
    return None


# ----- the simulator ------------------------------------------------------------------------
async def mark_forever(server: SimServer, rate: float) -> None:
    vendor: Any = server.vendors["pipai"]  # its .hub and .world are PipAI's own
    seq = 0
    while True:
        await asyncio.sleep(1 / rate)
        ids = vendor.world.deployed_ids()
        if not ids or not vendor.hub.subscribers:
            continue
        seq += 1
        sid = ids[seq % len(ids)]
        data = {"strategy_id": sid, "total_pnl": f"{MARK}{seq}@{time.time():.6f}"}
        vendor.hub.publish(sid, "position_opened", data)


RESULTS_LIMIT = 64 * 2**20
"""A consoles process answers its latencies in one JSON line: 10 consoles' of a minute pass
asyncio's default 64 KiB line limit."""


def run_sim(directory: Path, scale: int, marker_rate: float, rate_limits: bool) -> None:
    knobs = {"rate_limits": rate_limits}
    server = SimServer(seed=1, scale=scale, motion=False, knobs={a: knobs for a in VENDOR_SIMS})

    async def main() -> None:
        ready = asyncio.Event()
        serving = asyncio.create_task(server.serve(ready))
        await ready.wait()
        entries = server.venue_entries()
        for entry in entries:
            entry["pacing"] = rate_limits
            # PipAI's slow REST resync (10 × its interval) would replace a marker's row
            # before the hub's next tick now and then: lost to the measurement, not to the
            # desk. Every 10 minutes instead of 10 s keeps it out of every window.
            entry["poll_interval"] = 60.0 if entry["api"] == "pipai" else 1.0
        write_profile_files(directory, profile=PROFILE, label="BENCH", color="warning",
                            venues=entries, extra={"state_dir": "state"})  # fmt: skip
        marking = asyncio.create_task(mark_forever(server, marker_rate))
        threading.Thread(target=stop_on_eof, args=(server,), daemon=True).start()
        (directory / "ready").write_text(str(os.getpid()))
        await serving
        marking.cancel()

    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main())


def stop_on_eof(server: SimServer) -> None:
    while sys.stdin.buffer.read(1024):
        pass
    server.request_stop()


# ----- the consoles -------------------------------------------------------------------------
class Arrivals:
    """Per marker seq: how many consoles of this process got it, the last arrival, and
    the simulator's stamp."""

    def __init__(self) -> None:
        self.got: dict[int, list[float]] = {}

    def watch(self, state: DeskState) -> None:
        """Wrap the console store's ``upsert`` (what a state batch's targets go through)."""
        store = state.store
        upsert = store.upsert
        seen: set[int] = set()

        def watched(targets: Iterable[Target]) -> None:
            targets = list(targets)
            upsert(targets)
            now = time.time()
            for t in targets:
                mark = marker(t.attrs.get("pnl"))
                if mark is not None and mark[0] not in seen:
                    seq, stamp = mark
                    seen.add(seq)
                    got = self.got.setdefault(seq, [0, 0.0, stamp])
                    got[0] += 1
                    got[1] = max(got[1], now)

        store.upsert = watched  # type: ignore[method-assign]


async def run_consoles(url: str, user: str, count: int, config: Path) -> None:
    profile = load_profile(config)
    options = SessionOptions(profile=profile.name, label="BENCH")
    auth = {"user": user, "password": os.environ[PASSWORD_ENV]}
    arrivals = Arrivals()
    states = []
    for i in range(count):
        state, _control = await open_desk(url, options, user=user, auth=auth,
                                          venue_settings=profile.venue_settings(),
                                          host=f"bench-{os.getpid()}-{i}")  # fmt: skip
        arrivals.watch(state)
        states.append(state)
    health = states[0].store.venue_health("pipai") if states else None
    events0, t0 = (health.events if health else 0), time.time()
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    # The hub's count of PipAI events, as its health says on this process's first console.
    ingested = ((health.events if health else 0) - events0) / (time.time() - t0)
    resyncs = sum(s.resyncs - 1 for s in states)
    down = sum(1 for s in states if s.down is not None)
    print(json.dumps({"got": arrivals.got, "resyncs": resyncs, "down": down,
                      "ingested": ingested}), flush=True)  # fmt: skip
    for state in states:
        await state.aclose()


# ----- the parent's side: starting them -----------------------------------------------
@dataclass
class Sim:
    profile: Profile
    config: Path
    pid: int


@contextlib.contextmanager
def simulator(scale: int, marker_rate: float, event_rate: int, rate_limits: bool) -> Iterator[Sim]:
    """The simulator child (world ``scale``), PipAI streaming ``event_rate`` events/s."""
    with tempfile.TemporaryDirectory(prefix="tc-desk-") as tmp:
        folder = Path(tmp)
        cmd = [sys.executable, str(PROCS), "sim", str(folder), "--scale", str(scale),
               "--marker-rate", str(marker_rate)]  # fmt: skip
        if rate_limits:
            cmd.append("--rate-limits")
        child = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while not (folder / "ready").exists():
                if child.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the simulator did not start")
                time.sleep(0.05)
            config = folder / "config.toml"
            profile = load_profile(config)
            knobs(profile, "pipai", event_rate=event_rate)
            yield Sim(profile, config, child.pid)
        finally:
            if child.stdin:
                child.stdin.close()
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()


@contextlib.asynccontextmanager
async def local_desk(sim: Sim) -> AsyncIterator[LocalDesk]:
    with tempfile.TemporaryDirectory(prefix="tc-desk-hub-") as tmp:
        desk = LocalDesk(sim.config, PROFILE, Path(tmp), operators=(USER,)).start()
        try:
            await desk.wait_serving()
            yield desk
        finally:
            desk.stop()


@contextlib.asynccontextmanager
async def consoles(desk: LocalDesk, sim: Sim, n: int, per: int) -> AsyncIterator[list[Worker]]:
    """``n`` headless consoles in ``ceil(n / per)`` processes, all attached."""
    assert desk.server is not None
    _, password = desk.server.creds(USER)
    env = {**os.environ, PASSWORD_ENV: password}
    workers = []
    try:
        for k in [per] * (n // per) + ([n % per] if n % per else []):
            proc = await asyncio.create_subprocess_exec(
                sys.executable, str(PROCS), "consoles", desk.server.url, USER, str(k),
                str(sim.config), stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
                limit=RESULTS_LIMIT,
            )  # fmt: skip
            workers.append(Worker(proc, k))
        for w in workers:
            assert w.proc.stdout is not None
            async with asyncio.timeout(120):
                line = await w.proc.stdout.readline()
            if line.strip() != b"ready":
                raise RuntimeError(f"a console process did not attach (said {line!r})")
        yield workers
    finally:
        for w in workers:
            if w.proc.returncode is None:
                w.proc.kill()
                await w.proc.wait()


@dataclass
class Worker:
    proc: asyncio.subprocess.Process
    consoles: int

    async def results(self) -> dict[str, object]:
        """Close its stdin: it answers with what its consoles got, then ends."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.close()
        async with asyncio.timeout(60):
            line = await self.proc.stdout.readline()
            await self.proc.wait()
        data: dict[str, object] = json.loads(line)
        return data


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="role", required=True)
    sim = sub.add_parser("sim")
    sim.add_argument("directory", type=Path)
    sim.add_argument("--scale", type=int, default=1)
    sim.add_argument("--marker-rate", type=float, default=20.0)
    sim.add_argument("--rate-limits", action="store_true")
    consoles = sub.add_parser("consoles")
    consoles.add_argument("url")
    consoles.add_argument("user")
    consoles.add_argument("count", type=int)
    consoles.add_argument("config", type=Path)
    args = parser.parse_args()
    if args.role == "sim":
        run_sim(args.directory, args.scale, args.marker_rate, args.rate_limits)
    else:
        asyncio.run(run_consoles(args.url, args.user, args.count, args.config))
    return 0


if __name__ == "__main__":
    sys.exit(main())
