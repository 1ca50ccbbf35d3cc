"""A resolver that sends every host name to one server on loopback.

What a seam (:class:`~console.venues.kit.http_client.Seam`) hands the client's connector when
the venue is served in process: the screenshots' simulated vendors, the tests' loopback
venues. The client keeps its base URL (a host name: aiohttp connects to an IP address
without asking the resolver), and every connection lands on 127.0.0.1 at the port the
server was given; the port is asked for on each connection, so a server started lazily
(or one that has begun to refuse) is followed.
"""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable

from aiohttp.abc import AbstractResolver, ResolveResult

LOOPBACK = "127.0.0.1"


class ToLoopback(AbstractResolver):
    """Every host name resolves to ``127.0.0.1:<await port()>``."""

    def __init__(self, port: Callable[[], Awaitable[int]]) -> None:
        self._port = port

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(
                hostname=host,
                host=LOOPBACK,
                port=await self._port(),
                family=socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
        ]

    async def close(self) -> None:
        return None
