"""One loopback venue for every example of a property test, its clients built per example.

Why this module exists: a property test whose client keeps state between calls (x3algo's
login: each example must log in anew) builds a fresh client for each example, and it
used to build a fresh :class:`~tests.venues.loopback.LoopbackVenue` and event loop with
it: a venue closes with the last of its clients, so every example also started an
aiohttp server, bound a socket and tore it all down again. :func:`held` keeps one venue
serving for the whole test instead: it holds a connector of the venue's own (the seam's
public :meth:`~tests.venues.loopback.LoopbackVenue.connector`, never used to connect),
so the venue outlives each example's client, and closes the venue when the test is done.

Each example still goes the whole production way: its own client, its own aiohttp
session and connections (opened on its first request, closed by its ``aclose``), the
venue's real server answering from the example's script. Only the server is shared, and
it holds no state an answer depends on but the script the example sets.

(Measured, CI budget: x3algo's login property 1.7 -> 1.5 s of CPU for 400 examples. For
Joyride's properties it saved nothing measurable: there a new client and its first
connection cost the time, and a server start little.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp

from tests.venues.loopback import Handler, LoopbackVenue


@contextmanager
def held(handler: Handler, runner: asyncio.Runner) -> Iterator[LoopbackVenue]:
    """A venue serving ``handler`` in ``runner``'s loop until the ``with`` ends (then
    closed, its server and sockets with it). Build each example's client on it and close
    the client after the example, as before: the venue stays up."""
    venue = LoopbackVenue(handler)
    anchor = runner.run(_anchor(venue))
    try:
        yield venue
    finally:
        runner.run(_release(anchor))  # the venue's last connector: the venue closes with it


async def _anchor(venue: LoopbackVenue) -> aiohttp.BaseConnector:
    """A connector of the venue's, made in the loop its clients run in (aiohttp binds a
    connector to the running loop); it never opens a connection."""
    return venue.connector(1)


async def _release(anchor: aiohttp.BaseConnector) -> None:
    await anchor.close()
