"""Events/s from the simulator's WebSockets into the live store, against what it emits.

The simulator runs in its own process (as in the demo). For each stream vendor
(PipAI strategy.status, 55-tech orders) and each offered rate, the simulator's
``event_rate`` knob is set, and over a fixed window the script counts the events the
simulator says it sent and the events the console's store received.

Goal (issue 2): the client keeps up (≥ 95 % of what the simulator emits) at ≥ 20,000
events/s.   Run: .venv/bin/python benchmarks/feed_ingest.py [--seconds 4]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._harness import counters, knobs, sim_process
from console.config import Profile
from console.core.store import Store
from console.venues.kit.base import FeedStatus
from console.venues.registry import make_client

RATES = (5_000, 10_000, 20_000, 30_000, 40_000)


async def measure(profile: Profile, api: str, seconds: float) -> list[tuple[int, float, float]]:
    settings = next(s for s in profile.venue_settings() if s.api == api)
    client = make_client(settings)
    store = Store()
    feed = asyncio.create_task(client.run_feed(store))
    try:
        deadline = time.monotonic() + 15
        while store.venue_health(settings.name).status is not FeedStatus.LIVE:
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{api} stream never went live: {store.venue_health(settings.name).detail}"
                )
            await asyncio.sleep(0.05)
        rows = []
        for rate in RATES:
            knobs(profile, api, event_rate=rate)
            await asyncio.sleep(1.0)  # let the rate settle (a benchmark, not a test)
            sent0 = counters(profile, api).get("ws_events", 0)
            got0 = store.venue_health(settings.name).events
            t0 = time.perf_counter()
            await asyncio.sleep(seconds)
            sent = counters(profile, api).get("ws_events", 0) - sent0
            got = store.venue_health(settings.name).events - got0
            elapsed = time.perf_counter() - t0
            rows.append((rate, sent / elapsed, got / elapsed))
            knobs(profile, api, event_rate=0)
            await asyncio.sleep(1.0)  # drain
        return rows
    finally:
        feed.cancel()
        await asyncio.gather(feed, return_exceptions=True)
        await client.aclose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    best_ok = 0.0
    with sim_process("--still", "--seed", "1") as profile:
        for api in ("pipai", "55tech"):
            per = (
                " (offered per connection; one connection per client key)"
                if api == "55tech"
                else ""
            )
            print(f"\n{api}: offered rate → simulator emitted/s → store received/s (share){per}")
            for rate, sent, got in asyncio.run(measure(profile, api, args.seconds)):
                share = got / sent if sent else 0.0
                mark = "ok" if share >= 0.95 else "BEHIND"
                print(f"  {rate:>7,d}/s → {sent:>9,.0f}/s → {got:>9,.0f}/s ({share:6.1%}) {mark}")
                if share >= 0.95:
                    best_ok = max(best_ok, got)
    print(f"\nhighest rate kept up with (≥ 95 % of emitted): {best_ok:,.0f} events/s "
          f"(goal ≥ 20,000): {'MET' if best_ok >= 20_000 else 'NOT MET'}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
