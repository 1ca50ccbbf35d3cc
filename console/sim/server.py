"""Serve the five simulated vendor APIs on loopback, one port each, from one process.

Each vendor gets its own Starlette app (its documented paths, plus ``/_sim/...`` for
tests and demos) behind the fault middleware, served by uvicorn with httptools. A world
tick moves the markets; ``motion=False`` keeps the world still for deterministic tests.

``SimServer.start_in_thread()`` runs everything on a private uvloop in a background
thread (what tests and the benchmarks use); ``serve()`` runs in the caller's loop (what
``trading-console sim`` does).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from console.sim.kit.context import SimClock, VendorContext
from console.sim.kit.faults import FaultMiddleware
from console.sim.kit.keepalive import keepalive_protocol
from console.sim.kit.knobs import Knobs
from console.sim.kit.vendor import AdminError, VendorSim
from console.sim.kit.world import World
from console.sim.registry import VENDOR_SIMS

log = logging.getLogger(__name__)

LOOPBACK = ("127.0.0.1", "::1", "localhost")


class SimServer:
    """The simulator: five vendor APIs, one seeded world."""

    def __init__(
        self,
        *,
        seed: int = 1,
        scale: int = 1,
        scales: Mapping[str, int] | None = None,
        host: str = "127.0.0.1",
        port_base: int = 0,
        frozen_at: float | None = None,
        motion: bool = True,
        tick_s: float = 0.5,
        knobs: Mapping[str, Mapping[str, Any]] | None = None,
        vendors: tuple[str, ...] | None = None,
    ) -> None:
        if host not in LOOPBACK:
            raise ValueError(f"the simulator serves loopback only, not {host!r}")
        self.host = "127.0.0.1" if host == "localhost" else host
        self.port_base = port_base
        self.clock = SimClock(frozen_at)
        self.motion = motion
        self.tick_s = tick_s
        self.vendors: dict[str, VendorSim[World]] = {}
        for api in vendors or tuple(VENDOR_SIMS):
            vendor_scale = (scales or {}).get(api, scale)
            ctx = VendorContext(
                name=api, seed=seed, scale=vendor_scale, clock=self.clock, knobs=Knobs()
            )
            if knobs and api in knobs:
                ctx.knobs.update(dict(knobs[api]))
            self.vendors[api] = VENDOR_SIMS[api](ctx)
        self.ports: dict[str, int] = {}
        self._servers: list[_PromptServer] = []
        self._stop = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    # ----- addresses and profile -------------------------------------------------
    def _url_host(self) -> str:
        return f"[{self.host}]" if ":" in self.host else self.host

    def root_url(self, api: str) -> str:
        """Where ``/_sim/...`` lives for ``api`` (the port's root, whatever the base path)."""
        return f"http://{self._url_host()}:{self.ports[api]}"

    def base_url(self, api: str) -> str:
        return f"http://{self._url_host()}:{self.ports[api]}{self.vendors[api].base_path}"

    def ws_url(self, api: str) -> str | None:
        path = self.vendors[api].ws_path
        return f"ws://{self._url_host()}:{self.ports[api]}{path}" if path else None

    def venue_entries(self) -> list[dict[str, Any]]:
        """One profile venue entry per simulated vendor, credentials in clear (demo only)."""
        entries = []
        for api, vendor in self.vendors.items():
            entry: dict[str, Any] = {"api": api, "name": api, "base_url": self.base_url(api)}
            ws = self.ws_url(api)
            if ws:
                entry["ws_url"] = ws
            entry["credentials"] = vendor.credentials()
            entries.append(entry)
        return entries

    # ----- serving -----------------------------------------------------------------
    def _app(self, vendor: VendorSim[World]) -> Starlette:
        app = Starlette(routes=[*_admin_routes(vendor), *vendor.routes()])
        app.add_middleware(FaultMiddleware, vendor=vendor)
        return app

    async def serve(self, ready: asyncio.Event | None = None) -> None:
        """Serve until :meth:`request_stop`; ``ready`` is set once every port listens."""
        self._stop = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        sockets = []
        for i, (api, vendor) in enumerate(self.vendors.items()):
            family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port_base + i if self.port_base else 0))
            sock.listen(1024)
            sock.setblocking(False)
            self.ports[api] = sock.getsockname()[1]
            config = uvicorn.Config(
                self._app(vendor),
                lifespan="off",
                log_level="warning",
                access_log=False,
                http=keepalive_protocol(vendor.ctx),  # httptools; the stale_keepalive knob
                ws="websockets-sansio",
                ws_ping_interval=None,
                timeout_graceful_shutdown=1,
            )
            self._servers.append(_PromptServer(config))
            sockets.append(sock)
        tasks = [
            asyncio.create_task(s.serve(sockets=[k]))
            for s, k in zip(self._servers, sockets, strict=True)
        ]
        while not all(s.started for s in self._servers):
            if any(t.done() for t in tasks):
                break
            await asyncio.sleep(0.005)
        ticker = asyncio.create_task(self._tick_forever())
        dropper = asyncio.create_task(self._drop_forever())
        if ready is not None:
            ready.set()
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            ticker.cancel()
            dropper.cancel()
            for vendor in self.vendors.values():
                await _close_websockets(vendor, 1001, "simulator shutting down")
                # What it holds is let go (answered, to a client that may be gone): held
                # requests kept their connections open until uvicorn's grace ran out and
                # it cancelled them mid-answer, printing a traceback.
                vendor.ctx.knobs.hold_lists = vendor.ctx.knobs.hold_controls = False
                vendor.ctx.knobs_changed.set()
            for server in self._servers:
                server.should_exit = True
                server.wake.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            for sock in sockets:
                sock.close()

    async def _tick_forever(self) -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(self.tick_s)
            now = time.monotonic()
            if self.motion:
                self.tick(now - last)
            last = now

    def tick(self, dt: float) -> None:
        """Move the world by ``dt`` seconds (P&L drift, fills, expiries ...)."""
        now = self.clock.now()
        for vendor in self.vendors.values():
            try:
                vendor.world.tick(now, dt)
            except Exception:  # a bug in one vendor's world must not stop the others
                log.exception("%s world tick failed", vendor.api)

    async def _drop_forever(self) -> None:
        while True:
            await asyncio.sleep(0.1)
            for vendor in self.vendors.values():
                after = vendor.ctx.knobs.ws_drop_after_s
                if after > 0:
                    await _close_websockets(vendor, 1011, "simulated drop", older_than=after)

    def request_stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)

    # ----- background thread (tests, benchmarks, demo) ----------------------------
    def start_in_thread(self, timeout_s: float = 10.0) -> SimServer:
        def run() -> None:
            try:
                import uvloop

                with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                    runner.run(self.serve())
            except BaseException as exc:  # reported to the starting thread
                self._error = exc
                self._ready.set()

        self._thread = threading.Thread(target=run, name="trading-console-sim", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout_s):
            raise RuntimeError("simulator did not start in time")
        if self._error is not None:
            raise RuntimeError(f"simulator failed to start: {self._error}") from self._error
        return self

    def stop_thread(self, timeout_s: float = 10.0) -> None:
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def call(self, fn: Any, *args: Any) -> Any:
        """Run ``fn(*args)`` on the simulator's loop and return its result (thread-safe)."""
        assert self._loop is not None

        async def run() -> Any:
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(10)

    def knobs(self, api: str) -> Knobs:
        return self.vendors[api].ctx.knobs


class _PromptServer(uvicorn.Server):
    """uvicorn's server, woken at once when told to stop: its own loop looks every
    0.1 s, so every stop waited up to that long (half of a test's teardown: the suite
    stops a simulator some 700 times). It still ticks every 0.1 s meanwhile (uvicorn's
    Date header, its request counters)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.wake = asyncio.Event()

    async def main_loop(self) -> None:
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.1):
                    await self.wake.wait()
            should_exit = await self.on_tick(counter)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's shutdown without its fixed waits: it sleeps 0.1 s after asking its
        connections to close, then looks again every 0.1 s — the other half of every
        test's teardown (~800 a run), with no connection left to wait for. Here it looks
        every 5 ms, within the same grace (``timeout_graceful_shutdown``), then cancels
        what is left, as uvicorn does."""
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        state = self.server_state
        try:
            async with asyncio.timeout(self.config.timeout_graceful_shutdown):
                # (uvicorn's connection and task sets signal nothing when they empty)
                while (state.connections or state.tasks) and not self.force_exit:  # noqa: ASYNC110
                    await asyncio.sleep(0.005)
                for server in self.servers:
                    await server.wait_closed()
        except TimeoutError:
            for task in state.tasks:
                task.cancel(msg="Task cancelled, timeout graceful shutdown exceeded")
        if not self.force_exit:
            await self.lifespan.shutdown()


@contextlib.contextmanager
def running_sim(**kwargs: Any) -> Iterator[SimServer]:
    """A simulator in a background thread for the duration of a ``with`` block."""
    sim = SimServer(**kwargs).start_in_thread()
    try:
        yield sim
    finally:
        sim.stop_thread()


async def _close_websockets(
    vendor: VendorSim[World], code: int, reason: str, *, older_than: float | None = None
) -> int:
    closed = 0
    now = time.monotonic()
    for ws in list(vendor.ctx.websockets):
        opened = ws.scope.get("sim_opened_at", now)
        if older_than is not None and now - opened < older_than:
            continue
        vendor.ctx.websockets.discard(ws)
        with contextlib.suppress(Exception):
            await ws.close(code=code, reason=reason)
        closed += 1
    if closed:
        vendor.ctx.count("ws_dropped", closed)
    return closed


def _admin_routes(vendor: VendorSim[World]) -> list[Route]:
    """``/_sim/...``: knobs, counters, world commands and dropping streams, for tests."""

    async def get_knobs(request: Request) -> Response:
        return JSONResponse(vendor.ctx.knobs.as_dict())

    async def set_knobs(request: Request) -> Response:
        try:
            vendor.ctx.knobs.update(await request.json())
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        vendor.ctx.knobs_changed.set()
        return JSONResponse(vendor.ctx.knobs.as_dict())

    async def counters(request: Request) -> Response:
        return JSONResponse(vendor.ctx.counters)

    async def drop(request: Request) -> Response:
        return JSONResponse({"dropped": await _close_websockets(vendor, 1011, "simulated drop")})

    async def admin(request: Request) -> Response:
        body = await request.body()
        try:
            args = json.loads(body) if body else {}
            return JSONResponse(vendor.admin(request.path_params["command"], args))
        except AdminError as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)
        except (ValueError, KeyError, TypeError) as exc:
            return JSONResponse({"error": f"bad arguments: {exc}"}, status_code=400)

    return [
        Route("/_sim/knobs", get_knobs, methods=["GET"]),
        Route("/_sim/knobs", set_knobs, methods=["POST"]),
        Route("/_sim/counters", counters, methods=["GET"]),
        Route("/_sim/drop-websockets", drop, methods=["POST"]),
        Route("/_sim/admin/{command}", admin, methods=["POST"]),
    ]
