"""The kill report after a partial recovery, and the sticky watch's word on a revival
(issue 12, items 2 and 3, re-walked): a venue that came back and whose uncertain targets
the re-read verified is neither counted uncertain nor retried; the retry question is
always on screen; a revival says the report's keys, not K (a whole new kill)."""

from __future__ import annotations

import html
import re
from dataclasses import replace

from textual.app import App
from textual.widgets import Static

from console.core.model import Outcome, OutcomeKind, State
from console.core.session import Session
from console.tui.kill.progress import KillProgressScreen
from console.venues.kit.base import FeedStatus
from tests.tui.fakes import FakeVenue
from tests.tui.pilot_support import wait_for
from tests.tui.test_kill_support import (
    confirm_kill,
    kill_done,
    make_app,
    open_kill,
    shown,
)

# isort: split
from tests.tui.test_kill_support import kill_session, kill_venues  # noqa: F401 (fixtures)

NO_ANSWER = Outcome(OutcomeKind.UNCERTAIN, "no answer within 10 s")


def on_screen(app: App[None]) -> str:
    """The text the terminal shows now (what a screenshot would hold)."""
    svg = app.export_screenshot()
    return html.unescape(" ".join(re.findall(r">([^<>]*)</text>", svg))).replace("\xa0", " ")


def summary(progress: KillProgressScreen) -> str:
    return " ".join(shown(progress.query_one("#kill-summary", Static)).split())


async def test_a_venue_back_and_verified_is_not_uncertain_nor_retried_and_the_question_shows(
    session: Session, venues: dict[str, FakeVenue]
) -> None:
    x3, pipai = venues["x3algo"], venues["pipai"]
    x3.fail["a1"] = NO_ANSWER
    pipai.fail["s1"] = NO_ANSWER
    app = make_app(session, clock=session.clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: all(session.store.targets(v) for v in session.venues))
        for venue in (x3, pipai):
            venue.down = "connection refused"
            venue.poke()
        await wait_for(
            pilot,
            lambda: all(app.kill.feeds.seen.get(v) is FeedStatus.DOWN for v in ("x3algo", "pipai")),
            "the console to see x3algo and pipai DOWN",
        )
        await open_kill(pilot, app)
        progress = await confirm_kill(pilot, app, "DEMO")
        await kill_done(pilot, app)
        run = app.kill.run
        assert run is not None
        assert "2 uncertain" in summary(progress)
        # x3algo comes back (its uncertain call did land); pipai stays down.
        x3.targets["a1"] = replace(x3.targets["a1"], state=State.STOPPED, raw_status="stopped")
        x3.down = None
        x3.poke()
        await wait_for(pilot, lambda: bool(run.rechecks), "the re-verification of x3algo")
        assert run.results[("x3algo", "a1")].verified
        assert run.results[("x3algo", "a1")].outcome.kind is OutcomeKind.UNCERTAIN
        await wait_for(pilot, lambda: "1 uncertain" in summary(progress), "the headline")
        assert "NEEDS ATTENTION" in summary(progress)
        retry = run.retry_plan()
        assert retry is not None
        assert {i.venue for i in retry.items} == {"pipai"}  # nothing of x3algo re-sent
        assert f"r retries the {len(retry)} " in summary(progress)
        # As if x3algo had come and gone a few more times: the notes outgrow their cap.
        last = run.rechecks[-1]
        run.rechecks.extend(replace(last, at=last.at + n) for n in range(1, 7))
        await pilot.press("r")
        assert progress.pending is not None
        assert {i.venue for i in progress.pending.items} == {"pipai"}
        notes = progress.query_one("#kill-notes", Static)
        assert len(shown(notes).strip().splitlines()) > 8  # more than the notes can show
        question = progress.query_one("#kill-question", Static)
        await wait_for(pilot, lambda: question.region.height > 0, "the question drawn")
        assert "RETRY?" in shown(question)
        inside = progress.query_one("#progress-dialog").region
        assert inside.contains_region(question.region), (question.region, inside)
        assert not question.region.overlaps(notes.region)
        assert "RETRY?" in on_screen(app)
        assert question.region.height >= len(shown(question).strip().splitlines())
        await pilot.press("n")
        await wait_for(pilot, lambda: not question.display, "the question gone")


async def test_a_revival_during_the_watch_says_w_then_r_not_k(
    session: Session, venues: dict[str, FakeVenue]
) -> None:
    app = make_app(session, clock=session.clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: all(session.store.targets(v) for v in session.venues))
        await open_kill(pilot, app)
        await confirm_kill(pilot, app, "DEMO")
        await kill_done(pilot, app)
        run = app.kill.run
        assert run is not None and run.plan_halted
        app.clear_notifications()
        n1 = venues["finradar"].targets["n1"]
        venues["finradar"].targets["n1"] = replace(n1, state=State.RUNNING, raw_status="ACTIVE")
        venues["finradar"].poke()
        await wait_for(pilot, lambda: bool(run.revivals), "the sticky watch to see it")

        def revived() -> str:
            return " ".join(n.message for n in app._notifications if "REVIVED" in n.message)

        await wait_for(pilot, lambda: bool(revived()), "the REVIVED notification")
        said = revived()
        assert "K stops" not in said
        assert "w opens the report, r there stops it again" in said
        assert "y sends" in said


def test_the_revival_notice_names_the_report_key_as_the_profile_maps_it(
    session: Session,
) -> None:
    assert make_app(session, keymap={"kill_report": "W"}).kill.w == "W"
    assert make_app(session).kill.w == "w"
