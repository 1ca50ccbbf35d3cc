"""The world ``trading-console screenshots`` draws: the demo's simulator, in process.

``trading-console demo`` runs the simulator (seed 1, scale 1) and the console against it
over loopback. The pictures show that same world — the same targets, names and numbers —
but without the sockets: each simulated vendor's Starlette app is served to the real
venue client through :class:`httpx.ASGITransport`, the vendors' clock is frozen at
:data:`~console.demo.world.FROZEN` and the world does not move (no tick runs), and
the store is loaded once from each client's ``list_targets`` (no feeds), so no port,
latency or wall-clock time reaches the screen.

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
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from starlette.applications import Starlette

from console.core.journal import Journal
from console.core.session import Session, SessionOptions
from console.demo.world import FROZEN, OPERATOR, STREAMING_APIS, FrozenClock
from console.sim.kit.context import SimClock, VendorContext
from console.sim.kit.faults import FaultMiddleware
from console.sim.kit.knobs import Knobs
from console.sim.kit.vendor import VendorSim
from console.sim.registry import VENDOR_SIMS
from console.sim.server import _admin_routes
from console.venues.kit.base import FeedStatus, Secret, VenueClient, VenueSettings
from console.venues.registry import client_class

SEED = 1
"""The demo's seed (``trading-console demo`` without ``--seed``)."""

HOST = "127.0.0.1"
"""The host in each venue's base URL; nothing connects to it (the transport is in process)."""


class SimTransport(httpx.AsyncBaseTransport):
    """A vendor's app in process, with the two faults a picture needs."""

    def __init__(self, app: Starlette) -> None:
        self._inner = httpx.ASGITransport(app=app)
        self.hold: asyncio.Event | None = None
        self.held = 0
        """Control calls that arrived while held (answered or not)."""
        self.fail: str | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "GET":
            if self.hold is not None:
                self.held += 1
                await self.hold.wait()
            if self.fail is not None and self.fail in request.url.path:
                return httpx.Response(503, json={"error": "upstream unavailable"}, request=request)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


@dataclass
class SimWorld:
    """The simulated vendors, each behind its transport, and one settings per venue."""

    vendors: dict[str, VendorSim]
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
    for port, (api, vendor) in enumerate(vendors.items(), start=8401):
        app = Starlette(routes=[*_admin_routes(vendor), *vendor.routes()])
        app.add_middleware(FaultMiddleware, vendor=vendor)
        world.transports[api] = SimTransport(app)
        ws = f"ws://{HOST}:{port}{vendor.ws_path}" if vendor.ws_path else None
        world.settings[api] = VenueSettings(
            name=api,
            api=api,
            base_url=f"http://{HOST}:{port}{vendor.base_path}",
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
