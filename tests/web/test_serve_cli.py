"""``trading-console serve`` before any browser: what it refuses, and what its server
answers (a page of its own origin; a websocket from another origin refused)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from console.cli.main import main
from console.config import write_profile_files
from tests.e2e.tmux import ROOT, isolated_env

NOWHERE = "nats://127.0.0.1:9"  # loopback's discard port: serve itself never connects


def config(tmp_path: Path, **extra: str) -> Path:
    return write_profile_files(tmp_path, profile="sim", label="SIM", color="warning",
                               venues=[], extra=extra)  # fmt: skip


def test_serve_without_a_desk_says_how_to_get_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(config(tmp_path)), "serve"]) == 2
    err = capsys.readouterr().err
    assert "has no desk, and serve needs one" in err and "--desk URL" in err


def test_serve_takes_no_credentials_in_the_desk_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "nats://alice:sekret@127.0.0.1:4222"
    assert main(["--config", str(config(tmp_path)), "serve", "--desk", url]) == 2
    err = capsys.readouterr().err
    assert "carries a user or password" in err and "sekret" not in err


async def test_the_page_is_served_and_a_websocket_from_another_origin_is_refused(
    tmp_path: Path,
) -> None:
    env = {**os.environ, **isolated_env(tmp_path)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "console", "--config", str(config(tmp_path)), "serve", "--port",
        "0", "--desk", NOWHERE, stdout=asyncio.subprocess.PIPE, env=env, cwd=ROOT,
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        async with asyncio.timeout(60):
            line = (await proc.stdout.readline()).decode()
        found = re.search(r"serving on (http://127\.0\.0\.1:(\d+))", line)
        assert found, line
        url, port = found.group(1), found.group(2)
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{url}/") as page:
                assert page.status == 200
                assert f"ws://127.0.0.1:{port}/ws" in await page.text()
            # The page's URLs are the ones the browser used (a wall screen's LAN name).
            async with http.get(f"{url}/", headers={"Host": f"localhost:{port}"}) as page:
                assert f"ws://localhost:{port}/ws" in await page.text()
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(f"{url}/ws", origin="http://127.0.0.1:1")
            assert refused.value.status == 403
    finally:
        proc.send_signal(signal.SIGINT)
        async with asyncio.timeout(30):
            await proc.wait()
    assert proc.returncode == 0
