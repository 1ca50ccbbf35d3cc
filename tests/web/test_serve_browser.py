"""The console in a browser, end to end: headless Chromium on ``trading-console serve``.

The simulator of all five vendors, a local desk on it (nats-server + hub process), and
``serve --port 0`` on loopback. Chromium opens the page, logs in as alice (the password
typed, never on a command line or in an environment), sees the five panels, arms with
``a``, stops an algorithm with X and confirms with y; then the simulator has it
stopped and the desk's journal has the stop as alice from the browser's address.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import psutil
import pytest

from console.config import write_profile_files
from console.desk import messages, subjects
from console.desk.local_desk import LocalDesk, read_desk_file
from console.desk.local_server import find_binary
from console.sim.server import SimServer
from console.sim.x3algo.world import X3AlgoWorld
from tests.e2e.tmux import ROOT, isolated_env
from tests.web.browser import CHROMIUM, Received, is_loopback_url, launch_args, playwright_missing

PROFILE = "sim"
PANELS = ("Client status", "Running algorithms", "Deployed strategies", "Sniper slots",
          "Instruments by expiration")  # fmt: skip
SERVER_SECRET = "server-env-secret-1"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.timeout(300),  # a browser, a desk and a simulator on a loaded CI machine
    pytest.mark.skipif(playwright_missing() is not None, reason=str(playwright_missing())),
    pytest.mark.skipif(find_binary() is None, reason="nats-server not found (the test extra)"),
]


async def served(config: Path, desk_url: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "console", "--config", str(config), "--profile", PROFILE,
        "serve", "--port", "0", "--desk", desk_url,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env, cwd=ROOT,
    )  # fmt: skip


async def page_url(proc: asyncio.subprocess.Process) -> str:
    assert proc.stdout is not None
    async with asyncio.timeout(60):
        line = (await proc.stdout.readline()).decode()
    found = re.search(r"serving on (http://\S+)", line)
    assert found, f"serve did not say where it serves: {line!r}"
    return found.group(1)


async def journal_rows(url: str, password: str) -> AsyncIterator[messages.JournalRowMsg]:
    import nats

    from console.desk.connect import connect_options

    nc = await nats.connect(url, **connect_options("alice", {"user": "alice",
                                                             "password": password}))  # fmt: skip
    try:
        sub = await nc.jetstream().subscribe(
            subjects.journal_subject(PROFILE), ordered_consumer=True
        )
        while True:
            msg = await sub.next_msg(timeout=30)
            yield messages.JournalRowMsg.decode(msg.data)
    finally:
        await nc.close()


def session_processes(serve_pid: int) -> list[psutil.Process]:
    try:
        children = psutil.Process(serve_pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    return [c for c in children if "console.web.session" in " ".join(c.cmdline())]


async def test_a_browser_logs_in_sees_the_five_panels_arms_and_stops_an_algorithm(
    sim: SimServer, tmp_path: Path
) -> None:
    from playwright.async_api import Route, async_playwright

    config = write_profile_files(tmp_path / "profile", profile=PROFILE, label="SIM",
                                 color="warning", venues=sim.venue_entries())  # fmt: skip
    desk = LocalDesk(config, PROFILE, tmp_path / "desk", operators=["alice"]).start()
    proc: asyncio.subprocess.Process | None = None
    try:
        await desk.wait_serving()
        info = read_desk_file(tmp_path / "desk")
        password = info["users"]["alice"]
        env = {**os.environ, **isolated_env(tmp_path),
               "TRADING_CONSOLE_NATS_PASSWORD": SERVER_SECRET}  # fmt: skip
        proc = await served(config, info["url"], env)
        url = await page_url(proc)
        assert is_loopback_url(url), url

        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=launch_args())
            page = await browser.new_page(viewport={"width": 1700, "height": 1000})

            elsewhere: list[str] = []

            async def loopback_only(route: Route) -> None:  # and the page asks nothing else
                if is_loopback_url(route.request.url):
                    await route.continue_()
                else:
                    elsewhere.append(route.request.url)
                    await route.abort()

            await page.route("**/*", loopback_only)
            screen = Received(tmp_path / "page.txt")
            page.on("websocket", lambda ws: ws.on("framereceived", screen.frame))
            await page.goto(f"{url}/?fontsize=10")
            await screen.wait_for(lambda s: "Log in as your NATS user" in s, what="the login")

            sessions = session_processes(proc.pid)
            assert len(sessions) == 1
            assert password not in " ".join(sessions[0].cmdline())
            environ = sessions[0].environ()
            assert "TRADING_CONSOLE_NATS_PASSWORD" not in environ
            assert SERVER_SECRET not in environ.values()

            await page.focus(".xterm-helper-textarea")
            await page.keyboard.type("alice")
            await page.keyboard.press("Enter")
            await page.keyboard.type(password)
            mark = len(screen.data)
            await page.keyboard.press("Enter")
            # (the header may come in a later frame than the panels: wait for both)
            text = await screen.wait_for(
                lambda s: all(t in s for t in PANELS) and "READ-ONLY" in s, since=mark,
                what="the five panels, read-only")  # fmt: skip
            assert password not in screen.text()  # masked: never drawn
            assert "ARMED" not in text

            mark = len(screen.data)
            await page.keyboard.press("a")
            await screen.wait_for(lambda s: "ARMED" in s, since=mark, what="armed")

            mark = len(screen.data)
            await page.keyboard.press("2")  # the algorithms (the cursor on the first row)
            await screen.wait_for(lambda s: re.search(r"x3algo \w+ · updated \d+ s ago · \d+ rows", s)
                                  is not None, since=mark, what="the algorithms' table")  # fmt: skip
            mark = len(screen.data)
            await page.keyboard.press("X")
            modal = await screen.wait_for(lambda s: re.search(r"Stop algorithm .+? on x3algo", s)
                                          is not None, since=mark, what="the stop modal")  # fmt: skip
            name = re.search(r"Stop algorithm (.+?) on x3algo", modal)
            assert name is not None
            world = sim.vendors["x3algo"].world
            assert isinstance(world, X3AlgoWorld)
            algo = next(a for a in world.algos.values() if a.name == name.group(1).strip())
            assert algo.status == "active"  # nothing sent before the confirmation
            mark = len(screen.data)
            await page.keyboard.press("y")
            await screen.wait_for(lambda s: "verified" in s, since=mark, what="a verified stop")
            await browser.close()
        assert elsewhere == [], "the page asked another host"
        # The tab gone, its session ends (and leaves the desk): no process left behind.
        await asyncio.to_thread(sessions[0].wait, 30)  # (not serve's child: no exit code)
        assert not sessions[0].is_running()

        assert algo.status == "stopped"
        async with asyncio.timeout(60):
            async for row in journal_rows(info["url"], password):
                if row.kind == "outcome" and row.target_id == algo.id:
                    assert row.operator == "alice"
                    assert row.host.endswith("(web 127.0.0.1)")
                    break
    finally:
        if proc is not None:
            await _stop(proc)
        desk.stop()
    assert proc is not None and proc.returncode == 0
    assert session_processes(proc.pid) == []


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(proc.wait(), 30)
        except TimeoutError:
            proc.kill()
            await proc.wait()
