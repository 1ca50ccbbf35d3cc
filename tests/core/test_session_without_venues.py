"""A profile that names no venue (kept for its journal): its session's reads return at
once — they raised "ValueError: Set of Tasks/Futures is empty" from asyncio.wait, a
traceback in ``automate`` and ``hub`` (session 23; fails on the code before)."""

from __future__ import annotations

from pathlib import Path

from console.core.journal import Journal
from console.core.session import Session, SessionOptions


async def test_a_session_without_venues_reads_nothing_and_says_so(tmp_path: Path) -> None:
    session = Session(SessionOptions(profile="p", label="P"), [],
                      Journal(tmp_path / "j.sqlite3", profile="p"))  # fmt: skip
    try:
        assert await session.refresh() == {}
        await session.first_reads()  # returns: nothing to read
    finally:
        await session.aclose()
