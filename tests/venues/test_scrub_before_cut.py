"""A credential a venue echoed is scrubbed before any of its text is cut, in every venue.

Venue texts (ids, names, statuses, messages, bodies) are cut to a length for display.
Cut before the venue's scrubber saw them, a secret straddling the cut lost its end and
was no longer recognised whole: its first characters reached the outcome, the journal,
the skipped-row notes and the log. The twin notes were fixed first
(tests/venues/test_twin_note_scrub.py); these are the cuts found after them, each driven
through the venue client over loopback (or, for the venues whose words are pure functions,
through those functions with the venue's own scrubber), each with the
secret running across the cut. Every test here failed on the code before.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from console.core.model import Action, ActionKind, Outcome, State, Target, TargetKind
from console.venues.fiftyfive.outcomes import refused as fiftyfive_refused
from console.venues.fiftyfive.wire import read_error as fiftyfive_read_error
from console.venues.finradar.wire import vendor_words as finradar_words
from console.venues.kit.feeds import Incomplete, Unreadable
from console.venues.kit.http import Reply
from console.venues.kit.paging import CursorList, ListWords
from console.venues.kit.scrubber import VenueScrubber
from console.venues.pipai.mapping import read_page
from console.venues.pipai.outcomes import http_error as pipai_http_error
from tests.venues import test_joyride_unit as joyride
from tests.venues import test_x3algo_unit as x3algo

PASSWORD = x3algo.PASSWORD  # x3algo's password: 19 characters
TOKEN = joyride.TOKEN  # Joyride's admin token: 29 characters
PAUSE, STOP = Action(ActionKind.PAUSE), Action(ActionKind.STOP)
ALGORITHMS = "/api/trading/algorithms"


def leaks(secret: str, *texts: str | None) -> list[str]:
    """Every 6-character piece of ``secret`` found in any of ``texts``."""
    pieces = [secret[i : i + 6] for i in range(len(secret) - 5)]
    return [piece for piece in pieces for text in texts if text and piece in text]


def outcome_texts(outcome: Outcome) -> tuple[str, str | None, str | None]:
    return outcome.message, outcome.warning, outcome.vendor_code


def x3algo_page(*rows: dict[str, Any]) -> httpx.Response:
    pagination = {"page": 1, "limit": 100, "total": len(rows), "totalPages": 1}
    return httpx.Response(200, json={"data": list(rows), "pagination": pagination})


# ----- x3algo ---------------------------------------------------------------------------
async def test_x3algo_twin_notes_are_scrubbed_then_cut_like_pipai_s() -> None:
    """The id runs past the 80th character even scrubbed: the note names its first 80
    (cut after the scrubber, as PipAI's does); before, x3algo quoted it whole."""
    twin = "a" * 70 + PASSWORD + "b" * 40
    venue = x3algo.FakeVenue()
    rows = [{**x3algo.algo("stopped"), "id": twin}, {**x3algo.algo("active"), "id": twin}]
    venue.routes[("GET", ALGORITHMS)] = lambda _r: x3algo_page(*rows)
    client = x3algo.make_client(venue)
    try:
        [target] = await client.list_targets()
        [note] = client.skipped_rows
    finally:
        await client.aclose()
    assert target.raw_status == "active"  # the running row is kept
    assert "listed twice" in note and leaks(PASSWORD, note) == [], note
    assert note.startswith(("a" * 70 + "***" + "b" * 40)[:80] + ": "), note


async def test_x3algo_an_unreadable_row_is_named_by_its_scrubbed_id() -> None:
    """``_row_name`` cut the id at 64 characters, then the note was scrubbed."""
    bad = {**x3algo.algo("active"), "id": "a" * 50 + PASSWORD, "symbols": 7}
    venue = x3algo.FakeVenue()
    venue.routes[("GET", ALGORITHMS)] = lambda _r: x3algo_page(x3algo.algo("active"), bad)
    client = x3algo.make_client(venue)
    try:
        await client.list_targets()
        [note] = client.skipped_rows
    finally:
        await client.aclose()
    assert note.startswith("a" * 50 + "***: "), note
    assert leaks(PASSWORD, note) == [], note


async def test_x3algo_an_outcome_names_an_algorithm_by_its_scrubbed_name_and_id() -> None:
    """``_what`` cut the name (80) and a long id (79) before the outcome was scrubbed."""
    long_id = "d" * 70 + PASSWORD + "e" * 80
    row = {**x3algo.algo("active"), "id": long_id, "name": "n" * 70 + PASSWORD}
    venue = x3algo.FakeVenue()
    venue.routes[("GET", ALGORITHMS)] = lambda _r: x3algo_page(row)
    client = x3algo.make_client(venue)
    try:
        await client.list_targets()  # learns the name
        outcome = await client.execute(long_id, STOP)  # no route: x3algo answers 404
    finally:
        await client.aclose()
    assert "does not know" in outcome.message, outcome
    assert leaks(PASSWORD, *outcome_texts(outcome)) == [], outcome


async def test_x3algo_missing_fields_and_a_bare_body_are_scrubbed_then_cut() -> None:
    """A draft's ``missingFields`` (cut at 80) and a body that is no envelope (cut at
    120) quoted the venue's words cut, then scrubbed."""
    venue = x3algo.FakeVenue()
    start = f"{ALGORITHMS}/{x3algo.ALGO}/start"
    missing = ["m" * 70 + PASSWORD]
    venue.routes[("POST", start)] = lambda _r: x3algo.envelope(
        400, "VALIDATION_ERROR", "incomplete", missingFields=missing
    )
    stop = f"{ALGORITHMS}/{x3algo.ALGO}/stop"
    venue.routes[("POST", stop)] = lambda _r: httpx.Response(418, text="b" * 110 + PASSWORD)
    client = x3algo.make_client(venue)
    try:
        started = await client.execute(x3algo.ALGO, Action(ActionKind.START))
        stopped = await client.execute(x3algo.ALGO, STOP)
    finally:
        await client.aclose()
    assert "Missing: " + "m" * 70 + "***" in started.message, started
    assert "b" * 100 in stopped.message, stopped
    assert leaks(PASSWORD, *outcome_texts(started), *outcome_texts(stopped)) == []


# ----- Joyride --------------------------------------------------------------------------
async def test_joyride_ids_in_messages_are_scrubbed_then_cut_at_40() -> None:
    """An id that is no expiration, quoted back at 40 characters."""
    venue = joyride.Venue()
    client = joyride.make_client(venue)
    try:
        outcome = await client.execute("x" * 30 + TOKEN, PAUSE)
    finally:
        await client.aclose()
    assert "is not a Joyride expiration" in outcome.message, outcome
    assert "'" + "x" * 30 + "***'" in outcome.message, outcome
    assert leaks(TOKEN, *outcome_texts(outcome)) == [], outcome
    assert venue.posts == []


async def test_joyride_skipped_rows_quote_scrubbed_values() -> None:
    """A row's id and a refused value were cut at 60 characters, then scrubbed."""
    venue = joyride.Venue()
    venue.listing = [
        *joyride.LISTING,
        joyride.instrument("i" * 50 + TOKEN, expiration="soon"),
        joyride.instrument("SOL_USDC-28FEB25-160-C", expiration="v" * 50 + TOKEN),
    ]
    client = joyride.make_client(venue)
    try:
        await client.list_targets()
        notes = client.skipped_rows
    finally:
        await client.aclose()
    assert len(notes) == 2 and notes[0].startswith("i" * 50 + "***: "), notes
    assert "'" + "v" * 50 + "***'" in notes[1], notes
    assert leaks(TOKEN, *notes) == [], notes


async def test_joyride_error_words_code_body_and_drift_are_scrubbed_then_cut() -> None:
    """The error body's message (300), code (80), a bare body (160) and the engine's
    missing instruments (80): each was cut, then the outcome scrubbed."""
    error = {"error": "c" * 70 + TOKEN, "message": "m" * 290 + TOKEN}
    drift = joyride.pause_body(db=3, engine=2, missing=["s" * 70 + TOKEN])
    venue = joyride.Venue(
        httpx.Response(400, json=error),
        httpx.Response(418, text="b" * 150 + TOKEN),
        httpx.Response(200, json=drift),
    )
    client = joyride.make_client(venue)
    try:
        await client.list_targets()
        outcomes = [await client.execute(str(joyride.EXP), PAUSE) for _ in range(3)]
    finally:
        await client.aclose()
    texts = [text for outcome in outcomes for text in outcome_texts(outcome)]
    assert "m" * 290 + "***" in outcomes[0].message, outcomes[0]
    assert "b" * 150 + "***" in outcomes[1].message, outcomes[1]
    assert "s" * 70 + "***" in (outcomes[2].warning or ""), outcomes[2]
    assert leaks(TOKEN, *texts) == [], texts


# ----- a body quoted in words: 55-tech, FinRadar, PipAI -----------------------------------
KEY = "sk_live_9fQ2xV7mZr41LpW3"
SCRUBBER = VenueScrubber([KEY])


def bare(limit: int) -> Reply:
    """A body that is no error envelope, with the key running across ``limit``."""
    return Reply(500, {}, ("b" * (limit - 10) + KEY).encode(), 1.0)


def test_reply_text_scrubs_the_whole_body_before_it_cuts() -> None:
    text = bare(120).text(120, scrub=SCRUBBER.scrub)
    assert text == "b" * 110 + "***" and leaks(KEY, text) == []
    assert bare(120).text(120, scrub=None) == "b" * 110 + KEY  # whole, for its caller


def test_fiftyfive_pipai_and_finradar_quote_a_scrubbed_body() -> None:
    scrub = SCRUBBER.scrub
    words = [
        fiftyfive_read_error(bare(200), "API key #1 of 1", 30.0, scrub),
        fiftyfive_refused("API key #1 of 1", "stop", bare(200), 30.0, scrub).message,
        pipai_http_error(bare(120), "reading strategies", scrub),
        finradar_words(bare(200), scrub)[0],
    ]
    assert all("b" * 100 + "***" in text for text in words), words
    assert leaks(KEY, *(scrub(text) for text in words)) == [], words


# ----- PipAI's page notes, and the cursor reader's own words -------------------------------
def test_pipai_skipped_rows_quote_a_scrubbed_id_and_scrubbed_keys() -> None:
    """A row's id (cut at 80) and a page's keys (40) were cut before the list reader
    scrubbed its notes and errors."""
    row = {"id": "p" * 70 + KEY, "status": None}
    page = read_page("pipai", json.dumps({"data": [row], "next_cursor": None}).encode(), 0.0,
                     scrub=SCRUBBER.scrub)  # fmt: skip
    [note] = page.skipped
    assert note.startswith("p" * 70 + "***: ") and leaks(KEY, note) == [], note
    keys = json.dumps({"k" * 30 + KEY: 1}).encode()
    with pytest.raises(Unreadable) as err:
        read_page("pipai", keys, 0.0, scrub=SCRUBBER.scrub)
    assert "k" * 30 + "***" in str(err.value) and leaks(KEY, str(err.value)) == []


async def test_a_cursor_list_failing_inside_the_console_words_a_scrubbed_error() -> None:
    """An exception's text (cut at 160) was cut, then the Incomplete scrubbed."""
    reader = CursorList(ListWords("PipAI", "strategy", "strategies"), max_pages=5,
                        max_targets=100, max_cursor_chars=100, scrubber=SCRUBBER)  # fmt: skip
    target = Target("PipAI", TargetKind.STRATEGY, "s1", "one", State.RUNNING, "running")

    @dataclass
    class Page1:
        targets: list[Target]
        skipped: list[str]
        next_cursor: str | None

    async def fetch(cursor: str | None, number: int) -> Page1:
        if number == 1:
            return Page1([target], [], "next")
        raise RuntimeError("x" * 150 + KEY)

    with pytest.raises(Incomplete) as err:
        await reader.read(fetch)
    assert "x" * 150 + "***" in str(err.value), err.value
    assert leaks(KEY, str(err.value)) == [], err.value
