"""Helpers for the automation tests: a session on the simulator, a runner on a manual
clock, and a loopback webhook that records what Apprise's ``json://`` posts."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiohttp import web

from console.automation.alerts import Alerter
from console.automation.config import AlertsConfig, AutomationConfig
from console.automation.runner import AutomationRunner
from console.core.journal import Journal
from console.core.session import Session, SessionOptions
from console.sim.server import SimServer
from console.venues.registry import session_for
from tests.support import settings_for

APIS = ("55tech", "x3algo", "pipai", "joyride", "finradar")


def make_session(sim: SimServer, tmp_path: Path, apis: tuple[str, ...] = APIS) -> Session:
    journal = Journal(tmp_path / "journal.sqlite3", profile="sim")
    settings = [settings_for(sim, api) for api in apis]
    return session_for(SessionOptions(profile="sim", label="SIM"), settings, journal)


def make_runner(
    session: Session, raw: dict[str, Any], clock: ManualClock, alerter: Alerter | None = None
) -> AutomationRunner:
    return AutomationRunner(
        session, AutomationConfig.model_validate(raw), clock=clock, alerter=alerter
    )


class ManualClock:
    """A clock tests move by hand (UNIX seconds)."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


class Webhook:
    """An aiohttp endpoint on 127.0.0.1 keeping every JSON body posted to it."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.port = 0
        self._arrived = asyncio.Event()
        self.release = asyncio.Event()  # a silent endpoint: answers only once this is set
        self.release.set()

    async def _post(self, request: web.Request) -> web.Response:
        self.paths.append(request.path_qs)
        self.bodies.append(json.loads(await request.text()))
        self._arrived.set()
        await self.release.wait()
        return web.json_response({"ok": True})

    async def wait_for(self, count: int, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while len(self.bodies) < count:
                self._arrived.clear()
                await self._arrived.wait()

    def url(self, token: str) -> str:
        return f"json://127.0.0.1:{self.port}/hook/{token}"


@asynccontextmanager
async def webhook() -> AsyncIterator[Webhook]:
    hook = Webhook()
    app = web.Application()
    app.router.add_post("/{tail:.*}", hook._post)
    runner = web.AppRunner(app)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    hook.port = sock.getsockname()[1]
    await web.SockSite(runner, sock).start()
    try:
        yield hook
    finally:
        await runner.cleanup()


def alerter_for(url: str, clock: ManualClock, **cfg: Any) -> Alerter:
    return Alerter(AlertsConfig(urls=["env:ALERT_URL"], **cfg), [url], clock=clock, profile="sim")
