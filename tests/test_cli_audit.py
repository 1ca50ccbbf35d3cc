"""``trading-console audit --verify`` (the hash chain, exit 8 on a break) and
``audit --interrupted --verify`` (calls cut short re-read through the venues)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest

from console.cli import audit as cli_audit
from console.cli.main import build_parser, main
from console.config import write_profile_files
from console.core import journal_chain
from console.core.journal import Journal
from console.core.model import Action, ActionKind, OutcomeKind, State, Target
from console.core.session import SessionOptions
from console.sim.server import SimServer
from console.venues.registry import session_for
from tests.support import settings_for


@pytest.fixture
def profile_path(sim: SimServer, tmp_path: Path) -> Path:
    return write_profile_files(tmp_path, profile="sim", label="SIM", color="warning",
                               venues=sim.venue_entries())  # fmt: skip


def journal_of(profile_path: Path) -> Journal:
    return Journal(profile_path.parent / "journal.sqlite3", profile="sim")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_verify_prints_ok_with_the_head_and_exits_0(
    profile_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    journal = journal_of(profile_path)
    intent = journal.intend("x3algo", "a1", "RSI", Action(ActionKind.STOP))
    journal.record_verification(intent, State.STOPPED, "re-read: stopped")
    code, out, _ = run(capsys, "--config", str(profile_path), "audit", "--verify")
    assert code == 0
    assert out.strip() == f"journal chain OK: 2 rows, head {journal.chain_head()[:16]}"
    code, out, _ = run(capsys, "--config", str(profile_path), "audit", "--verify", "--json")
    check = json.loads(out)
    assert code == 0 and check["ok"] is True and check["head"] == journal.chain_head()


def test_a_long_verify_says_how_far_it_is(
    profile_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A year of a busy desk is millions of rows (400,000 took 2.4 s, silent): a progress
    line on stderr, at most one a second (here: every 2 rows, every time)."""
    monkeypatch.setattr(journal_chain, "PROGRESS_EVERY", 2)
    monkeypatch.setattr(cli_audit, "PROGRESS_S", 0.0)
    journal = journal_of(profile_path)
    for i in range(5):
        journal.intend("x3algo", f"a{i}", "RSI", Action(ActionKind.STOP))
    code, out, err = run(capsys, "--config", str(profile_path), "audit", "--verify")
    assert code == 0 and out.startswith("journal chain OK: 5 rows"), (out, err)
    said = [line for line in err.splitlines() if "checking the journal's hash chain" in line]
    assert said == ["[SIM] checking the journal's hash chain: row 2 of 5",
                    "[SIM] checking the journal's hash chain: row 4 of 5"]  # fmt: skip


def test_verify_names_the_first_rewritten_row_and_exits_8(
    profile_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    journal = journal_of(profile_path)
    for i in range(3):
        journal.intend("x3algo", f"a{i}", "RSI", Action(ActionKind.STOP))
    db = sqlite3.connect(profile_path.parent / "journal.sqlite3", isolation_level=None)
    db.execute("DROP TRIGGER entries_no_update")
    db.execute("UPDATE entries SET outcome = 'applied' WHERE seq = 2")
    code, out, err = run(capsys, "--config", str(profile_path), "audit", "--verify")
    assert code == cli_audit.EXIT_JOURNAL == 8
    assert out.startswith("journal chain BROKEN at seq 2:")
    assert "seq 2" in err
    code, out, _ = run(capsys, "--config", str(profile_path), "audit", "--verify", "--json")
    assert code == 8 and json.loads(out)["broken_seq"] == 2


def test_a_corrupted_journal_is_exit_8_not_a_traceback(
    profile_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (profile_path.parent / "journal.sqlite3").write_bytes(b"garbage " * 1000)
    code, out, _ = run(capsys, "--config", str(profile_path), "audit", "--verify")
    assert code == 8 and "BROKEN" in out and "cannot be read" in out


def test_audit_text_never_prints_terminal_escapes(
    profile_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    journal = journal_of(profile_path)
    journal.intend("x3algo", "a1", "\x1b]0;pwned\x07RSI\x1b[2J", Action(ActionKind.STOP))
    code, out, _ = run(capsys, "--config", str(profile_path), "audit")
    assert code == 0 and "RSI" in out and "\x1b" not in out and "\x07" not in out


def test_interrupted_verify_through_the_cli_keeps_what_it_cannot_confirm_open(
    profile_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "--config", str(profile_path), "audit", "--interrupted", "--verify")
    assert code == 0 and "nothing to verify" in err
    journal = journal_of(profile_path)
    journal.intend("x3algo", "no-such-algo", "ghost", Action(ActionKind.STOP))
    code, out, _ = run(capsys, "--config", str(profile_path), "audit", "--interrupted", "--verify")
    assert code == 5  # not confirmed halted, whether or not the command has venue clients
    assert "ghost (no-such-algo) stop" in out


async def _stop_one_behind_the_journals_back(sim: SimServer) -> list[Target]:
    """Two running x3algo algorithms; the first one stopped (as if the console died
    between sending the stop and journaling its answer)."""
    session = session_for(SessionOptions(profile="sim", label="SIM"),
                                    [settings_for(sim, "x3algo")], Journal(":memory:", profile="x"))  # fmt: skip
    try:
        client = session.clients["x3algo"]
        running = [t for t in await client.list_targets() if t.raw_status == "active"][:2]
        outcome = await client.execute(running[0].id, Action(ActionKind.STOP))
        assert outcome.kind in (OutcomeKind.APPLIED, OutcomeKind.ALREADY)
        return running
    finally:
        await session.aclose()


@pytest.mark.parametrize("as_json", [False, True])
def test_interrupted_verify_rereads_each_target_and_journals_what_it_found(
    sim: SimServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], as_json: bool
) -> None:
    stopped, running = asyncio.run(_stop_one_behind_the_journals_back(sim))
    path = tmp_path / "journal.sqlite3"
    journal = Journal(path, profile="sim")
    for target in (stopped, running):
        journal.intend("x3algo", target.id, target.name, Action(ActionKind.STOP))
    journal.intend("pipai", "s1", "grid", Action(ActionKind.PAUSE))  # no PipAI in this session
    session = session_for(SessionOptions(profile="sim", label="SIM"),
                                    [settings_for(sim, "x3algo")], Journal(path, profile="sim"))  # fmt: skip
    argv = ["audit", "--interrupted", "--verify"] + (["--json"] if as_json else [])
    code = cli_audit.audit(session, build_parser().parse_args(argv))
    out, err = capsys.readouterr()
    assert code == cli_audit.EXIT_UNCERTAIN
    lines = out.splitlines()
    assert len(lines) == 3
    if as_json:
        rows = {r["target_id"]: r for r in map(json.loads, lines)}
        assert rows[stopped.id]["as_asked"] is True and rows[stopped.id]["state"] == "stopped"
        assert rows[running.id]["as_asked"] is False and rows[running.id]["journaled"] is True
        assert rows["s1"]["journaled"] is False
    else:
        assert f"({stopped.id}) stop: STOPPED — as asked" in lines[0]
        assert f"({running.id}) stop: RUNNING — NOT as asked" in lines[1]
        assert "NOT VERIFIED (still open)" in lines[2] and "not in this profile" in lines[2]
    assert "1 as asked, 1 not as asked, 0 cannot be told from the re-read" in err
    assert "1 could not be re-read (still open)" in err
    after = Journal(path, profile="sim")
    assert [e.target_id for e in after.interrupted()] == ["s1"]  # only the one not re-read
    verifies = {e.target_id: e.state for e in after.entries(kind="verify")}
    assert verifies == {stopped.id: "stopped", running.id: "running"}
    assert after.verify_chain().ok
