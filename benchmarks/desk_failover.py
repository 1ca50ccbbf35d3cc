"""The standby hub's failover: the active hub killed → the standby publishing state.

Every part is its own process, as on a desk: the simulator (``trading-console sim``, its
five venues), a nats-server from the wheel, and two ``trading-console hub`` processes of
the same profile, each with its own folder and journal (two machines): one serving, one
started with ``--standby``. Each run SIGKILLs the serving hub (no clean release of its
lease: the standby must see it expire) and measures, from just before the kill, as an
attached operator sees it on NATS:

* **state**: the first state batch (``desk.P.state``) of the new hub, which it publishes
  once it has logged in to every venue, read each once and stored the whole state in
  the bucket (acknowledged). This is the failover time. Goal: ≤ 5 s (median of the runs);
* **beat**: its first heartbeat (a console's DESK DOWN clears at the next full read).

The lease expires when nobody has seen it renewed for 3 s (``console.desk.lease``) and
is renewed every second, so the lease alone accounts for 2–3 s of it. The killed hub is
then started again as the next run's standby (its journal catches up from the stream
when it takes over).

Run: .venv/bin/python benchmarks/desk_failover.py [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import nats
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg

from benchmarks._harness import ROOT, simulator
from console.desk import messages, subjects
from console.desk.lease import TTL_S
from console.desk.local_server import LocalNats
from console.desk.roles import HUB_USER

GOAL_S = 5.0
USER = "bench"
START_S = 120.0


class HubProc:
    """``trading-console hub`` of ``profile`` with the config in ``folder`` (its log there)."""

    def __init__(self, folder: Path, profile: str, url: str, password: str) -> None:
        self.folder, self.log = folder, folder / "hub.log"
        env = {**os.environ, "TRADING_CONSOLE_NATS_PASSWORD": password}
        self.log.write_text("")
        cmd = [sys.executable, "-m", "console", "--config", str(folder / "config.toml"),
               "--profile", profile, "hub", "--nats", url, "--user", HUB_USER, "--standby"]  # fmt: skip
        with self.log.open("a") as out:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                         env=env, cwd=ROOT)  # fmt: skip

    async def said(self, words: str) -> None:
        async with asyncio.timeout(START_S):
            while words not in self.log.read_text(errors="replace"):
                if self.proc.poll() is not None:
                    raise RuntimeError(f"the hub exited ({self.proc.returncode}): {self.log}")
                await asyncio.sleep(0.05)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


@contextlib.contextmanager
def hub_folders(config_dir: Path, tmp: Path) -> Iterator[tuple[Path, Path]]:
    """Two copies of the profile's files: each hub its own journal, as on two machines."""
    folders = (tmp / "hub-a", tmp / "hub-b")
    for folder in folders:
        folder.mkdir()
        for name in ("config.toml", "secrets.toml"):
            shutil.copy2(config_dir / name, folder / name)
            (folder / name).chmod(0o600)
    yield folders


async def first_from_new_hub(
    nc: NATS, profile: str, old: str, subscribed: asyncio.Event
) -> tuple[float, float]:
    """(time of the new hub's first state batch, of its first beat), time.time()."""
    state: asyncio.Future[float] = asyncio.get_running_loop().create_future()
    beat: asyncio.Future[float] = asyncio.get_running_loop().create_future()

    async def on_state(msg: Msg) -> None:
        batch = messages.StateBatch.decode(msg.data)
        if batch.hub_id != old and not state.done():
            state.set_result(time.time())

    async def on_beat(msg: Msg) -> None:
        heard = messages.HubBeat.decode(msg.data)
        if heard.hub_id != old and not beat.done():
            beat.set_result(time.time())

    subs = [await nc.subscribe(subjects.state_subject(profile), cb=on_state),
            await nc.subscribe(subjects.hub_subject(profile), cb=on_beat)]  # fmt: skip
    await nc.flush()
    subscribed.set()
    try:
        async with asyncio.timeout(START_S):
            return await state, await beat
    finally:
        for sub in subs:
            await sub.unsubscribe()


async def serving_hub(nc: NATS, profile: str) -> str:
    sub = await nc.subscribe(subjects.hub_subject(profile))
    try:
        return str(messages.HubBeat.decode((await sub.next_msg(timeout=30)).data).hub_id)
    finally:
        await sub.unsubscribe()


async def run(runs: int) -> int:
    with simulator() as sim, tempfile.TemporaryDirectory(prefix="tc-failover-") as tmp_name:
        tmp = Path(tmp_name)
        profile = sim.profile.name
        server = LocalNats(profile, {USER: None}, store_dir=tmp / "nats").start()
        hubs: list[HubProc] = []
        try:
            with hub_folders(sim.profile.source.parent, tmp) as (a, b):
                password = server.passwords[HUB_USER]
                active = HubProc(a, profile, server.url, password)
                hubs.append(active)
                await active.said("serving on")
                name, secret = server.creds(USER)
                nc = await nats.connect(server.url, user=name, password=secret)
                standby_folder = b
                states: list[float] = []
                beats: list[float] = []
                for i in range(runs):
                    standby = HubProc(standby_folder, profile, server.url, password)
                    hubs.append(standby)
                    await standby.said("standing by")
                    old = await serving_hub(nc, profile)
                    subscribed = asyncio.Event()
                    watch = asyncio.ensure_future(first_from_new_hub(nc, profile, old, subscribed))
                    await subscribed.wait()  # the server has the subscriptions: then the kill
                    killed_at = time.time()
                    active.kill()
                    state_at, beat_at = await watch
                    states.append(state_at - killed_at)
                    beats.append(beat_at - killed_at)
                    print(f"run {i + 1}: state after {states[-1]:.2f} s, "
                          f"first beat after {beats[-1]:.2f} s", flush=True)  # fmt: skip
                    await standby.said("serving on")
                    active, standby_folder = standby, active.folder
                await nc.close()
        finally:
            for hub in hubs:
                hub.stop()
            server.stop()
    median = statistics.median(states)
    verdict = "met" if median <= GOAL_S else "MISSED"
    print(f"failover (active hub SIGKILLed → the standby's first state batch), {runs} runs: "
          f"median {median:.2f} s, min {min(states):.2f} s, max {max(states):.2f} s; "
          f"first beat median {statistics.median(beats):.2f} s; lease TTL {TTL_S:g} s; "
          f"goal ≤ {GOAL_S:g} s: {verdict}")  # fmt: skip
    return 0 if median <= GOAL_S else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="failovers to time (default 5)")
    args = parser.parse_args()
    return asyncio.run(run(args.runs))


if __name__ == "__main__":
    raise SystemExit(main())
