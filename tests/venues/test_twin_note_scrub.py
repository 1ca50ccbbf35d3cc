"""A twin note never quotes part of a secret: the id and status are scrubbed, then cut.

A venue may echo a credential anywhere, an id included. The note naming an id listed
twice cut the id at 80 characters (the status at 40) before the venue's scrubber saw
it, so a secret straddling the cut lost its end and was no longer recognised: its
first characters reached the kill's report. Both list readers are driven here through
their own ``read`` with pages made in the test (no venue is needed to say what a page
holds); each test fails on the code before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from console.core.model import State, Target, TargetKind
from console.venues.kit.paging import Allowance, CursorList, ListWords, Page, PagedList
from console.venues.kit.scrubber import VenueScrubber

SECRET = "sk_live_9fQ2xV7mZr41LpW3"
ID = "a" * 70 + SECRET  # the secret runs across the 80th character
STATUS = "x" * 30 + SECRET  # and across the status's 40th


def _leaks(text: str) -> list[str]:
    """Every 6-character piece of the secret found in ``text``."""
    return [SECRET[i : i + 6] for i in range(len(SECRET) - 5) if SECRET[i : i + 6] in text]


def _target(state: State) -> Target:
    return Target("venue", TargetKind.STRATEGY, ID, "twin", state, STATUS)


@dataclass
class _CursorPage:
    targets: list[Target]
    skipped: list[str] = field(default_factory=list)
    next_cursor: str | None = None


async def test_a_cursor_list_twin_note_is_scrubbed_before_it_is_cut() -> None:
    reader = CursorList(ListWords("PipAI", "strategy", "strategies"), max_pages=5,
                        max_targets=100, max_cursor_chars=100,
                        scrubber=VenueScrubber([SECRET]))  # fmt: skip

    async def fetch(cursor: str | None, number: int) -> _CursorPage:
        return _CursorPage([_target(State.STOPPED), _target(State.RUNNING)])

    targets = await reader.read(fetch)
    assert [t.state for t in targets] == [State.RUNNING]  # the running row is kept
    [note] = reader.skipped
    assert "listed twice" in note and "***" in note
    assert _leaks(note) == [], note


async def test_a_paged_list_twin_note_is_scrubbed_before_it_is_cut() -> None:
    def to_target(row: dict[str, Any], confirmed: float) -> Target:
        return _target(State(row["state"]))

    def reader(scrubber: VenueScrubber | None) -> PagedList[dict[str, Any]]:
        return PagedList(ListWords("x3algo", "algorithm"), page_limit=10, max_targets=100,
                         to_target=to_target, scrubber=scrubber)  # fmt: skip

    async def fetch(number: int) -> Page[dict[str, Any]]:
        rows = [{"id": ID, "state": "stopped"}, {"id": ID, "state": "running"}]
        return Page(number, 1, rows, len(rows))

    scrubber = VenueScrubber([SECRET])
    with_scrubber = reader(scrubber)
    await with_scrubber.read(fetch, Allowance(5, "max_pages is 5"), lambda: None)
    [note] = with_scrubber.skipped
    assert "listed twice" in note and _leaks(note) == [], note
    assert note.startswith(scrubber.scrub(ID)[:80] + ": ")  # cut, after the scrubber

    # Without a scrubber the note quotes the id and status whole, for its caller to
    # scrub (x3algo's client scrubs every skipped row): nothing is cut before that.
    without = reader(None)
    await without.read(fetch, Allowance(5, "max_pages is 5"), lambda: None)
    [note] = without.skipped
    assert ID in note and STATUS in note
    assert _leaks(scrubber.scrub(note)) == []
