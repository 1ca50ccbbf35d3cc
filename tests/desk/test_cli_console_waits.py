"""``trading-console --desk`` before any hub serves the profile: DESK DOWN is said, and the
console opens with its panels once a hub serves (its screen is built from the hub's
venues, so it cannot be built before)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import ClassVar

import pytest

from console.cli import desk as desk_cli
from console.cli.desk_link import DeskAddress
from console.config import load_profile
from console.desk.desk_console import DeskConsoleApp
from console.desk.local_server import LocalNats
from console.sim.server import SimServer
from tests.desk.support import PROFILE, running_hub
from tests.desk.test_cli_hub import write_profile
from tests.desk.test_console_desk import OPTIONS


class _Seen(DeskConsoleApp):
    """Quits once mounted, keeping the venues its screen was built with."""

    venues_seen: ClassVar[list[str]] = []

    def on_mount(self) -> None:
        _Seen.venues_seen = list(self.state.venues)
        self.call_after_refresh(self.exit)


async def test_a_console_before_any_hub_says_desk_down_and_opens_when_one_serves(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    said: list[str] = []
    waiting = asyncio.Event()

    def err(line: str) -> None:
        said.append(line)
        waiting.set()

    monkeypatch.setattr(desk_cli, "_err", err)
    profile = load_profile(write_profile(sim, tmp_path / "profile"), PROFILE)
    name, password = nats_server.creds("alice")
    address = DeskAddress(nats_server.url, PROFILE, name, {"user": name, "password": password},
                          (password,))  # fmt: skip
    opened = asyncio.ensure_future(
        desk_cli.console(address, OPTIONS, profile, readonly=True, theme=None, app_class=_Seen)
    )
    try:
        async with asyncio.timeout(60):
            await asyncio.wait([opened, asyncio.ensure_future(waiting.wait())],
                               return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
        assert not opened.done(), said
        assert said and said[0].startswith("DESK DOWN: ") and PROFILE in said[0]
        assert password not in " ".join(said)
        async with running_hub(nats_server, sim, tmp_path):
            async with asyncio.timeout(60):
                assert await opened == 0
        assert _Seen.venues_seen == ["x3algo"]
    finally:
        opened.cancel()
