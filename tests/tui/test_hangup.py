"""The terminal hangs up (SIGHUP) under the screen: a kill under way runs to its end —
answered, verified, journaled, its report alerted — and then the console exits 129;
with nothing sending it exits at once. (The real signal, in a real terminal:
``tests/e2e/test_kill_hangup_tmux.py``.)"""

from __future__ import annotations

import asyncio
from typing import Any

from console.automation.alerts import Alert, Alerter
from console.automation.config import AlertsConfig
from console.core.hangup import EXIT_HANGUP, HANGUP_NOTE
from console.core.journal import Journal
from console.core.journal_rows import Entry
from console.core.session import Session
from console.tui.app import ConsoleApp
from tests.tui.fakes import FakeClock, FakeVenue
from tests.tui.pilot_support import journal, wait_for
from tests.tui.test_kill_support import (
    confirm_kill,
    fed,
    open_kill,
)

# isort: split
from tests.tui.test_kill_support import kill_session, kill_venues  # noqa: F401 (fixtures)

SIZE = (120, 40)


def alerts_kept(clock: FakeClock) -> tuple[Alerter, list[Alert]]:
    sent: list[Alert] = []
    alerter = Alerter(AlertsConfig(), [], clock=clock, profile="test")

    async def keep(alert: Alert, *, force: bool = False) -> Any:
        sent.append(alert)

    alerter.send = keep  # type: ignore[method-assign]
    return alerter, sent


def reopened(session: Session) -> Journal:
    """The session's journal read from its file (the app's exit closed the session's
    journal, which then reads nothing)."""
    return Journal(session.journal.path, profile=session.options.profile)


def hangup_notes(session: Session) -> list[Entry]:
    return [e for e in reopened(session).entries(kind="note") if e.action == HANGUP_NOTE]


def detached(app: ConsoleApp) -> list[str]:
    """The terminal's fds are the test process's own: record the detach, do not do it."""
    calls: list[str] = []
    app.hangup.detach = lambda: calls.append("detached")
    return calls


async def test_a_hangup_mid_kill_lets_the_kill_finish_then_exits_129(
    session: Session, clock: FakeClock, venues: dict[str, FakeVenue]
) -> None:
    gate = asyncio.Event()
    venues["55tech"].hold = gate
    alerter, sent = alerts_kept(clock)
    app = ConsoleApp(session, session.control, clock=clock, alerter=alerter)
    async with app.run_test(size=SIZE) as pilot:
        calls = detached(app)
        await wait_for(pilot, lambda: fed(session), "every venue's targets")
        await open_kill(pilot, app)
        await confirm_kill(pilot, app, "DEMO")
        await wait_for(pilot, lambda: app.kill.active, "the kill under way")
        app.hangup.hangup()
        assert calls == ["detached"]
        [note] = [e for e in journal(app) if e.kind == "note" and e.action == HANGUP_NOTE]
        assert note.reason is not None
        assert "the terminal hung up (SIGHUP) while " in note.reason
        assert "it runs to its end (answered, verified, journaled), then the console exits" in (
            note.reason
        )
        await pilot.pause()
        assert app.return_code is None  # still running: 55-tech holds its calls
        gate.set()
        await wait_for(pilot, lambda: app.return_code is not None, "the console to exit")
    assert app.return_code == EXIT_HANGUP
    run = app.kill.run
    assert run is not None and run.reports and run.plan_halted, run.summary() if run else None
    kept = reopened(session)
    assert kept.interrupted() == []  # every call answered and journaled
    intents = kept.entries(kind="intent")
    assert len(intents) == len(run.kill.plan)
    assert {e.op_id for e in intents} <= {e.op_id for e in kept.entries(kind="outcome")}
    assert [a.event for a in sent] == ["kill", "report"]


async def test_a_hangup_with_nothing_sending_exits_at_once(session: Session) -> None:
    app = ConsoleApp(session, session.control)
    async with app.run_test(size=SIZE) as pilot:
        calls = detached(app)
        await wait_for(pilot, lambda: fed(session), "every venue's targets")
        app.hangup.hangup()
        app.hangup.hangup()  # a second hang-up changes nothing
        await wait_for(pilot, lambda: app.return_code is not None, "the console to exit")
    assert app.return_code == EXIT_HANGUP
    assert calls == ["detached"]
    assert hangup_notes(session) == []


async def test_a_hangup_during_the_sticky_watch_says_in_the_journal_that_it_ended(
    session: Session, venues: dict[str, FakeVenue]
) -> None:
    """A quit asks first while the watch is on; a hang-up cannot ask: the journal says
    the watch ended with the console, so no one trusts it to catch a revival."""
    app = ConsoleApp(session, session.control, clock=session.clock)
    async with app.run_test(size=SIZE) as pilot:
        detached(app)
        await wait_for(pilot, lambda: fed(session), "every venue's targets")
        await open_kill(pilot, app)
        await confirm_kill(pilot, app, "DEMO")
        await wait_for(pilot, lambda: app.kill.watch is not None, "the kill's sticky watch")
        app.hangup.hangup()
        await wait_for(pilot, lambda: app.return_code is not None, "the console to exit")
    [note] = hangup_notes(session)
    assert note.reason is not None
    assert note.reason.startswith("the terminal hung up (SIGHUP) while the sticky watch of ")
    assert note.reason.endswith("it ends with the console; nothing catches a revival now")
