"""Emergency-stop fan-out: the console against a raw floor, plain httpx and a sequential loop.

Against the simulator (its own process, rate limits off) with 2,000 targets across the
five venues, one run prints:

* console — confirm → every outcome journaled, through the real dispatcher, venue
  clients (httpx over aiohttp), pacing and SQLite journal;
* floor — raw aiohttp sending the very same requests (captured from a rehearsal run)
  with the same concurrency (64 per venue) and no journal;
* plain httpx — the same requests through httpx's own async pool;
* sequential — seed 001's example, ``for algo in algorithms: stop(algo)``, one request
  after the other.

On loopback the venue answers in well under a millisecond, so the sequential loop is
cheap there; the same four runs are repeated with --latency-ms of venue latency (what a
real network and vendor add), where the fan-out is what matters.

Then with the documented rate limits on (windows scaled by --rate-scale) it prints the
number of 429s and the console's completion time against the minimum the limits allow.

Goals (issue 4): console ≤ 1.5 × floor; ≥ 20 × faster than sequential; 0 × 429;
≤ 1.1 × the minimum under limits.   Run: .venv/bin/python benchmarks/kill_fanout.py
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._harness import counters, knobs, sim_process
from console.config import Profile
from console.core.dispatcher import ItemResult, Plan
from console.core.journal import Journal
from console.core.kill import build_kill_plan
from console.core.session import Session, SessionOptions
from console.venues.base import VenueSettings
from console.venues.registry import client_class

APIS = ("55tech", "x3algo", "pipai", "joyride", "finradar")
CONCURRENCY = 64
# Documented control limits (requests or weight per window, seconds, weight per call).
CONTROL_LIMITS = {
    "x3algo": (100, 60.0, 1),
    "pipai": (1200, 60.0, 5),
    "55tech": (2000, 60.0, 1),  # per client key: one stop per key, never binding
    "finradar": (120, 60.0, 1),
}


@dataclass(frozen=True)
class Captured:
    api: str
    method: str
    target: str  # path + query, relative to the venue's base URL
    headers: tuple[tuple[str, str], ...]
    body: bytes


class Recording(httpx.AsyncBaseTransport):
    """Passes requests on and keeps the control calls (POSTs other than auth)."""

    def __init__(self, api: str, base_url: str, sink: list[Captured]) -> None:
        self.api = api
        self.base_path = httpx.URL(base_url).path.rstrip("/")
        self.sink = sink
        self.inner = AiohttpTransport(trust_env=False)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode()
        if request.method == "POST" and "/auth/" not in path:
            relative = path[len(self.base_path) :] if path.startswith(self.base_path) else path
            headers = tuple((k, v) for k, v in request.headers.items() if k.lower() != "host")
            self.sink.append(Captured(self.api, request.method, relative, headers, request.content))
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def settings(profile: Profile) -> list[VenueSettings]:
    return [s for s in profile.venue_settings() if s.api in APIS]


def session_for(profile: Profile, tmp: Path, capture: list[Captured] | None = None) -> Session:
    clients = []
    for s in settings(profile):
        transport = Recording(s.api, s.base_url, capture) if capture is not None else None
        clients.append(client_class(s.api)(s, transport=transport))  # type: ignore[call-arg]
    journal = Journal(tmp / f"journal-{time.monotonic_ns()}.sqlite3", profile="bench")
    return Session(SessionOptions(profile="bench", label="BENCH"), clients, journal)


async def plan_for(session: Session, limit: int) -> Plan:
    failures = await session.refresh()
    if failures:
        raise RuntimeError(f"venues failed to list: {failures}")
    plan = build_kill_plan(session.store, session.clients).plan
    return Plan(plan.items[:limit], plan.title, plan.scope, plan.leaves_behind)


async def console_run(profile: Profile, tmp: Path, limit: int) -> tuple[float, int, dict[str, int]]:
    session = session_for(profile, tmp)
    try:
        plan = await plan_for(session, limit)
        outcomes = 0
        last = asyncio.get_running_loop().create_future()

        def seen(result: ItemResult) -> None:
            nonlocal outcomes
            if result.verified is None:
                outcomes += 1
                if outcomes == len(plan) and not last.done():
                    session.journal.flush()  # every outcome committed, not just queued
                    last.set_result(time.perf_counter())

        started = time.perf_counter()
        report = await session.dispatcher.run(plan, seen)
        counts = report.counts()
        return last.result() - started, len(plan), counts
    finally:
        await session.aclose()


async def capture_requests(profile: Profile, tmp: Path, limit: int) -> list[Captured]:
    captured: list[Captured] = []
    session = session_for(profile, tmp, captured)
    session.dispatcher.verify = False
    try:
        plan = await plan_for(session, limit)
        await session.dispatcher.run(plan)
    finally:
        await session.aclose()
    return captured


def base_urls(profile: Profile) -> dict[str, str]:
    return {s.api: s.base_url.rstrip("/") for s in settings(profile)}


async def reauthorised(profile: Profile, requests: list[Captured]) -> list[Captured]:
    """x3algo's bearer token belongs to the simulator that issued it: log in to this one."""
    x3 = next(s for s in settings(profile) if s.api == "x3algo")
    client = client_class("x3algo")(x3)
    try:
        token, _ = await client.session.bearer()  # type: ignore[attr-defined]
    finally:
        await client.aclose()
    fresh = []
    for req in requests:
        if req.api == "x3algo":
            headers = tuple((k, f"Bearer {token}" if k.lower() == "authorization" else v)
                            for k, v in req.headers)  # fmt: skip
            req = Captured(req.api, req.method, req.target, headers, req.body)
        fresh.append(req)
    return fresh


async def raw_aiohttp(profile: Profile, requests: list[Captured]) -> tuple[float, dict[int, int]]:
    bases = base_urls(profile)
    statuses: dict[int, int] = {}
    gates = {api: asyncio.Semaphore(CONCURRENCY) for api in APIS}
    connector = aiohttp.TCPConnector(limit=CONCURRENCY * len(APIS))
    async with aiohttp.ClientSession(connector=connector) as client:

        async def one(req: Captured) -> None:
            url = bases[req.api] + req.target
            async with (
                gates[req.api],
                client.request(
                    req.method, url, headers=dict(req.headers), data=req.body or None
                ) as r,
            ):
                await r.read()
                statuses[r.status] = statuses.get(r.status, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(one(r) for r in requests))
        return time.perf_counter() - started, statuses


async def plain_httpx(profile: Profile, requests: list[Captured]) -> tuple[float, dict[int, int]]:
    bases = base_urls(profile)
    statuses: dict[int, int] = {}
    gates = {api: asyncio.Semaphore(CONCURRENCY) for api in APIS}
    limits = httpx.Limits(
        max_connections=CONCURRENCY * len(APIS), max_keepalive_connections=CONCURRENCY * len(APIS)
    )
    async with httpx.AsyncClient(limits=limits, trust_env=False, timeout=30) as client:

        async def one(req: Captured) -> None:
            async with gates[req.api]:
                try:
                    r = await client.request(req.method, bases[req.api] + req.target,
                                             headers=dict(req.headers), content=req.body or None)  # fmt: skip
                except httpx.TransportError as exc:
                    key = type(exc).__name__
                    statuses[key] = statuses.get(key, 0) + 1  # type: ignore[index]
                    return
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(one(r) for r in requests))
        return time.perf_counter() - started, statuses


def sequential(profile: Profile, requests: list[Captured]) -> tuple[float, dict[int, int]]:
    """Seed 001's example: one stop after the other (as with ``requests.post``)."""
    bases = base_urls(profile)
    statuses: dict[int, int] = {}
    with httpx.Client(trust_env=False, timeout=30) as client:
        started = time.perf_counter()
        for req in requests:
            r = client.request(req.method, bases[req.api] + req.target, headers=dict(req.headers),
                               content=req.body or None)  # fmt: skip
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        return time.perf_counter() - started, statuses


def minimum_under_limits(plan_counts: dict[str, int], scale: float) -> float:
    """The least time the documented control limits allow for these many calls."""
    longest = 0.0
    for venue, n in plan_counts.items():
        if venue not in CONTROL_LIMITS or venue == "55tech" or n == 0:
            continue
        limit, window, weight = CONTROL_LIMITS[venue]
        per_window = max(1, limit // weight)
        longest = max(longest, math.ceil(n / per_window - 1) * window * scale)
    return longest


def slowed(profile: Profile, latency_ms: float) -> Profile:
    for api in APIS:
        knobs(profile, api, latency_ms=latency_ms)
    return profile


def compare(
    tmp: Path, off: tuple[str, ...], requests: list[Captured], targets: int, latency: float
) -> None:
    """The four ways of sending the same stops, each against a fresh simulator."""
    print("loopback:" if not latency else f"{latency:g} ms venue latency:")
    with sim_process(*off) as profile:
        console_s, n, counts = asyncio.run(console_run(slowed(profile, latency), tmp, targets))
    print(
        f"  console (dispatcher + journal) {console_s:7.3f} s  {n / console_s:7.0f}/s  outcomes {counts}"
    )
    with sim_process(*off) as profile:
        fresh = asyncio.run(reauthorised(profile, requests))
        floor_s, st = asyncio.run(raw_aiohttp(slowed(profile, latency), fresh))
    print(
        f"  floor: raw aiohttp             {floor_s:7.3f} s  {len(requests) / floor_s:7.0f}/s  HTTP {st}"
    )
    with sim_process(*off) as profile:
        fresh = asyncio.run(reauthorised(profile, requests))
        httpx_s, st = asyncio.run(plain_httpx(slowed(profile, latency), fresh))
    print(
        f"  plain httpx (reference)        {httpx_s:7.3f} s  {len(requests) / httpx_s:7.0f}/s  HTTP {st}"
    )
    with sim_process(*off) as profile:
        fresh = asyncio.run(reauthorised(profile, requests))
        seq_s, st = sequential(slowed(profile, latency), fresh)
    print(
        f"  sequential (seed 001 loop)     {seq_s:7.3f} s  {len(requests) / seq_s:7.0f}/s  HTTP {st}"
    )
    ratio, speedup = console_s / floor_s, seq_s / console_s
    print(f"  console / floor = {ratio:.2f} × (goal ≤ 1.5): {'MET' if ratio <= 1.5 else 'NOT MET'}")
    print(
        f"  sequential / console = {speedup:.1f} × (goal ≥ 20): {'MET' if speedup >= 20 else 'NOT MET'}\n"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=2000)
    parser.add_argument(
        "--scale", type=int, default=34, help="simulator scale (34: ~2,000 targets)"
    )
    parser.add_argument("--latency-ms", type=float, default=10.0, help="venue latency, part 2")
    parser.add_argument("--rate-scale", type=float, default=0.02, help="rate window scale, part 3")
    args = parser.parse_args()
    frozen = ("--frozen-at", "2026-11-21T12:00:00Z")  # same seed + same clock = same ids
    off = ("--still", "--seed", "1", "--scale", str(args.scale), "--no-rate-limits", *frozen)
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        with sim_process(*off) as profile:
            requests = asyncio.run(capture_requests(profile, tmp, args.targets))
        per_venue: dict[str, int] = {}
        for r in requests:
            per_venue[r.api] = per_venue.get(r.api, 0) + 1
        print(f"{len(requests)} control requests across {len(per_venue)} venues: {per_venue}")
        print(
            f"concurrency {CONCURRENCY} per venue, simulator in its own process, rate limits off\n"
        )
        for latency in (0.0, args.latency_ms):
            compare(tmp, off, requests, args.targets, latency)

        on = (
            "--still",
            "--seed",
            "1",
            "--scale",
            str(args.scale),
            "--rate-scale",
            str(args.rate_scale),
            *frozen,
        )
        with sim_process(*on) as profile:
            limited_s, _, counts = asyncio.run(console_run(profile, tmp, args.targets))
            got_429 = sum(counters(profile, api).get("429", 0) for api in APIS)
        floor_limits = minimum_under_limits(per_venue, args.rate_scale)
        print(
            f"rate limits on, windows × {args.rate_scale} (x3algo 100 per {60 * args.rate_scale:.1f} s):"
        )
        print(f"  429 answers: {got_429} (goal 0): {'MET' if got_429 == 0 else 'NOT MET'}")
        ratio = limited_s / floor_limits
        print(f"  console {limited_s:.2f} s; minimum the limits allow {floor_limits:.2f} s; ratio "
              f"{ratio:.3f} × (goal ≤ 1.1): {'MET' if ratio <= 1.1 else 'NOT MET'}  outcomes {counts}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
