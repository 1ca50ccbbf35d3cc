"""The world ``trading-console screenshots`` draws: the demo's simulator, in process.

``trading-console demo`` runs the simulator (seed 1, scale 1) and the console against it
over loopback. The pictures show that same world — the same targets, names and numbers —
served the same way, but in the drawing process: each simulated vendor's Starlette app
answers on a loopback port of its own (127.0.0.1, port 0), below the real venue client's
one send path (its seam, ``transport=``: production's aiohttp connector but for a
resolver that sends the venue's host name there). Base URLs name the vendor, never the
port; the vendors' clock is frozen at :data:`~console.demo.world.FROZEN` and the world
does not move (no tick runs), and the store is loaded once from each client's
``list_targets`` (no feeds), so no port, latency or wall-clock time reaches the screen.

:class:`SimTransport` is also where a picture makes a venue misbehave: ``hold`` keeps its
control calls (anything but a GET) waiting until released, ``fail`` answers the control
calls whose path holds a given piece with a 503 in the simulator's words.

It lives in ``console/cli/`` beside ``screenshots.py``, not in ``console/demo/``: it is
the screenshots' world, used by that one command, and it builds the real venue clients
and the simulator's vendors; ``console/demo/`` holds the in-memory world and venue the
TUI tests drive, which need neither.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import httpx
from aiohttp import web
from multidict import CIMultiDict
from starlette.applications import Starlette

from console.core.journal import Journal
from console.core.session import Session, SessionOptions
from console.demo.world import FROZEN, OPERATOR, STREAMING_APIS, FrozenClock
from console.sim.kit.context import SimClock, VendorContext
from console.sim.kit.faults import FaultMiddleware
from console.sim.kit.knobs import Knobs
from console.sim.kit.vendor import VendorSim
from console.sim.kit.world import World
from console.sim.registry import VENDOR_SIMS
from console.sim.server import _admin_routes
from console.venues.kit.base import FeedStatus, Secret, VenueClient, VenueSettings
from console.venues.kit.loopback import LOOPBACK, ToLoopback
from console.venues.registry import client_class

SEED = 1
"""The demo's seed (``trading-console demo`` without ``--seed``)."""

_HOP_BY_HOP = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})


class SimTransport:
    """A vendor's app served on loopback to its client, with the two faults a picture needs.

    The client's seam (:class:`console.venues.kit.http_client.Seam`): :meth:`connector` is
    production's, but every host name resolves to this vendor's server, started in the
    running loop on the client's first request and stopped by :meth:`aclose`.
    """

    def __init__(self, app: Starlette) -> None:
        self._inner = httpx.ASGITransport(app=app)
        self.hold: asyncio.Event | None = None
        self.held = 0
        """Control calls that arrived while held (answered or not)."""
        self.fail: str | None = None
        self._start: asyncio.Task[int] | None = None
        self._runner: web.ServerRunner | None = None
        self._connectors: list[aiohttp.BaseConnector] = []
        self._sessions: list[aiohttp.ClientSession] = []

    def connector(self, limit: int) -> aiohttp.BaseConnector:
        connector = aiohttp.TCPConnector(limit=limit, resolver=ToLoopback(self.port))
        self._connectors.append(connector)
        return connector

    def opened(self, session: aiohttp.ClientSession) -> None:
        self._sessions.append(session)

    async def port(self) -> int:
        """The server's port, starting it on the first call."""
        if self._start is None:
            self._start = asyncio.get_running_loop().create_task(self._serve())
        return await asyncio.shield(self._start)

    async def _serve(self) -> int:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((LOOPBACK, 0))
        self._runner = web.ServerRunner(
            web.Server(self._answer, handler_cancellation=True, access_log=None),
            shutdown_timeout=0,
        )
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()
        return int(sock.getsockname()[1])

    async def _answer(self, request: web.BaseRequest) -> web.StreamResponse:
        asked = httpx.Request(
            request.method,
            f"http://{request.host}{request.raw_path}",
            headers=list(request.raw_headers),
            content=await request.read(),
        )
        answer = await self.handle(asked)
        headers: CIMultiDict[str] = CIMultiDict(
            (k, v) for k, v in answer.headers.multi_items() if k.lower() not in _HOP_BY_HOP
        )
        return web.Response(status=answer.status_code, body=await answer.aread(), headers=headers)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        """The vendor's answer to ``request``, after the faults set on this transport."""
        if request.method != "GET":
            if self.hold is not None:
                self.held += 1
                await self.hold.wait()
            if self.fail is not None and self.fail in request.url.path:
                return httpx.Response(503, json={"error": "upstream unavailable"}, request=request)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        """Stop the server, and the sessions and connectors of the clients it served."""
        for session in self._sessions:
            await session.close()
        for connector in self._connectors:
            await connector.close()
        self._sessions.clear()
        self._connectors.clear()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._start = None
        await self._inner.aclose()


@dataclass
class SimWorld:
    """The simulated vendors, each behind its transport, and one settings per venue."""

    vendors: dict[str, VendorSim[World]]
    transports: dict[str, SimTransport] = field(default_factory=dict)
    settings: dict[str, VenueSettings] = field(default_factory=dict)

    def clients(self) -> list[VenueClient]:
        return [
            client_class(s.api)(s, transport=self.transports[name])  # type: ignore[call-arg]
            for name, s in self.settings.items()
        ]


def sim_world(seed: int = SEED, scale: int = 1, frozen_at: float = FROZEN) -> SimWorld:
    """The demo's five vendors at ``frozen_at``, with a profile entry each (as ``sim`` writes)."""
    clock = SimClock(frozen_at)
    vendors = {
        api: cls(VendorContext(name=api, seed=seed, scale=scale, clock=clock, knobs=Knobs()))
        for api, cls in VENDOR_SIMS.items()
    }
    world = SimWorld(vendors)
    for api, vendor in vendors.items():
        app = Starlette(routes=[*_admin_routes(vendor), *vendor.routes()])
        app.add_middleware(FaultMiddleware, vendor=vendor)
        world.transports[api] = SimTransport(app)
        host = f"{api}.sim"  # a name, so the client's resolver is asked (never an IP's)
        ws = f"ws://{host}{vendor.ws_path}" if vendor.ws_path else None
        world.settings[api] = VenueSettings(
            name=api,
            api=api,
            base_url=f"http://{host}{vendor.base_path}",
            ws_url=ws,
            credentials={k: Secret(str(v)) for k, v in vendor.credentials().items()},
        )
    return world


def sim_session(
    journal_path: Path, clock: FrozenClock, world: SimWorld, **options: object
) -> Session:
    """A session on the world's clients; options as :func:`console.demo.world.demo_session`
    (profile ``demo`` here, as the demo's)."""
    defaults: dict[str, object] = {
        "profile": "demo",
        "label": "DEMO",
        "color": "warning",
        "arm_minutes": 5,
        "stale_after_s": 30,
    }
    settings = SessionOptions(**{**defaults, **options})  # type: ignore[arg-type]
    journal = Journal(journal_path, profile=settings.profile, operator=OPERATOR)
    return Session(settings, world.clients(), journal, clock=clock)


async def load(session: Session) -> None:
    """Fill the store from each client's list, once, as a first feed snapshot would."""
    for name, client in session.clients.items():
        targets = await client.list_targets()
        session.store.snapshot(name, targets)
        live = client.settings.api in STREAMING_APIS
        session.store.health(name, FeedStatus.LIVE if live else FeedStatus.POLLING)
