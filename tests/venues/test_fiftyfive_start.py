"""55-tech start of an engine both stopped and paused, against the simulator over loopback.

The venue keeps the manual pause and the manual stop apart: ``start`` lifts the stop
only (``start_applied``) and the engine then reads MANUAL PAUSED. That is the start
done: verified, exit 0, with the warning that the engine is still manually paused.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from console.cli.main import main
from console.config import write_profile_files
from console.core.dispatcher import Dispatcher
from console.core.journal import Journal
from console.core.model import Action, ActionKind, OutcomeKind, State
from console.core.operator import Operator
from console.core.plan import single_plan
from console.sim.server import SimServer
from console.venues.fiftyfive.client import FiftyFiveClient
from tests.support import settings_for, sim_admin

API = "55tech"
STILL_PAUSED = "still manually paused: resume to trade"


@pytest.fixture
def sim_options() -> dict[str, Any]:
    return {"vendors": (API,)}


@pytest.fixture
async def client(sim: SimServer) -> AsyncIterator[FiftyFiveClient]:
    made = FiftyFiveClient(settings_for(sim, API))
    try:
        yield made
    finally:
        await made.aclose()


async def stopped_and_paused(client: FiftyFiveClient) -> str:
    """A live engine, paused then stopped through the API (reasons for each)."""
    engine = next(t.id for t in await client.list_targets() if t.raw_status == "live")
    paused = await client.execute(engine, Action(ActionKind.PAUSE, reason="risk check"))
    stopped = await client.execute(engine, Action(ActionKind.STOP, reason="end of day"))
    assert (paused.kind, stopped.kind) == (OutcomeKind.APPLIED, OutcomeKind.APPLIED)
    target = await client.read_target(engine)
    assert target is not None and target.attrs["manual_paused"] is True
    assert target.raw_status == "manual_stopped"
    return engine


async def test_start_of_a_stopped_and_paused_engine_is_verified_with_a_paused_warning(
    client: FiftyFiveClient, tmp_path: Path
) -> None:
    engine = await stopped_and_paused(client)
    journal = Journal(tmp_path / "j.sqlite3", profile="test", operator=Operator("alice", "desk"))
    target = await client.read_target(engine)
    assert target is not None
    report = await Dispatcher({API: client}, journal).run(
        single_plan(target, Action(ActionKind.START))
    )
    result = report.results[(API, engine)]
    assert result.outcome.kind is OutcomeKind.APPLIED
    assert result.outcome.vendor_code == "start_applied"
    assert STILL_PAUSED in (result.outcome.warning or "")
    assert (result.verified, result.verified_state) == (True, State.PAUSED)
    after = await client.read_target(engine)
    assert after is not None and after.raw_status == "manual_paused"
    assert after.attrs["manual_stopped"] is False


async def test_a_repeated_start_on_a_paused_engine_is_already_done_and_says_it_is_paused(
    client: FiftyFiveClient,
) -> None:
    engine = await stopped_and_paused(client)
    await client.execute(engine, Action(ActionKind.START))
    again = await client.execute(engine, Action(ActionKind.START))
    assert (again.kind, again.leaves) == (OutcomeKind.ALREADY, State.PAUSED)
    assert STILL_PAUSED in (again.warning or "")


async def test_a_start_of_an_engine_only_stopped_leaves_nothing_behind(
    client: FiftyFiveClient,
) -> None:
    engine = next(t.id for t in await client.list_targets() if t.raw_status == "live")
    await client.execute(engine, Action(ActionKind.STOP))
    started = await client.execute(engine, Action(ActionKind.START))
    assert (started.kind, started.leaves, started.warning) == (OutcomeKind.APPLIED, None, None)


# ----- the CLI, as the operator met it -------------------------------------------------------
def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_start_of_a_stopped_and_paused_engine_exits_0_and_says_still_paused(
    sim: SimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = write_profile_files(tmp_path, profile="sim", label="SIM", color="warning",
                                  venues=sim.venue_entries())  # fmt: skip
    base = ["--config", str(profile)]
    code, out, err = cli(capsys, *base, "status", "--json")
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    engine = next(r["id"] for r in rows if r["venue"] == API and r["raw_status"] == "live")
    for verb in ("pause", "stop"):
        code, _, err = cli(capsys, *base, verb, API, engine, "--yes", "--reason", f"cli {verb}")
        assert code == 0, err
    code, out, err = cli(capsys, *base, "start", API, engine, "--yes")
    assert code == 0, out + err
    assert STILL_PAUSED in out
    assert "re-read: paused (confirmed)" in out and "NOT confirmed" not in out


async def test_under_a_global_soft_pause_a_start_leaves_nothing_the_reread_could_prove(
    sim: SimServer, client: FiftyFiveClient
) -> None:
    """SOFT PAUSED reads PAUSED whether or not the stop was lifted: nothing is accepted
    short of the asked state, and the warning names both holds."""
    engine = await stopped_and_paused(client)
    sim_admin(sim, API, "soft_pause", active=True, reason="venue maintenance")
    started = await client.execute(engine, Action(ActionKind.START))
    assert (started.kind, started.leaves) == (OutcomeKind.APPLIED, None)
    assert STILL_PAUSED in (started.warning or "")
    assert "blocked for all clients" in (started.warning or "")
