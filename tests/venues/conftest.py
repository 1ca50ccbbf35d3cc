"""Every loopback venue a test started (``tests/venues/loopback.py``) is closed after it,
with the client connectors it made: no server, socket or session outlives its test; and
a handler that raised unexpectedly (a bug in the test) fails the test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.venues.loopback import close_open_venues, handler_errors


@pytest.fixture(autouse=True)
async def _loopback_venues_closed() -> AsyncIterator[None]:
    handler_errors()  # anything left by a test that ran before (none expected)
    yield
    await close_open_venues()
    errors = handler_errors()
    assert not errors, f"a loopback venue's handler raised: {errors!r}"
