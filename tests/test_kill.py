"""Emergency stop over loopback against the real simulator of all five venues."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from console.cli.main import main
from console.config import write_profile_files
from console.core.dispatcher import DispatchBusy
from console.core.journal import Journal
from console.core.kill import KillScope, build_kill_plan
from console.core.model import State
from console.core.recovery import verify_interrupted
from console.core.session import Session, SessionOptions
from console.sim.server import SimServer
from console.venues.pipai.client import PipAIClient
from console.venues.registry import session_for
from tests.support import set_knobs, settings_for, sim_counters

APIS = ("55tech", "x3algo", "pipai", "joyride", "finradar")


def make_session(sim: SimServer, tmp_path: Path, **overrides: object) -> Session:
    journal = Journal(tmp_path / "journal.sqlite3", profile="sim")
    settings = [settings_for(sim, api, **overrides) for api in APIS]  # type: ignore[arg-type]
    return session_for(SessionOptions(profile="sim", label="SIM"), settings, journal)


async def test_kill_everything_halts_and_verifies_every_target(
    sim: SimServer, tmp_path: Path
) -> None:
    session = make_session(sim, tmp_path)
    try:
        assert await session.refresh() == {}
        kp = build_kill_plan(session.store, session.clients, reason="drill")
        assert set(kp.counts_by_venue()) == set(APIS)
        report = await session.dispatcher.run(kp.plan)
        assert report.all_halted, report.summary()
        # Joyride cannot report pause state: its rounds are halted by its answer only.
        joyride = kp.counts_by_venue()["joyride"]
        assert report.by_answer_count == joyride
        assert report.summary().startswith(
            f"halted {len(kp.plan) - joyride}/{len(kp.plan)} verified"
        )
        # A second plan built now finds nothing left to halt.
        await session.refresh()
        again = build_kill_plan(session.store, session.clients)
        assert [i for i in again.plan.items if i.venue != "joyride"] == []
        rows = session.journal.entries(batch_id=report.batch_id)
        assert sum(1 for r in rows if r.kind == "intent") == len(kp.plan)
        assert sum(1 for r in rows if r.kind == "outcome") == len(kp.plan)
        assert sum(1 for r in rows if r.kind == "verify") == len(kp.plan)
        assert {r.reason for r in rows} == {"drill"}
    finally:
        await session.aclose()


async def test_coarse_switches_go_first(sim: SimServer, tmp_path: Path) -> None:
    session = make_session(sim, tmp_path)
    try:
        await session.refresh()
        kinds = [i.kind.value for i in build_kill_plan(session.store, session.clients).plan.items]
        coarse = [k in ("engine", "expiration") for k in kinds]
        assert coarse == sorted(coarse, reverse=True)
    finally:
        await session.aclose()


async def test_one_venue_down_during_the_kill_does_not_stop_the_others(
    sim: SimServer, tmp_path: Path
) -> None:
    session = make_session(sim, tmp_path, request_timeout_s=1.0, control_timeout_s=1.0)
    session.dispatcher.read_retry_s = 0.0  # down for good: its 503s not re-read for 10 s
    try:
        await session.refresh()
        kp = build_kill_plan(session.store, session.clients)
        set_knobs(sim, "x3algo", down=True)
        report = await session.dispatcher.run(kp.plan)
        for (venue, _), result in report.results.items():
            if venue == "x3algo":
                assert result.outcome.kind.value in ("failed", "uncertain")
                assert not result.verified
            else:
                assert result.halted, (venue, result.outcome.message)
        assert "failed" in report.summary() or "uncertain" in report.summary()
    finally:
        await session.aclose()


async def test_a_second_press_during_a_kill_sends_nothing(sim: SimServer, tmp_path: Path) -> None:
    session = make_session(sim, tmp_path)
    try:
        await session.refresh()
        kp = build_kill_plan(session.store, session.clients)
        set_knobs(sim, "finradar", latency_ms=300)  # keeps the first run going
        first_outcome = asyncio.Event()
        first = asyncio.create_task(session.dispatcher.run(kp.plan, lambda _r: first_outcome.set()))
        await asyncio.wait_for(first_outcome.wait(), 10)
        assert not first.done()
        with pytest.raises(DispatchBusy):
            await session.dispatcher.run(kp.plan)
        report = await first
        intents = [e for e in session.journal.entries() if e.kind == "intent"]
        assert len(intents) == len(kp.plan)
        assert report.all_halted
    finally:
        await session.aclose()


async def test_a_kill_cut_short_is_recovered_on_the_next_start(
    sim: SimServer, tmp_path: Path
) -> None:
    session = make_session(sim, tmp_path)
    await session.refresh()
    kp = build_kill_plan(session.store, session.clients, scope=KillScope(venue="x3algo"))
    set_knobs(sim, "x3algo", latency_ms=2000)  # every stop hangs: the run is cut short
    intents_written = asyncio.Event()
    write_intents = session.journal.intend_many

    def intend_many(intents: object) -> None:
        write_intents(intents)  # type: ignore[arg-type]
        intents_written.set()

    session.journal.intend_many = intend_many  # type: ignore[method-assign]
    run = asyncio.create_task(session.dispatcher.run(kp.plan))
    await asyncio.wait_for(intents_written.wait(), 10)
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    await session.aclose()

    set_knobs(sim, "x3algo", latency_ms=0)
    restarted = make_session(sim, tmp_path)
    try:
        pending = restarted.journal.interrupted()
        assert {e.target_id for e in pending} == {i.target_id for i in kp.plan.items}
        verified = await verify_interrupted(restarted.journal, restarted.clients)
        assert len(verified) == len(pending)
        assert all(v.state is not State.UNKNOWN for v in verified)
        assert restarted.journal.interrupted() == []
    finally:
        await restarted.aclose()


def test_cli_kill_yes_json_exits_14_when_all_is_halted_but_joyride_only_by_its_answer(
    sim: SimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_profile_files(tmp_path, profile="sim", label="SIM", color="warning",
                               venues=sim.venue_entries())  # fmt: skip
    code = main(["--config", str(path), "kill", "--yes", "--json", "--reason", "cli drill"])
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    summary = lines[-1]
    # Every target halted; Joyride's only by its answer (it cannot report pause state).
    assert code == 14, summary
    assert summary["all_verified"] is False
    assert summary["verdict"] == "halted_by_answer"
    assert {x["venue"] for x in lines[:-1]} == set(APIS)
    assert all(x["verified"] != (x["venue"] == "joyride") for x in lines[:-1])
    assert all(x["by_answer"] == (x["venue"] == "joyride") for x in lines[:-1])


def test_cli_kill_asks_for_the_profile_label(
    sim: SimServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = write_profile_files(tmp_path, profile="sim", label="SIM", color="warning",
                               venues=sim.venue_entries())  # fmt: skip
    monkeypatch.setattr("sys.stdin", _Stdin("sim\n"))  # wrong case: refused
    assert main(["--config", str(path), "kill"]) == 6
    assert Journal(path.parent / "journal.sqlite3", profile="sim").entries() == []


def test_audit_lists_what_was_done(
    sim: SimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_profile_files(tmp_path, profile="sim", label="SIM", color="warning",
                               venues=sim.venue_entries())  # fmt: skip
    assert main(["--config", str(path), "kill", "--yes", "--venue", "finradar", "--json"]) == 0
    capsys.readouterr()
    assert main(["--config", str(path), "audit", "--since", "1h", "--json"]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert {r["kind"] for r in rows} == {"intent", "outcome", "verify"}
    assert {r["venue"] for r in rows} == {"finradar"}
    assert main(["--config", str(path), "audit", "--outcome", "failed"]) == 0
    assert "no journal entries match" in capsys.readouterr().err


def test_audit_of_an_empty_journal_says_it_is_empty_not_that_nothing_matched(
    sim: SimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_profile_files(tmp_path, profile="sim", label="SIM", color="warning",
                               venues=sim.venue_entries())  # fmt: skip
    assert main(["--config", str(path), "audit"]) == 0
    err = capsys.readouterr().err
    assert "the journal holds no entries for this profile yet (" in err, err
    assert "journal.sqlite3" in err  # which file was read


class _Stdin:
    def __init__(self, text: str) -> None:
        self.lines = text.splitlines(keepends=True)

    def readline(self) -> str:
        return self.lines.pop(0) if self.lines else ""


def test_cli_kill_yes_does_not_hold_the_others_stops_for_a_list_that_hangs(
    sim: SimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """PipAI's list hangs: x3algo's stops leave (and are carried out) while it still
    hangs; when PipAI answers, its strategies join the same kill, called and verified."""
    venues = [
        {**v, "request_timeout": 60.0} if v["api"] == "pipai" else v for v in sim.venue_entries()
    ]  # its held read must outlast this test's steps
    path = write_profile_files(tmp_path, profile="sim", label="SIM", color="warning",
                               venues=venues)  # fmt: skip
    runner, codes = _kill_while_pipai_lists_hang(sim, path)
    try:
        stopped = _when(lambda: sim_counters(sim, "x3algo").get("stopped", 0) > 0)
        held = sim_counters(sim, "pipai")
        assert stopped, "no x3algo stop left while PipAI's list hung"
        assert held.get("held_lists", 0) >= 1 and held.get("pause", 0) == 0, held
    finally:
        set_knobs(sim, "pipai", hold_lists=False)
        runner.join(60)
    assert not runner.is_alive() and codes == [14], codes
    captured = capsys.readouterr()
    lines = [json.loads(x) for x in captured.out.splitlines()]
    summary, results = lines[-1], lines[:-1]
    assert summary["verdict"] == "halted_by_answer", summary
    assert {x["venue"] for x in results} == set(APIS)
    pipai = [x for x in results if x["venue"] == "pipai"]
    assert pipai and all(x["verified"] for x in pipai), pipai
    assert "pipai" in captured.err and "its list is still on its way" in captured.err
    assert "target(s) join the kill" in captured.err
    joined = captured.err.split("target(s) join the kill", 1)[1]
    assert "leaves behind — pipai: open positions stay open" in joined  # said as it joins
    journal = Journal(path.parent / "journal.sqlite3", profile="sim")
    rows = journal.entries(batch_id=summary["batch_id"])
    intents = {(r.venue, r.target_id) for r in rows if r.kind == "intent"}
    assert {(x["venue"], x["target"]) for x in results} == intents  # one batch, all journaled


def test_cli_kill_yes_names_a_late_venue_it_could_not_read(
    sim: SimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A late list that ends in refusals: the others are halted, PipAI is UNREACHABLE."""
    path = write_profile_files(tmp_path, profile="sim", label="SIM", color="warning",
                               venues=sim.venue_entries(),
                               extra={"kill_planning_deadline": 4.0})  # fmt: skip
    runner, codes = _kill_while_pipai_lists_hang(sim, path)
    try:
        assert _when(lambda: sim_counters(sim, "x3algo").get("stopped", 0) > 0)
    finally:
        set_knobs(sim, "pipai", hold_lists=False, down=True)
        runner.join(60)
    assert not runner.is_alive() and codes == [4], codes
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    summary, results = lines[-1], lines[:-1]
    assert set(summary["unreachable"]) == {"pipai"}, summary
    assert summary["verdict"] == "needs_attention"
    assert {x["venue"] for x in results} == set(APIS) - {"pipai"}
    assert all(x["verified"] or x["by_answer"] for x in results), results


def _kill_while_pipai_lists_hang(sim: SimServer, path: Path) -> tuple[threading.Thread, list[int]]:
    """``kill --yes --json`` in a thread, PipAI's list held until the test lets it go;
    the exit code lands in the list."""
    set_knobs(sim, "pipai", hold_lists=True)
    codes: list[int] = []
    argv = ["--config", str(path), "kill", "--yes", "--json"]
    runner = threading.Thread(target=lambda: codes.append(main(argv)))
    runner.start()
    return runner, codes


def _when(condition: Callable[[], bool], rounds: int = 600) -> bool:
    """Whether ``condition`` comes true, asked every 50 ms for at most 30 s."""
    for _ in range(rounds):
        if condition():
            return True
        threading.Event().wait(0.05)
    return False


def test_a_kill_to_confirm_says_which_list_it_still_waits_for(
    sim: SimServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without --yes the plan waits for every list; past a second it says for which."""
    venues = [{**v, "request_timeout": 2.0} if v["api"] == "pipai" else v
              for v in sim.venue_entries()]  # fmt: skip
    path = write_profile_files(tmp_path, profile="sim", label="SIM", color="warning",
                               venues=venues)  # fmt: skip
    set_knobs(sim, "pipai", hold_lists=True)
    monkeypatch.setattr("sys.stdin", _Stdin("SIM\n"))
    assert main(["--config", str(path), "kill", "--json"]) == 4
    err = capsys.readouterr().err
    [line] = [x for x in err.splitlines() if x.startswith("[SIM] still reading ")]
    assert "pipai" in line and "— the plan waits for every venue" in line, err  # (another
    assert err.index(line) < err.index("EMERGENCY STOP")  # slow venue may be named too)
    assert "UNREACHABLE: pipai" in err


def test_a_kill_of_one_venue_reads_only_that_venue(
    sim: SimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A hanging PipAI list is nothing to a kill of x3algo: it is not even asked for."""
    path = write_profile_files(tmp_path, profile="sim", label="SIM", color="warning",
                               venues=sim.venue_entries())  # fmt: skip
    set_knobs(sim, "pipai", hold_lists=True)
    argv = ["--config", str(path), "kill", "--yes", "--json", "--venue", "x3algo"]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert summary["verdict"] == "all_halted", summary
    assert sim_counters(sim, "pipai").get("held_lists", 0) == 0


def test_a_late_venue_whose_plan_cannot_be_built_is_named_not_left_out(
    sim: SimServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bug in PipAI's module as its late list arrives: the kill ends NEEDS ATTENTION
    with PipAI UNREACHABLE in words, never ALL HALTED without it."""

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(PipAIClient, "kill_action", broken)
    path = write_profile_files(tmp_path, profile="sim", label="SIM", color="warning",
                               venues=sim.venue_entries())  # fmt: skip
    runner, codes = _kill_while_pipai_lists_hang(sim, path)
    try:
        assert _when(lambda: sim_counters(sim, "x3algo").get("stopped", 0) > 0)
    finally:
        set_knobs(sim, "pipai", hold_lists=False)
        runner.join(60)
    assert codes == [4], codes
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert summary["verdict"] == "needs_attention", summary
    assert "could not be built (RuntimeError" in summary["unreachable"]["pipai"]
    assert "1 venue(s) NOT PLANNED" in summary["summary"]


def test_a_venue_whose_plan_cannot_be_built_does_not_stop_the_kill_of_the_others(
    sim: SimServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bug in PipAI's module when the kill is planned: the others are halted, PipAI is
    NOT PLANNED in words (the whole kill failed with a traceback: nothing was sent)."""

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(PipAIClient, "kill_action", broken)
    path = write_profile_files(tmp_path, profile="sim", label="SIM", color="warning",
                               venues=sim.venue_entries())  # fmt: skip
    assert main(["--config", str(path), "kill", "--yes"]) == 4
    said = capsys.readouterr()
    assert "NOT PLANNED: pipai: its part of the plan could not be built" in said.out, said
    assert "nothing was sent there" in said.out
    assert "1 venue(s) NOT PLANNED" in said.out


def test_a_kill_closing_positions_names_those_it_cannot_close(
    sim: SimServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """PipAI cannot flatten a paused strategy: a kill with --close-positions leaves
    already-paused strategies' positions open, and its plan says how many (it said
    "positions: closed at market", and ALL HALTED, with 15 left open)."""
    path = write_profile_files(tmp_path, profile="sim", label="SIM", color="warning",
                               venues=sim.venue_entries())  # fmt: skip
    code = main(["--config", str(path), "status", "--json"])
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert code == 0
    held = [
        r
        for r in rows
        if r["kind"] == "strategy"
        and r["state"] not in ("running", "unknown")
        and (r["attrs"].get("open_positions") or 0) > 0
    ]  # fmt: skip (paused, in error …)
    assert any(r["state"] == "paused" for r in held), "no paused strategy holds positions"
    positions = sum(r["attrs"]["open_positions"] for r in held)
    monkeypatch.setattr("sys.stdin", _Stdin("not the label\n"))
    assert main(["--config", str(path), "kill", "--close-positions"]) == 6
    err = capsys.readouterr().err
    assert (f"pipai: {len(held)} target(s) already halted, which this kill does not address, "
            f"keep {positions} open positions — no option of this kill reaches them") in err, err  # fmt: skip
    assert "pipai positions: closed at market as each is paused" in err


def test_a_kill_names_the_targets_in_error_it_leaves_alone(
    sim: SimServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An algorithm or strategy in error has no documented halt: the kill leaves it, and
    says so — it was silently out of the count ("ALL HALTED 16/16" beside 4 in error)."""
    path = write_profile_files(tmp_path, profile="sim", label="SIM", color="warning",
                               venues=sim.venue_entries())  # fmt: skip
    assert main(["--config", str(path), "status", "--json"]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    errors: dict[str, int] = {}
    for r in rows:
        if r["state"] == "error":
            errors[r["venue"]] = errors.get(r["venue"], 0) + 1
    assert errors, "the simulated world has no target in error"
    monkeypatch.setattr("sys.stdin", _Stdin("not the label\n"))
    assert main(["--config", str(path), "kill"]) == 6
    err = capsys.readouterr().err
    for venue, count in errors.items():
        assert (f"{venue}: {count} target(s) in error, which this kill does not address "
                "(the venue documents no halt for them)") in err, err  # fmt: skip


def test_a_kill_sums_what_the_targets_it_halts_leave(
    sim: SimServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Pausing leaves PipAI's open positions: the plan says how many in all, once — it
    listed one line per distinct count ("(2 still managed …)", "(4 …)"), which read as
    10 where 35 stayed open."""
    path = write_profile_files(tmp_path, profile="sim", label="SIM", color="warning",
                               venues=sim.venue_entries())  # fmt: skip
    assert main(["--config", str(path), "status", "--json"]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    running = [r for r in rows if r["kind"] == "strategy" and r["state"] == "running"
               and (r["attrs"].get("open_positions") or 0) > 0]  # fmt: skip
    assert running, "the simulated world has no running strategy holding positions"
    positions = sum(r["attrs"]["open_positions"] for r in running)
    monkeypatch.setattr("sys.stdin", _Stdin("not the label\n"))
    assert main(["--config", str(path), "kill"]) == 6
    err = capsys.readouterr().err
    pipai = [x for x in err.splitlines() if "leaves behind — pipai:" in x]
    assert len([x for x in pipai if "open positions stay open" in x]) == 1, pipai
    assert (f"pipai: the {len(running)} target(s) it halts hold {positions} open positions "
            "in all") in err, err  # fmt: skip
