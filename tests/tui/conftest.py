"""Fixtures for TUI tests: a fake clock, fake venues and a session built on them."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.core.session import Session
from tests.tui.fakes import FakeClock, FakeVenue, fake_session, fake_venues


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def venues() -> dict[str, FakeVenue]:
    return fake_venues()


@pytest.fixture
def session(tmp_path: Path, clock: FakeClock, venues: dict[str, FakeVenue]) -> Session:
    return fake_session(tmp_path, clock, venues)
