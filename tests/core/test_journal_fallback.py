"""A journal that cannot be opened or written never raises from its write methods: every
row goes to a fallback JSON-lines file and to stderr, nothing is lost; files are 0600 in
0700 folders; a single action is refused with words that say what to do."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from console.core.journal import Journal, JournalUnavailable
from console.core.journal_fallback import STDERR_PREFIX, read_fallback, verify_fallback
from console.core.journal_rows import Intent, new_op_id
from console.core.model import Action, ActionKind, Outcome, OutcomeKind, State
from console.core.operator import Operator

OP = Operator("alice", "desk-1", "127.0.0.9")


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def intents(n: int, prefix: str = "a") -> list[Intent]:
    return [
        Intent(new_op_id(), "b1", "x3algo", f"{prefix}{i}", f"algo {i}", Action(ActionKind.STOP))
        for i in range(n)
    ]


def stopped() -> Outcome:
    return Outcome(OutcomeKind.APPLIED, "stopped", 200, 3.0, State.STOPPED)


def stderr_rows(err: str) -> list[dict[str, object]]:
    return [json.loads(line[len(STDERR_PREFIX):]) for line in err.splitlines()
            if line.startswith(STDERR_PREFIX)]  # fmt: skip


# ----- modes ---------------------------------------------------------------------------
def test_new_folders_are_0700_and_the_journal_files_0600(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = tmp_path / "state" / "tc" / "journal.sqlite3"
        journal = Journal(path, profile="prod", operator=OP)
        journal.intend("x3algo", "a1", "RSI", Action(ActionKind.STOP))
        assert mode(tmp_path / "state") == mode(path.parent) == 0o700
        for name in ("journal.sqlite3", "journal.sqlite3-wal", "journal.sqlite3-shm"):
            assert mode(path.parent / name) == 0o600, name
    finally:
        os.umask(old)


def test_existing_world_readable_journal_files_are_tightened_on_open(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    Journal(path, profile="prod", operator=OP).intend(
        "x3algo", "a1", "RSI", Action(ActionKind.STOP)
    )
    for name in ("journal.sqlite3", "journal.sqlite3-wal", "journal.sqlite3-shm"):
        os.chmod(tmp_path / name, 0o644)
    Journal(path, profile="prod", operator=OP)
    for name in ("journal.sqlite3", "journal.sqlite3-wal", "journal.sqlite3-shm"):
        assert mode(tmp_path / name) == 0o600, name


# ----- cannot open ---------------------------------------------------------------------
def test_a_corrupted_file_opens_in_fallback_mode_and_loses_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "journal.sqlite3"
    path.write_bytes(b"this is not a database, just garbage " * 200)
    with pytest.raises(Exception, match="not a database"):
        Journal(path, profile="prod", operator=OP, strict=True)  # asked to raise, it does
    journal = Journal.open(path, profile="prod", operator=OP, fallback_dir=tmp_path / "fb")
    assert journal.failed is not None and "corrupted" in journal.failed
    assert journal.fallback_path is None  # nothing written yet
    # readers answer what they can, without raising
    assert journal.entries() == [] and journal.interrupted() == []
    assert journal.last_settled("x3algo") == {}
    assert not journal.verify_chain().ok
    with pytest.raises(JournalUnavailable, match="corrupted") as refused:
        journal.require_ok()
    assert "Nothing was sent" in str(refused.value)

    plan = intents(3)
    journal.intend_many(plan)
    for intent in plan:
        journal.record_outcome(intent, stopped())
        journal.record_verification(intent, State.STOPPED, "re-read: stopped")
    journal.checkpoint()
    journal.close()

    assert journal.fallback_path is not None
    assert journal.fallback_path.parent == tmp_path / "fb"
    assert (
        journal.fallback_path.name.startswith("prod-") and journal.fallback_path.suffix == ".jsonl"
    )
    assert mode(journal.fallback_path) == 0o600 and mode(tmp_path / "fb") == 0o700
    rows = read_fallback(journal.fallback_path)
    assert [r["kind"] for r in rows] == ["intent"] * 3 + ["outcome", "verify"] * 3
    assert {r["op_id"] for r in rows} == {i.op_id for i in plan}
    assert rows[3]["outcome"] == "applied" and rows[3]["http_status"] == 200
    assert all(r["operator"] == "alice" and r["profile"] == "prod" for r in rows)
    assert verify_fallback(journal.fallback_path)[0]
    header = json.loads(journal.fallback_path.read_text().splitlines()[0])
    assert header["event"] == "journal_failed" and "corrupted" in header["failed"]
    # every line on stderr too, the same
    err = capsys.readouterr().err
    assert "JOURNAL FAILED" in err
    assert stderr_rows(err)[1:] == rows  # the header first, then each row
    assert journal.chain_head() == rows[-1]["hash"]  # the receipt continues in the fallback
    with pytest.raises(JournalUnavailable, match=str(journal.fallback_path)):
        journal.require_ok()


def test_a_journal_whose_folder_cannot_be_made_falls_back(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    journal = Journal.open(blocker / "journal.sqlite3", profile="prod", operator=OP,
                           fallback_dir=tmp_path / "fb")  # fmt: skip
    assert journal.failed is not None
    journal.intend("x3algo", "a1", "RSI", Action(ActionKind.STOP))
    assert journal.fallback_path is not None
    assert [r["target_id"] for r in read_fallback(journal.fallback_path)] == ["a1"]


def test_an_unwritable_folder_falls_back(tmp_path: Path) -> None:
    """A folder the journal may not write: mode 0500 — or, for root (CI), who writes
    there anyway, the immutable attribute (``chattr +i``: not even root creates a file)."""
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o500)
    immutable = os.geteuid() == 0
    if immutable:
        chattr = shutil.which("chattr")
        if chattr is None or subprocess.run([chattr, "+i", str(folder)],
                                            capture_output=True).returncode != 0:  # fmt: skip
            folder.chmod(0o700)
            pytest.skip("root writes into a 0500 folder, and chattr +i is not available here")
    try:
        journal = Journal.open(folder / "journal.sqlite3", profile="prod", operator=OP,
                               fallback_dir=tmp_path / "fb")  # fmt: skip
        assert journal.failed is not None and "permission denied" in journal.failed
        journal.intend("x3algo", "a1", "RSI", Action(ActionKind.STOP))
        assert journal.fallback_path is not None and journal.fallback_path.parent == tmp_path / "fb"
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o700)


def test_a_journal_path_that_is_a_folder_falls_back(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path, profile="prod", operator=OP, fallback_dir=tmp_path / "fb")
    assert journal.failed is not None
    journal.intend("x3algo", "a1", "RSI", Action(ActionKind.STOP))
    assert journal.fallback_path is not None


def test_when_no_fallback_folder_works_stderr_alone_carries_every_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setattr(tempfile, "tempdir", str(blocker))  # the temp folder fails too
    journal = Journal.open(blocker / "j.sqlite3", profile="prod", operator=OP,
                           fallback_dir=blocker / "fb")  # fmt: skip
    plan = intents(2)
    journal.intend_many(plan)
    journal.record_outcome(plan[0], stopped())
    assert journal.fallback_path is None
    assert journal.fallback is not None and journal.fallback.problem
    err = capsys.readouterr().err
    header, *rows = stderr_rows(err)
    assert header["event"] == "journal_failed"
    assert [r["kind"] for r in rows] == ["intent", "intent", "outcome"]
    assert "stderr alone" in err
    with pytest.raises(JournalUnavailable, match="could not be written either"):
        journal.require_ok()


# ----- a write fails mid-way -------------------------------------------------------------
async def test_disk_full_mid_kill_sends_every_later_row_and_the_pending_ones_to_the_fallback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "journal.sqlite3"
    journal = Journal(path, profile="prod", operator=OP, fallback_dir=tmp_path / "fb")
    first = intents(50, "early")
    journal.intend_many(first)
    for intent in first[:10]:
        journal.record_outcome(intent, stopped())
    await asyncio.sleep(0)  # committed at the end of the loop turn
    head = journal.chain_head()
    for intent in first[10:]:  # waiting in memory for the end of this loop turn ...
        journal.record_outcome(intent, stopped())
    assert journal._db is not None
    pages = journal._db.execute("PRAGMA page_count").fetchone()[0]
    journal._db.execute(f"PRAGMA max_page_count = {pages}")  # ... when the disk fills up
    await asyncio.sleep(0)
    assert journal.failed is not None and journal.failed.startswith("disk full")
    later = intents(300, "late")
    journal.intend_many(later)  # never raises
    for intent in later:
        journal.record_outcome(intent, stopped())
        journal.record_verification(intent, State.STOPPED, "re-read: stopped")
    await asyncio.sleep(0)
    journal.checkpoint()
    journal.close()

    in_db = Journal(path, profile="prod", operator=OP)
    assert in_db.verify_chain().ok and in_db.chain_head() == head
    db_rows = [(e.kind, e.op_id) for e in in_db.entries()]
    assert journal.fallback_path is not None
    fb_rows = [(r["kind"], r["op_id"]) for r in read_fallback(journal.fallback_path)]
    expected = (
        [("intent", i.op_id) for i in first]
        + [("outcome", i.op_id) for i in first]
        + [("intent", i.op_id) for i in later]
        + [(kind, i.op_id) for i in later for kind in ("outcome", "verify")]
    )
    assert db_rows + fb_rows == expected  # every row, in order, once
    assert len(db_rows) == 60
    header = json.loads(journal.fallback_path.read_text().splitlines()[0])
    assert header["chain_head"] == head  # the chain continues from the database's head
    assert verify_fallback(journal.fallback_path)[0]
    assert len(stderr_rows(capsys.readouterr().err)) == 1 + len(fb_rows)


def test_a_broken_connection_mid_way_never_raises_from_a_write(tmp_path: Path) -> None:
    journal = Journal(
        tmp_path / "j.sqlite3", profile="prod", operator=OP, fallback_dir=tmp_path / "fb"
    )
    plan = intents(2)
    journal.intend_many(plan[:1])
    assert journal._db is not None
    journal._db.close()  # any sqlite3.Error, not only a full disk
    journal.intend_many(plan[1:])
    journal.record_outcome(plan[0], stopped())
    journal.record_verification(plan[0], State.STOPPED, "ok")
    journal.flush()
    journal.checkpoint()
    assert journal.failed is not None
    assert journal.entries() == []  # the reader says nothing rather than raising
    assert journal.fallback_path is not None
    assert [r["kind"] for r in read_fallback(journal.fallback_path)] == [
        "intent",
        "outcome",
        "verify",
    ]
    journal.close()


def test_a_healthy_journal_requires_nothing(tmp_path: Path) -> None:
    journal = Journal.open(tmp_path / "j.sqlite3", profile="prod", operator=OP)
    assert journal.failed is None and journal.fallback_path is None
    journal.require_ok()


RLIMIT_KILL = textwrap.dedent(
    """
    import json, resource, sys
    from pathlib import Path
    from console.core.journal import Journal
    from console.core.journal_rows import Intent, new_op_id
    from console.core.model import Action, ActionKind, Outcome, OutcomeKind, State
    folder = Path(sys.argv[1])
    journal = Journal(folder / "journal.sqlite3", profile="prod", fallback_dir=folder / "fb")
    limit = int(sys.argv[2])
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))  # SIGXFSZ is ignored by Python
    sent = []
    for batch in range(20):
        plan = [Intent(new_op_id(), "kill", "x3algo", f"a{batch}-{k}", "algo", Action(ActionKind.STOP))
                for k in range(100)]
        journal.intend_many(plan)
        for intent in plan:
            journal.record_outcome(intent, Outcome(OutcomeKind.APPLIED, "stopped", 200, 1.0, State.STOPPED))
        journal.flush()
        sent.extend(i.op_id for i in plan)
    journal.checkpoint()
    journal.close()
    print(json.dumps({"failed": journal.failed, "fallback": str(journal.fallback_path), "sent": sent}))
    """
)


def test_a_file_size_limit_reached_mid_kill_loses_no_row(tmp_path: Path) -> None:
    """RLIMIT_FSIZE in a child process: the database, then the fallback file hit the
    limit; what neither could hold is on stderr. Every intent and outcome is somewhere."""
    done = subprocess.run([sys.executable, "-c", RLIMIT_KILL, str(tmp_path), str(300_000)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["failed"], "the limit was never reached: raise the batch count"
    found: set[tuple[str, str]] = set()
    in_db = Journal(tmp_path / "journal.sqlite3", profile="prod", operator=OP)
    assert in_db.verify_chain().ok
    found |= {(e.kind, e.op_id) for e in in_db.entries()}
    fallback = Path(result["fallback"])
    if fallback.is_file():
        found |= {(str(r["kind"]), str(r["op_id"])) for r in read_fallback(fallback)}
    found |= {(str(r["kind"]), str(r["op_id"])) for r in stderr_rows(done.stderr) if "kind" in r}
    expected = {(kind, op) for op in result["sent"] for kind in ("intent", "outcome")}
    assert expected <= found
    assert len(in_db.entries()) < len(expected)  # the limit really cut the database short
