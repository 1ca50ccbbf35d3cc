"""Emergency-stop fan-out: the console against a raw floor, plain httpx and seed 001's loop.

Against the simulator (its own process, rate limits off) with 2,000 targets across the
five venues, one run prints, on plain loopback and then with --latency-ms of venue
latency:

* console, calls only — confirm → every outcome journaled (committed), through the real
  dispatcher, venue clients, pacing and SQLite journal, with the dispatcher's re-read
  off: exactly the requests the floor sends. The like-for-like figure for "≤ 1.5 × floor".
* console, full kill — the same with the re-read on, as the console really runs: when
  every outcome was journaled (venues that finish early are re-read meanwhile, which
  loads both processes), and when every target was re-read and verified.
* floor — raw aiohttp sending the very same requests (captured from a rehearsal run)
  with the same concurrency (64 per venue), no journal, no verification.
* floor + SQLite journal — the floor that journals as the console must (reference for
  the proposed goal, issue 13): the same requests, with every intent committed to the
  console's own journal before the first leaves and an outcome row for each answer,
  committed at the end. No venue code, no scrubbing, no answer checked.
* plain httpx — the same requests through httpx's own async pool (reference).
* sequential, seed 001 — the seed's example as written, ``requests.post(url,
  headers=...)`` once per algorithm: no session, a new connection per call.
* sequential, keep-alive — the same loop on one pooled client (reference).

Same boundaries for every fan-out: a fresh simulator per run, the client's pool already
holding 64 connections per venue (a warm-up, for the console after it has listed the
targets it plans from), the clock started at confirm / at the first request. Console
and floor run --repeat times, interleaved; medians are printed with their range. The
slow references run once.

Why a latency configuration: on loopback the simulator answers in about 0.2 ms of its
own CPU, in one process on one of this machine's two cores. Any fan-out is bound by that
CPU, and a sequential call costs only a few times more, so "≥ 20 × faster than
sequential" can be physically out of reach there; the script prints that bound. Real
venues are never 0.2 ms away: --latency-ms (default 10 ms) adds a venue's answer time.
10 ms is the low end of what a real vendor API costs (console and vendor in the same
region, a fast handler); over the internet it is 20–100 ms, where the fan-out's lead
only grows (sequential time grows with latency × calls, the fan-out's with latency ×
calls / 64). The simulator adds it per request only, never to a connection's handshake,
which flatters the new-connection-per-call loop, not the console.

Then with the documented rate limits on (windows scaled by --rate-scale) it prints the
number of 429s and the console's completion time against the minimum the limits allow.

What the floor leaves out, by principle: the journal (every intent committed before the
first call leaves, every outcome committed at the end of its loop turn: about 29 + 31 ms
of CPU for 2,000 calls) and each venue's own work per call (its token, PipAI's signed
body, reading the answer into an Outcome). On loopback, at 0 and at 10 ms, the fan-out
is bound by the client's CPU (2,000 calls cost it more than the 17 waves of latency),
so the ratio is about the ratio of the two processes' CPU and those parts count in
full; where latency dominates (--latency-ms 50) they hide behind it.

Goals (issue 4): console ≤ 1.5 × floor; ≥ 20 × faster than sequential; 0 × 429;
≤ 1.1 × the minimum under limits.   Run: .venv/bin/python benchmarks/kill_fanout.py
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import ssl
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import aiohttp
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._harness import Sim, counters, knobs, machine_speed, root_url, simulator
from console.config import Profile
from console.core.journal import Journal
from console.core.journal_rows import Intent, new_op_id
from console.core.kill import build_kill_plan
from console.core.model import Action, ActionKind, Outcome, OutcomeKind
from console.core.plan import ItemResult, Plan
from console.core.session import Session, SessionOptions
from console.venues.kit.base import VenueClient, VenueSettings
from console.venues.registry import client_class
from tests.venues.loopback import LoopbackVenue

APIS = ("55tech", "x3algo", "pipai", "joyride", "finradar")
CONCURRENCY = 64
DEFAULT_LATENCY_MS = 10.0
# Documented control limits (requests or weight per window, seconds, weight per call).
CONTROL_LIMITS = {
    "x3algo": (100, 60.0, 1),
    "pipai": (1200, 60.0, 5),
    "55tech": (2000, 60.0, 1),  # per client key: one stop per key, never binding
    "finradar": (120, 60.0, 1),
}
# Seed 001 calls requests.post, which builds its TLS context once, at import; httpx
# would load the CA store on every module-level call (~20 ms each), which the seed's
# loop does not pay.
_TLS = ssl.create_default_context()


@dataclass(frozen=True)
class Captured:
    api: str
    method: str
    target: str  # path + query, relative to the venue's base URL
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass(frozen=True)
class Timing:
    """One fan-out run: wall seconds to its end, client and simulator CPU seconds."""

    wall_s: float
    cpu_s: float
    sim_cpu_s: float | None
    statuses: dict[str, int] = field(default_factory=dict)
    verified_s: float | None = None  # console with the re-read on: confirm → all verified


class Recording:
    """The rehearsal's seam (:class:`console.venues.kit.http_client.Seam`): the client's
    connections go to a loopback venue that keeps the control calls (POSTs other than
    auth) and passes every request on to the simulator, so what is captured is what the
    client's one send path put on the wire. The client is given :attr:`settings`: the
    venue under a host name (aiohttp connects to an IP address without asking the
    resolver), which :meth:`forward` maps back to the simulator's address."""

    def __init__(self, settings: VenueSettings, sink: list[Captured]) -> None:
        self.api = settings.api
        real = httpx.URL(settings.base_url)
        self.base_path = real.path.rstrip("/")
        self.origin = f"{real.scheme}://{real.netloc.decode()}"
        named = real.copy_with(host=f"{settings.api}.rehearsal", port=None)
        self.settings = replace(settings, base_url=str(named))
        self.sink = sink
        self.venue = LoopbackVenue(self.forward)

    def connector(self, limit: int) -> aiohttp.BaseConnector:
        return self.venue.connector(limit)

    def opened(self, session: aiohttp.ClientSession) -> None:
        self.venue.opened(session)

    async def forward(self, request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode()
        if request.method == "POST" and "/auth/" not in path:
            relative = path[len(self.base_path) :] if path.startswith(self.base_path) else path
            headers = tuple((k, v) for k, v in request.headers.items() if k.lower() != "host")
            self.sink.append(Captured(self.api, request.method, relative, headers, request.content))
        passed = [(k, v) for k, v in request.headers.items() if k.lower() not in _NOT_PASSED]
        async with (
            aiohttp.ClientSession(trust_env=False, auto_decompress=False) as upstream,
            upstream.request(request.method, self.origin + path, headers=passed,
                             data=request.content or None, allow_redirects=False) as answer,
        ):  # fmt: skip
            body = await answer.read()
            return httpx.Response(answer.status, headers=list(answer.headers.items()), content=body)


_NOT_PASSED = frozenset({"host", "content-length", "connection", "transfer-encoding"})


def settings(profile: Profile) -> list[VenueSettings]:
    return [s for s in profile.venue_settings() if s.api in APIS]


def session_for(profile: Profile, tmp: Path, capture: list[Captured] | None = None) -> Session:
    clients = []
    for s in settings(profile):
        if capture is None:
            clients.append(client_class(s.api)(s))
            continue
        seam = Recording(s, capture)
        clients.append(client_class(s.api)(seam.settings, transport=seam))  # type: ignore[call-arg]
    journal = Journal(tmp / f"journal-{time.monotonic_ns()}.sqlite3", profile="bench")
    return Session(SessionOptions(profile="bench", label="BENCH"), clients, journal)


async def plan_for(session: Session, limit: int) -> Plan:
    failures = await session.refresh()
    if failures:
        raise RuntimeError(f"venues failed to list: {failures}")
    plan = build_kill_plan(session.store, session.clients).plan
    return Plan(plan.items[:limit], plan.title, plan.scope, plan.leaves_behind)


def console_getter(client: VenueClient) -> Callable[[str], object]:
    """A GET on a venue client's own aiohttp session and on the connections its calls use
    (benchmark only: reaches into the client).

    aiohttp pools connections by host, port *and* the ``ssl`` argument, and the client
    names its TLS context on every request: connections warmed without it were never
    reused, so the console opened its own inside the measured time (186 socket connects
    in a profiled run) while the floor opened none.
    """
    transport = client._http.aiohttp_transport  # type: ignore[attr-defined]
    session = transport.client
    assert isinstance(session, aiohttp.ClientSession), "the client has not read yet"
    tls = transport.ssl_context

    async def get(url: str) -> None:
        async with session.get(url, ssl=tls) as r:
            await r.read()

    return get


async def warm(get: Callable[[str], object], root: str, n: int = CONCURRENCY) -> None:
    """Open ``n`` keep-alive connections to a venue's port: ``n`` GETs at once."""

    async def one() -> None:
        await get(root + "/_sim/counters")  # type: ignore[misc]

    await asyncio.gather(*(one() for _ in range(n)))


def aiohttp_getter(session: aiohttp.ClientSession) -> Callable[[str], object]:
    async def get(url: str) -> None:
        async with session.get(url) as r:
            await r.read()

    return get


async def console_run(
    sim: Sim, tmp: Path, limit: int, *, verify: bool, warm_pools: bool = True
) -> Timing:
    """Confirm → every outcome journaled (and, re-read on, → every target verified)."""
    profile = sim.profile
    session = session_for(profile, tmp)
    session.dispatcher.verify = verify
    try:
        plan = await plan_for(session, limit)
        if warm_pools:
            await asyncio.gather(
                *(warm(console_getter(c), root_url(profile, c.settings.api))
                  for c in session.clients.values())
            )  # fmt: skip
        outcomes = 0
        last = asyncio.get_running_loop().create_future()

        def seen(result: ItemResult) -> None:
            nonlocal outcomes
            if result.verified is None:
                outcomes += 1
                if outcomes == len(plan) and not last.done():
                    session.journal.flush()  # every outcome committed, not just queued
                    last.set_result(time.perf_counter())

        sim_cpu, cpu, started = sim.cpu_s(), time.process_time(), time.perf_counter()
        report = await session.dispatcher.run(plan, seen)
        session.journal.flush()  # every verification committed too
        finished, cpu = time.perf_counter(), time.process_time() - cpu
        sim_used = _minus(sim.cpu_s(), sim_cpu)
        verified = finished - started if verify else None
        return Timing(last.result() - started, cpu, sim_used, report.counts(), verified)
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


async def raw_aiohttp(sim: Sim, requests: list[Captured], journal: Journal | None = None) -> Timing:
    """The floor. With ``journal``: the floor that journals as the console must (the
    proposed goal's reference) — every intent committed before the first request, an
    outcome row queued as each answer is read, all committed at the end."""
    bases = base_urls(sim.profile)
    statuses: dict[str, int] = {}
    gates = {api: asyncio.Semaphore(CONCURRENCY) for api in APIS}
    connector = aiohttp.TCPConnector(limit=CONCURRENCY * len(APIS))
    async with aiohttp.ClientSession(connector=connector) as client:
        get = aiohttp_getter(client)
        await asyncio.gather(*(warm(get, root_url(sim.profile, api)) for api in APIS))

        intents: list[Intent] = []

        async def one(index: int, req: Captured) -> None:
            url = bases[req.api] + req.target
            sent = time.perf_counter()
            async with (
                gates[req.api],
                client.request(
                    req.method, url, headers=dict(req.headers), data=req.body or None
                ) as r,
            ):
                await r.read()
                statuses[str(r.status)] = statuses.get(str(r.status), 0) + 1
                if journal is not None:
                    kind = OutcomeKind.APPLIED if r.status < 300 else OutcomeKind.FAILED
                    latency = (time.perf_counter() - sent) * 1000
                    journal.record_outcome(
                        intents[index], Outcome(kind, f"HTTP {r.status}", r.status, latency)
                    )

        sim_cpu, cpu, started = sim.cpu_s(), time.process_time(), time.perf_counter()
        if journal is not None:
            batch, stop = new_op_id(), Action(ActionKind.STOP, reason="kill_fanout floor")
            intents += [Intent(new_op_id(), batch, r.api, f"{r.api}-{i}", f"target {i}", stop)
                        for i, r in enumerate(requests)]  # fmt: skip
            journal.intend_many(intents)  # committed before the first request leaves
        await asyncio.gather(*(one(i, r) for i, r in enumerate(requests)))
        if journal is not None:
            journal.flush()  # every outcome committed
        wall = time.perf_counter() - started
        return Timing(wall, time.process_time() - cpu, _minus(sim.cpu_s(), sim_cpu), statuses)


async def plain_httpx(sim: Sim, requests: list[Captured]) -> Timing:
    bases = base_urls(sim.profile)
    statuses: dict[str, int] = {}
    gates = {api: asyncio.Semaphore(CONCURRENCY) for api in APIS}
    size = CONCURRENCY * len(APIS)
    limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
    async with httpx.AsyncClient(limits=limits, trust_env=False, timeout=30) as client:

        async def get(url: str) -> None:
            (await client.get(url)).raise_for_status()

        await asyncio.gather(*(warm(get, root_url(sim.profile, api)) for api in APIS))

        async def one(req: Captured) -> None:
            async with gates[req.api]:
                try:
                    r = await client.request(req.method, bases[req.api] + req.target,
                                             headers=dict(req.headers), content=req.body or None)  # fmt: skip
                except httpx.TransportError as exc:
                    key = type(exc).__name__
                    statuses[key] = statuses.get(key, 0) + 1
                    return
                statuses[str(r.status_code)] = statuses.get(str(r.status_code), 0) + 1

        sim_cpu, cpu, started = sim.cpu_s(), time.process_time(), time.perf_counter()
        await asyncio.gather(*(one(r) for r in requests))
        wall = time.perf_counter() - started
        return Timing(wall, time.process_time() - cpu, _minus(sim.cpu_s(), sim_cpu), statuses)


def sequential_seed001(sim: Sim, requests: list[Captured]) -> Timing:
    """Seed 001's loop as written: ``requests.post(url, headers=...)`` per algorithm.

    No session, so every call builds a client and opens (and closes) its own
    connection. ``requests`` is not a dependency of this project; module-level
    ``httpx.request`` is the same pattern.
    """
    bases = base_urls(sim.profile)
    statuses: dict[str, int] = {}
    sim_cpu, cpu, started = sim.cpu_s(), time.process_time(), time.perf_counter()
    for req in requests:
        r = httpx.request(req.method, bases[req.api] + req.target, headers=dict(req.headers),
                          content=req.body or None, timeout=30, trust_env=False, verify=_TLS)  # fmt: skip
        statuses[str(r.status_code)] = statuses.get(str(r.status_code), 0) + 1
    wall = time.perf_counter() - started
    return Timing(wall, time.process_time() - cpu, _minus(sim.cpu_s(), sim_cpu), statuses)


def sequential_keepalive(sim: Sim, requests: list[Captured]) -> Timing:
    """The same loop on one keep-alive client (what a careful script would do)."""
    bases = base_urls(sim.profile)
    statuses: dict[str, int] = {}
    with httpx.Client(trust_env=False, timeout=30) as client:
        sim_cpu, cpu, started = sim.cpu_s(), time.process_time(), time.perf_counter()
        for req in requests:
            r = client.request(req.method, bases[req.api] + req.target, headers=dict(req.headers),
                               content=req.body or None)  # fmt: skip
            statuses[str(r.status_code)] = statuses.get(str(r.status_code), 0) + 1
        wall = time.perf_counter() - started
    return Timing(wall, time.process_time() - cpu, _minus(sim.cpu_s(), sim_cpu), statuses)


def _minus(after: float | None, before: float | None) -> float | None:
    return after - before if after is not None and before is not None else None


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


@dataclass
class Runs:
    """Every run of one way of sending, in the order they were made."""

    label: str
    runs: list[Timing] = field(default_factory=list)

    def median(self, pick: Callable[[Timing], float | None] = lambda t: t.wall_s) -> float:
        values = [v for v in (pick(t) for t in self.runs) if v is not None]
        return statistics.median(values) if values else math.nan

    def spread(self, pick: Callable[[Timing], float | None] = lambda t: t.wall_s) -> str:
        values = [v for v in (pick(t) for t in self.runs) if v is not None]
        if len(values) < 2:
            return ""
        return f"({min(values):.3f}–{max(values):.3f})"


def run_fresh(args: Sequence[str], latency: float, job: Callable[[Sim], Timing]) -> Timing:
    with simulator(*args) as sim:
        slowed(sim.profile, latency)
        return job(sim)


def compare(
    off: tuple[str, ...], tmp: Path, requests: list[Captured], targets: int, latency: float,
    repeat: int,
) -> None:  # fmt: skip
    """Every way of sending the same stops, each against a fresh simulator."""
    calls = Runs("console, calls only (re-read off)")
    full = Runs("console, full kill (re-read on)")
    floor = Runs("floor: raw aiohttp")
    journaled = Runs("floor + SQLite journal (reference)")

    def floor_job(sim: Sim) -> Timing:
        return asyncio.run(raw_aiohttp(sim, asyncio.run(reauthorised(sim.profile, requests))))

    def journaled_job(sim: Sim) -> Timing:
        journal = Journal(tmp / f"floor-{new_op_id()}.sqlite3", profile="sim")
        try:
            fresh = asyncio.run(reauthorised(sim.profile, requests))
            return asyncio.run(raw_aiohttp(sim, fresh, journal))
        finally:
            journal.close()

    for _ in range(repeat):
        calls.runs.append(run_fresh(off, latency, lambda sim: asyncio.run(
            console_run(sim, tmp, targets, verify=False))))  # fmt: skip
        floor.runs.append(run_fresh(off, latency, floor_job))
        journaled.runs.append(run_fresh(off, latency, journaled_job))
        full.runs.append(run_fresh(off, latency, lambda sim: asyncio.run(
            console_run(sim, tmp, targets, verify=True))))  # fmt: skip

    def fresh(job: Callable[[Sim, list[Captured]], Timing]) -> Callable[[Sim], Timing]:
        return lambda sim: job(sim, asyncio.run(reauthorised(sim.profile, requests)))

    httpx_run = run_fresh(off, latency, fresh(lambda s, r: asyncio.run(plain_httpx(s, r))))
    seed = run_fresh(off, latency, fresh(sequential_seed001))
    keepalive = run_fresh(off, latency, fresh(sequential_keepalive))

    n = len(requests)
    title = "plain loopback" if not latency else f"{latency:g} ms venue latency"
    print(f"{title} (console and floor: median of {repeat} interleaved runs, range in brackets):")

    def line(label: str, wall: float, cpu: float, extra: str = "") -> None:
        print(f"  {label:38s} {wall:7.3f} s {n / wall:6.0f}/s  client CPU {cpu:5.2f} s  {extra}")

    cpu = lambda t: t.cpu_s  # noqa: E731
    c, f = calls.median(), floor.median()
    line(calls.label, c, calls.median(cpu), f"{calls.spread()} {calls.runs[-1].statuses}")
    full_out, full_ver = full.median(), full.median(lambda t: t.verified_s)
    line(full.label, full_out, full.median(cpu), f"{full.spread()} to every outcome journaled")
    print(f"  {'':38s} {full_ver:7.3f} s to every target re-read and verified "
          f"{full.spread(lambda t: t.verified_s)}")  # fmt: skip
    line(floor.label, f, floor.median(cpu), f"{floor.spread()} HTTP {floor.runs[-1].statuses}")
    fj = journaled.median()
    line(journaled.label, fj, journaled.median(cpu), f"{journaled.spread()} intents + outcomes")
    line("plain httpx (reference, 1 run)", httpx_run.wall_s, httpx_run.cpu_s,
         f"HTTP {httpx_run.statuses}")  # fmt: skip
    line("sequential, seed 001 (new connection", seed.wall_s, seed.cpu_s,
         f"HTTP {seed.statuses}")  # fmt: skip
    print("    per call, as requests.post; 1 run)")
    line("sequential, keep-alive (reference)", keepalive.wall_s, keepalive.cpu_s,
         f"HTTP {keepalive.statuses}")  # fmt: skip

    ratio = c / f
    rounds = sorted(a.wall_s / b.wall_s for a, b in zip(calls.runs, floor.runs, strict=True))
    print(f"  console / floor = {ratio:.2f} × (goal ≤ 1.5): {'MET' if ratio <= 1.5 else 'NOT MET'}"
          f"   [full kill, to every outcome journaled: {full_out / f:.2f} ×; round by round "
          f"{rounds[0]:.2f}–{statistics.median(rounds):.2f}–{rounds[-1]:.2f} ×; client CPU "
          f"{calls.median(cpu) / floor.median(cpu):.2f} ×]")  # fmt: skip
    proposed = c / fj
    print(
        f"  console / floor + journal = {proposed:.2f} × (proposed goal ≤ 1.5: "
        f"{'MET' if proposed <= 1.5 else 'NOT MET'}; the floor above journals nothing)"
    )
    speedup = seed.wall_s / c
    verdict = "MET" if speedup >= 20 else "NOT MET"
    print(f"  sequential / console = {speedup:.1f} × (goal ≥ 20): {verdict}"
          f"   [full kill: {seed.wall_s / full_out:.1f} × to every outcome, "
          f"{seed.wall_s / full_ver:.1f} × to every target verified]")  # fmt: skip
    bound(floor, seed, requests, latency, f)
    print()


def bound(floor: Runs, seed: Timing, requests: list[Captured], latency: float, f: float) -> None:
    """What physics allows here: no fan-out beats the simulator's own CPU or latency."""
    sim_cpu = floor.median(lambda t: t.sim_cpu_s)
    per_venue: dict[str, int] = {}
    for r in requests:
        per_venue[r.api] = per_venue.get(r.api, 0) + 1
    waves = max(math.ceil(n / CONCURRENCY) for n in per_venue.values())
    least = max(sim_cpu if not math.isnan(sim_cpu) else 0.0, waves * latency / 1000)
    if least <= 0:
        return
    cpu_words = (
        f"the simulator spends {sim_cpu / len(requests) * 1e6:.0f} µs of CPU per call "
        f"({sim_cpu:.3f} s for these {len(requests)}, one process on one of this machine's cores)"
        if not math.isnan(sim_cpu)
        else "the simulator's CPU could not be read"
    )
    print(f"  bound: {cpu_words}; {waves} waves of {CONCURRENCY} × {latency:g} ms = "
          f"{waves * latency / 1000:.3f} s of latency; so no fan-out finishes in under "
          f"{least:.3f} s and none can be more than {seed.wall_s / least:.1f} × faster than "
          f"the sequential loop here (the floor is {seed.wall_s / f:.1f} ×)")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=2000)
    parser.add_argument(
        "--scale", type=int, default=34, help="simulator scale (34: ~2,000 targets)"
    )
    parser.add_argument("--latency-ms", type=float, default=DEFAULT_LATENCY_MS,
                        help="venue latency of the second configuration (see the docstring)")  # fmt: skip
    parser.add_argument("--repeat", type=int, default=7, help="console and floor runs each")
    parser.add_argument("--rate-scale", type=float, default=0.02, help="rate window scale, part 3")
    args = parser.parse_args()
    # Same seed + same clock = same ids. Each simulator keeps its venues' login sessions
    # beside its own profile: an x3algo session file in the user's state folder may hold
    # a token from another simulator (an earlier run, another benchmark) on a reused port.
    frozen = ("--frozen-at", "2026-11-21T12:00:00Z", "--state-beside")
    off = ("--still", "--seed", "1", "--scale", str(args.scale), "--no-rate-limits", *frozen)
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        with simulator(*off) as sim:
            requests = asyncio.run(capture_requests(sim.profile, tmp, args.targets))
        per_venue: dict[str, int] = {}
        for r in requests:
            per_venue[r.api] = per_venue.get(r.api, 0) + 1
        print(f"{len(requests)} control requests across {len(per_venue)} venues: {per_venue}")
        print(f"machine: {load()}")
        print(f"concurrency {CONCURRENCY} per venue; simulator in its own process, rate limits "
              f"off; every fan-out starts on a fresh simulator with {CONCURRENCY} warm "
              f"connections per venue\n")  # fmt: skip
        for latency in (0.0, args.latency_ms):
            compare(off, tmp, requests, args.targets, latency, args.repeat)

        on = ("--still", "--seed", "1", "--scale", str(args.scale),
              "--rate-scale", str(args.rate_scale), *frozen)  # fmt: skip
        with simulator(*on) as sim:
            limited = asyncio.run(
                console_run(sim, tmp, args.targets, verify=True, warm_pools=False)
            )
            got_429 = sum(counters(sim.profile, api).get("429", 0) for api in APIS)
        floor_limits = minimum_under_limits(per_venue, args.rate_scale)
        print(
            f"rate limits on, windows × {args.rate_scale} (x3algo 100 per {60 * args.rate_scale:.1f} s):"
        )
        print(f"  429 answers: {got_429} (goal 0): {'MET' if got_429 == 0 else 'NOT MET'}")
        ratio = limited.wall_s / floor_limits
        print(f"  console {limited.wall_s:.2f} s to every outcome journaled; minimum the limits "
              f"allow {floor_limits:.2f} s; ratio {ratio:.3f} × (goal ≤ 1.1): "
              f"{'MET' if ratio <= 1.1 else 'NOT MET'}  outcomes {limited.statuses}")  # fmt: skip
        print(f"machine at the end: {load()}")
    return 0


def load() -> str:
    """Cores and load: other work on the machine slows every fan-out (CPU-bound on
    loopback), not the latency-bound sequential loop."""
    cores = os.cpu_count() or 0
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return f"{cores} cores; {machine_speed()}"
    return f"{cores} cores, load average {one:.2f} (1 min), {five:.2f} (5 min); {machine_speed()}"


if __name__ == "__main__":
    sys.exit(main())
