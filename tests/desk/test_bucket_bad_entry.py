"""One bad entry in the desk's bucket (a hub bug, a hand-edited key) is skipped and logged
by an attaching console: the rest of the picture still comes in."""

from __future__ import annotations

from pathlib import Path

from console.desk import subjects
from console.desk.local_server import LocalNats
from console.desk.roles import HUB_USER
from console.sim.server import SimServer
from tests.desk.support import PROFILE, connect, running_hub
from tests.desk.test_console_desk import desk_console


async def test_a_console_attaches_past_a_bad_bucket_entry(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    async with running_hub(nats_server, sim, tmp_path) as desk:
        hub_nc = await connect(nats_server, HUB_USER)
        try:
            kv = await hub_nc.jetstream().key_value(subjects.bucket(PROFILE))
            await kv.put(subjects.target_key("x3algo", "not-json"), b"{not json")
        finally:
            await hub_nc.close()
        async with desk_console(nats_server, "alice") as (state, _control):
            hub_keys = {t.key for t in desk.session.store.all_targets()}
            assert hub_keys and {t.key for t in state.store.all_targets()} == hub_keys
