"""The CLI's text output never carries a venue's escape sequences to the terminal, and a
single-target action is refused (nothing sent, exit 4) once the journal has failed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from console.cli import control as cli_control
from console.cli.main import build_parser
from console.core.journal import Journal
from console.core.model import Action, Outcome, OutcomeKind, State, Target
from console.core.session import Session, SessionOptions
from tests.core.fakes import FakeClient, quick

EVIL = "evil\x1b]0;pwned\x07\x1b[2J"
"""Retitles the terminal (OSC 0, ended by BEL), then clears the screen (CSI 2J)."""
EVIL_STATUS = "\x1b[5mrunning\x9b31m"
EVIL_MESSAGE = "stopped\x1b]52;c;cHduZWQ=\x07 ok\x1bP+q\x1b\\ \x08\x08\rfine\u202e"
"""Writes the clipboard (OSC 52), a DCS query, backspaces, a carriage return, a bidi
override: every way a message could rewrite what the operator reads."""
CONTROLS = ("\x1b", "\x07", "\x08", "\r", "\x9b", "\u202e")


class EvilClient(FakeClient):
    """A venue whose names, statuses and messages carry terminal escapes."""

    def _target(self, tid: str) -> Target:
        state = self.states[tid]
        return Target(self.name, self.kind, tid, f"{EVIL}-{tid}", state, EVIL_STATUS)


def evil_outcome(_id: str, _action: Action) -> Outcome:
    return Outcome(OutcomeKind.APPLIED, EVIL_MESSAGE, 200, 1.0, State.STOPPED, warning=EVIL)


def session_on(journal: Journal, client: FakeClient) -> Session:
    return Session(SessionOptions(profile="t", label="TEST"), [client], journal)


@pytest.fixture
def client() -> EvilClient:
    venue = EvilClient("fake", ["t1", "t2"])
    venue.answer = evil_outcome
    return venue


def clean(text: str) -> bool:
    return not any(c in text for c in CONTROLS)


async def test_status_table_shows_hostile_names_without_their_escapes(
    tmp_path: Path, client: EvilClient, capsys: pytest.CaptureFixture[str]
) -> None:
    session = session_on(Journal(tmp_path / "j.sqlite3", profile="t"), client)
    assert await cli_control.status(session, as_json=False) == 0
    out = capsys.readouterr().out
    assert clean(out), repr(out)
    assert "evil-t1" in out and "RUNNING" in out


async def test_status_failure_words_on_stderr_are_printable(
    tmp_path: Path, client: EvilClient, capsys: pytest.CaptureFixture[str]
) -> None:
    client.list_error = RuntimeError(f"HTTP 502: {EVIL}")
    session = session_on(Journal(tmp_path / "j.sqlite3", profile="t"), client)
    assert await cli_control.status(session, as_json=False) == cli_control.EXIT_FAILED
    out, err = capsys.readouterr()
    assert clean(err), repr(err)
    assert "fake: could not read targets: HTTP 502: evil" in err
    # stdout alone says so too: an empty table read as "no targets" (session 23)
    [row] = out.splitlines()[1:]
    assert row.split() == ["fake", "-", "-", "(could", "not", "be", "read:", "see", "below)",
                           "NOT", "READ"]  # fmt: skip


async def test_status_json_keeps_the_exact_name_escaped_by_json(
    tmp_path: Path, client: EvilClient, capsys: pytest.CaptureFixture[str]
) -> None:
    session = session_on(Journal(tmp_path / "j.sqlite3", profile="t"), client)
    assert await cli_control.status(session, as_json=True) == 0
    out = capsys.readouterr().out
    assert clean(out), repr(out)
    rows = [json.loads(line) for line in out.splitlines()]
    assert {r["name"] for r in rows} == {f"{EVIL}-t1", f"{EVIL}-t2"}
    assert {r["raw_status"] for r in rows} == {EVIL_STATUS}


async def test_a_stop_prints_the_outcome_without_escapes(
    tmp_path: Path, client: EvilClient, capsys: pytest.CaptureFixture[str]
) -> None:
    session = session_on(Journal(tmp_path / "j.sqlite3", profile="t"), client)
    quick(session.dispatcher)  # the re-read contradicts the stop on purpose
    args = build_parser().parse_args(["stop", "fake", "t1", "--yes", "--reason", "test"])
    code = await cli_control.control(session, args)
    out, err = capsys.readouterr()
    assert clean(out + err), repr(out + err)
    assert code == cli_control.EXIT_UNCERTAIN  # the re-read says RUNNING: not confirmed
    assert "evil-t1 (t1): APPLIED — stopped ok fine" in out
    assert "warning: evil" in out
    assert client.calls and client.calls[0][0] == "t1"


async def test_the_confirmation_prompt_is_printable(
    tmp_path: Path,
    client: EvilClient,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    session = session_on(Journal(tmp_path / "j.sqlite3", profile="t"), client)
    monkeypatch.setattr(sys, "stdin", _Lines("n\n"))
    args = build_parser().parse_args(["stop", "fake", "t2"])
    assert await cli_control.control(session, args) == cli_control.EXIT_NOT_CONFIRMED
    err = capsys.readouterr().err
    assert clean(err), repr(err)
    assert "Stop algorithm evil-t2 on fake (id t2, now running" in err
    assert "leaves behind: open positions stay open" in err
    assert client.calls == []


class FailedJournal(Journal):
    """A journal that could not be opened or written (as ``Journal.failed`` says)."""

    @property
    def failed(self) -> str | None:
        return "disk full writing /var/lib/tc/journal.sqlite3"

    @failed.setter
    def failed(self, value: str | None) -> None:  # the real Journal may set it itself
        pass


class Unavailable(Exception):
    pass


class FailedJournalThatSaysWhatToDo(FailedJournal):
    def require_ok(self) -> None:
        raise Unavailable(
            "JOURNAL FAILED: disk full; free space on /var/lib/tc and retry (the kill "
            "records to /tmp/tc-fallback.jsonl)"
        )


async def test_with_the_journal_failed_a_single_action_is_refused_and_nothing_is_sent(
    tmp_path: Path, client: EvilClient, capsys: pytest.CaptureFixture[str]
) -> None:
    journal = FailedJournal(tmp_path / "j.sqlite3", profile="t")
    session = session_on(journal, client)
    args = build_parser().parse_args(["stop", "fake", "t1", "--yes"])
    assert await cli_control.control(session, args) == cli_control.EXIT_FAILED == 4
    err = capsys.readouterr().err
    assert "disk full writing /var/lib/tc/journal.sqlite3" in err
    assert "nothing was sent" in err
    assert client.calls == []
    assert Journal(tmp_path / "j.sqlite3", profile="t").entries() == []


async def test_the_journals_own_refusal_is_what_the_operator_reads(
    tmp_path: Path, client: EvilClient, capsys: pytest.CaptureFixture[str]
) -> None:
    session = session_on(FailedJournalThatSaysWhatToDo(tmp_path / "j.sqlite3", profile="t"), client)
    args = build_parser().parse_args(["stop", "fake", "t1", "--yes", "--json"])
    assert await cli_control.control(session, args) == 4
    out, err = capsys.readouterr()
    assert out == ""
    assert "JOURNAL FAILED: disk full; free space on /var/lib/tc and retry" in err
    assert "nothing was sent" in err
    assert client.calls == []


async def test_status_still_reads_with_the_journal_failed(
    tmp_path: Path, client: EvilClient, capsys: pytest.CaptureFixture[str]
) -> None:
    session = session_on(FailedJournal(tmp_path / "j.sqlite3", profile="t"), client)
    assert await cli_control.status(session, as_json=False) == 0
    assert "evil-t1" in capsys.readouterr().out


class _Lines:
    def __init__(self, text: str) -> None:
        self._lines = text.splitlines(keepends=True)

    def readline(self) -> str:
        return self._lines.pop(0) if self._lines else ""
