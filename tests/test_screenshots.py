"""``trading-console screenshots`` redraws ``screenshots/`` byte for byte, every time.

Runs the documented command into a temporary folder and compares every file with the
committed ones (same names, same bytes), then draws a few again in this process and
compares once more: a timestamp, a port, a temporary path or a PID on screen would fail.
After a deliberate change to the screen, regenerate with ``trading-console screenshots``
and look at the SVGs before committing them.
"""

from __future__ import annotations

import asyncio
import html
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from console.cli.screenshots import SHOTS, THEMES, draw, folder_of, pinned, write_screenshots
from console.sim.server import SimServer
from console.venues.registry import make_client
from tests.support import settings_for

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "screenshots"
REGENERATE = "run `trading-console screenshots` and look at the SVGs before committing"


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*.svg")}


# The documented command, run once per group of shots (its own ``--only``), so the groups
# draw on parallel workers: drawn whole in one process it was the suite's longest test.
GROUPS = [SHOTS[i : i + 3] for i in range(0, len(SHOTS), 3)]


def test_the_committed_folder_holds_exactly_the_shots_the_code_draws() -> None:
    expected = {f"{folder_of(t)}/{s.name}.svg" for t in THEMES for s in SHOTS}
    assert set(files(COMMITTED)) == expected, f"screenshots/ is out of date: {REGENERATE}"


@pytest.mark.slow
@pytest.mark.parametrize("group", GROUPS, ids=lambda g: "+".join(s.name for s in g))
def test_the_command_redraws_the_committed_screenshots_byte_for_byte(
    group: list[Any], tmp_path: Path
) -> None:
    out = tmp_path / "shots"
    names = [s.name for s in group]
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT)}  # NO_COLOR must not leak in
    only = [arg for name in names for arg in ("--only", name)]
    command = [sys.executable, "-m", "console", "screenshots", "--out", str(out), *only]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    drawn, committed = files(out), files(COMMITTED)
    expected = {f"{folder_of(t)}/{name}.svg" for t in THEMES for name in names}
    assert set(drawn) == expected
    changed = sorted(name for name in expected if drawn[name] != committed.get(name))
    assert changed == [], f"these differ from screenshots/: {changed}; {REGENERATE}"


@pytest.mark.slow
def test_a_second_drawing_in_this_process_gives_the_same_bytes(tmp_path: Path) -> None:
    only = ["main-wide", "kill-report", "audit"]  # the ones with a clock, rates and a journal
    written = write_screenshots(tmp_path, only=only, themes=["trading-dark"])
    assert [p.name for p in written] == [f"{name}.svg" for name in only]
    for path in written:
        assert path.read_bytes() == (COMMITTED / "dark" / path.name).read_bytes(), path.name


@pytest.mark.slow
@pytest.mark.parametrize("name", ["main-wide", "kill-report", "audit"])
def test_a_theme_switched_while_running_draws_what_a_start_in_it_draws(
    name: str, tmp_path: Path
) -> None:
    """Cells, cards and reports are styled from the theme's colours (Tones), which CSS
    does not reach: switched to light while running, the overview, the kill's report and
    the audit kept dark-theme colours (a dark-theme green APPLIED on a light background)."""
    shot = next(s for s in SHOTS if s.name == name)
    with pinned():
        svg = asyncio.run(draw(shot, "trading-dark", tmp_path, switch_to="trading-light"))
    assert svg.encode() == (COMMITTED / "light" / f"{name}.svg").read_bytes(), (
        f"{name}: switched to light, it differs from a start in light"
    )


def test_no_temporary_path_or_pid_in_a_picture() -> None:
    for name, data in files(COMMITTED).items():
        text = data.decode()
        assert "/tmp" not in text and "tc-shot-" not in text, name
        assert f" {os.getpid()} " not in text, name


@pytest.fixture
def sim_options() -> dict[str, Any]:
    """The simulator as ``trading-console demo`` starts it: seed 1, scale 1, the wall clock."""
    return {"seed": 1, "scale": 1}


def screen_text(svg: str) -> str:
    """What a picture says, tags removed, non-breaking spaces as spaces."""
    return html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")


def test_the_pictures_show_the_world_the_demo_serves(sim: SimServer, tmp_path: Path) -> None:
    async def engines() -> list[str]:
        client = make_client(settings_for(sim, "55tech"))
        try:
            return [t.name for t in await client.list_targets()]
        finally:
            await client.aclose()

    names = asyncio.run(engines())
    assert len(names) >= 2
    [main] = write_screenshots(tmp_path, only=["main"], themes=["trading-dark"])
    text = screen_text(main.read_text())
    assert f"{len(names)} rows" in text
    missing = [name for name in names if name not in text]
    assert missing == [], f"the main picture lacks the demo's 55-tech clients {missing}"
