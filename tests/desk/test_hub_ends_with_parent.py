"""A local desk's hub (``demo --desk``) ends with the process that started it, even one
killed with -9: it watches the end of its stdin pipe (``--exit-on-stdin-eof``)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from console.desk.local_server import LocalNats
from console.desk.roles import HUB_USER
from console.sim.server import SimServer
from tests.desk.test_cli_hub import write_profile
from tests.test_cli_automate import env


async def test_the_hub_stops_cleanly_when_its_stdin_closes(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path
) -> None:
    config = write_profile(sim, tmp_path / "profile")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "console", "--config", str(config), "hub", "--nats",
        nats_server.url, "--user", HUB_USER, "--exit-on-stdin-eof",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env={**env(), "TRADING_CONSOLE_NATS_PASSWORD": nats_server.passwords[HUB_USER]},
    )  # fmt: skip
    assert proc.stdin is not None and proc.stderr is not None
    try:
        seen = b""
        async with asyncio.timeout(60):
            while b"serving on" not in seen:
                line = await proc.stderr.readline()
                assert line, seen.decode(errors="replace")  # ended before serving
                seen += line
        proc.stdin.close()  # what the parent's death does to the pipe
        async with asyncio.timeout(60):
            rest = await proc.stderr.read()
            assert await proc.wait() == 0
        assert b"stdin closed" in rest and b"stopping the hub" in rest
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
