"""A desk console's state source when things go wrong: a missed batch makes it read the
bucket again; a NATS restart shows DESK DOWN at once, then the whole picture again."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from console.desk import protocol as p
from console.desk.local_server import LocalNats
from console.desk.roles import HUB_USER
from console.sim.server import SimServer
from tests.desk.support import PROFILE, connect, running_hub
from tests.desk.test_console_desk import desk_console, down, until


async def test_a_missed_batch_reads_the_bucket_again(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    async with (
        running_hub(nats_server, sim, tmp_path) as desk,
        desk_console(nats_server, "alice") as (state, _control),
    ):
        await until(state, lambda: state.batch_seq is not None, "a first batch")
        before = state.resyncs
        hub_nc = await connect(nats_server, HUB_USER)
        try:  # a batch from the hub's run that skips numbers: some were lost on the way
            skip = p.StateBatch(hub_id=desk.hub.hub_id, seq=(state.batch_seq or 0) + 1000,
                                ts=time.time())  # fmt: skip
            await hub_nc.publish(p.state_subject(PROFILE), skip.encode())
            await hub_nc.flush()
        finally:
            await hub_nc.close()
        await until(state, lambda: state.resyncs > before, "a full read of the bucket")
        hub_keys = {t.key for t in desk.session.store.all_targets()}
        assert {t.key for t in state.store.all_targets()} == hub_keys
        assert state.down is None


async def test_a_nats_restart_is_desk_down_at_once_then_a_full_read(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    async with (
        running_hub(nats_server, sim, tmp_path) as desk,
        desk_console(nats_server, "bob") as (state, _control),
    ):
        said: list[str | None] = []
        state.on_down(said.append)
        before = state.resyncs
        nats_server.stop()
        await until(state, lambda: down(state), "DESK DOWN on every venue")
        assert said and said[0] is not None and "NATS" in said[0]
        nats_server.start()  # the same port, users and files
        await asyncio.wait_for(desk.reconnected.wait(), 30)
        await until(state, lambda: state.down is None, "the desk back")
        assert said[-1] is None and state.resyncs > before
        assert not down(state)
        hub_keys = {t.key for t in desk.session.store.all_targets()}
        assert {t.key for t in state.store.all_targets()} == hub_keys
