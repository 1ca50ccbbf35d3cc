"""A console attached before any hub served its desk follows the re-arm requests once
one does: the bucket the requests live in does not exist until a hub makes it, and the
board used to give up at attach ("no bucket yet") and never show a request."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

from console.desk import subjects
from console.desk.local_server import LocalNats
from console.desk.rearm import RearmMsg
from console.desk.rearm_board import RearmBoard
from console.desk.roles import HUB_USER
from console.sim.server import SimServer
from tests.desk.support import PROFILE, connect, running_hub
from tests.desk.test_console_desk import desk_console


async def test_a_board_attached_before_any_hub_shows_a_request_posted_later(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    async with desk_console(nats_server, "bob") as (state, _control):
        assert state.hub is None  # no hub, no bucket yet
        board = RearmBoard(state)
        seen = asyncio.Event()
        board.on_change(lambda msg, new: seen.set() if new else None)
        follow = asyncio.ensure_future(board.follow())
        try:
            async with running_hub(nats_server, sim, tmp_path):
                await asyncio.wait_for(state.until_served(), 30)
                nc = await connect(nats_server, HUB_USER)  # as the hub posts one
                try:
                    kv = await nc.jetstream().key_value(subjects.bucket(PROFILE))
                    request = RearmMsg(id="r1", user="alice", requested_by="alice@desk-1",
                                       title="Resume 1", items=[], ts_ms=int(time.time() * 1000))  # fmt: skip
                    await kv.put("r.r1", request.encode())
                    await asyncio.wait_for(seen.wait(), 30)
                finally:
                    await nc.close()
            assert [m.id for m in board.waiting()] == ["r1"]
        finally:
            follow.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follow
