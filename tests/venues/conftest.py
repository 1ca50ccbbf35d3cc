"""Every loopback venue a test started (``tests/venues/loopback.py``) is closed after it,
with the client connectors it made: no server, socket or session outlives its test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.venues.loopback import close_open_venues


@pytest.fixture(autouse=True)
async def _loopback_venues_closed() -> AsyncIterator[None]:
    yield
    await close_open_venues()
