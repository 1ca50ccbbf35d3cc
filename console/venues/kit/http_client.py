"""How a venue client is made: its base URL, fixed headers, timeouts, TLS and connections.

A venue client is an ``httpx.AsyncClient`` made by :func:`make_http_client` (its base
URL, fixed headers and timeouts; httpx's URL type for the few modules that read them)
whose ``httpx-aiohttp`` transport holds the aiohttp session every request goes out on
(:func:`console.venues.kit.http.send`, the one send path). Production connects with
:func:`production_connector`; a test, the screenshots' world and the kill benchmark's
rehearsal give a :class:`Seam` instead, which decides only where a host name resolves.

Besides its pooled connections, a client can open a **fresh** one, never pooled
(:func:`fresh_connector`, through the same seam): a halting call whose
kept-alive connection broke before any answer is sent once more on it
(``console/venues/kit/stale.py``).
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import Callable, Mapping
from typing import Protocol

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport
from multidict import CIMultiDict

from console.core.scrub import Scrubber
from console.venues.kit.base import VenueSettings

_USER_AGENT = "trading-console/0.1"
DEFAULT_MAX_BODY = 64 * 1024 * 1024


class Seam(Protocol):
    """What a test puts below :func:`send`: the connector a venue client's aiohttp
    session opens its connections with (called once, in the running loop, on the
    client's first request). Production has none and uses :func:`production_connector`."""

    def connector(self, limit: int) -> aiohttp.BaseConnector:
        """A connector as :func:`production_connector` makes it, but for where it connects."""
        ...

    def opened(self, session: aiohttp.ClientSession) -> None:
        """The client's session, made on that connector (the test closes it with the seam)."""
        ...


def production_connector(limit: int) -> aiohttp.TCPConnector:
    """The connector of a production venue client: ``limit`` connections, names cached 5 min."""
    return aiohttp.TCPConnector(limit=limit, ttl_dns_cache=300)


class VenueHTTPClient(httpx.AsyncClient):
    """An httpx client that remembers its aiohttp transport, for :func:`send`."""

    aiohttp_transport: AiohttpTransport | None = None
    fixed_headers: CIMultiDict[str] | None = None  # the client's own headers, read once
    base: str = ""  # base_url without its trailing slash, read once
    max_body_bytes: int = DEFAULT_MAX_BODY  # the venue's cap on one answer's body
    total_timeout_s: float = 10.0  # a request's whole exchange unless told (read + connect)
    scrub: Callable[[str], str] = str  # masks the venue's secrets in a network error's
    # words before send() cuts them (a broken status line can quote what the venue echoed)
    seam: Seam | None = None  # where its connections go (None: production's)


@functools.cache
def _verified_tls() -> ssl.SSLContext:
    """The system trust store (where a desk's own CA is installed), loaded once per
    process and shared by every venue client; every request names it (``ssl=``), so
    this is the context that is used, not a default somewhere below.

    Loading it costs about 40 ms; one context per client put five or more of those on
    the way to the console's first paint.
    """
    return ssl.create_default_context()


def tls_for(base_url: str) -> ssl.SSLContext:
    """The TLS context a client for ``base_url`` uses: verified for https; for a
    plain-HTTP venue (the simulator on loopback) TLS never happens, and the context it
    gets trusts no certificate at all, so it could only ever fail closed."""
    if base_url.lower().startswith("https:"):
        return _verified_tls()
    return _no_tls()


@functools.cache
def _no_tls() -> ssl.SSLContext:
    """One per process, shared like the verified one (~0.15 ms to make: the suite's
    property tests build a client per example, thousands of them)."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def make_http_client(
    settings: VenueSettings,
    *,
    headers: Mapping[str, str] | None = None,
    transport: Seam | None = None,
    max_connections: int = 64,
) -> httpx.AsyncClient:
    """A venue client on aiohttp's session, timeouts always set, no proxies from env.

    ``transport`` is the test seam (:class:`Seam`): where the connections go. Every
    request takes the same path with or without it."""
    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections
    )
    timeout = httpx.Timeout(
        settings.request_timeout_s, connect=min(settings.request_timeout_s, 5.0)
    )
    seam = transport

    def session() -> aiohttp.ClientSession:
        connector: aiohttp.BaseConnector
        if seam is None:
            connector = production_connector(max_connections)
        else:
            connector = seam.connector(max_connections)
        opened = aiohttp.ClientSession(
            connector=connector, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False
        )
        if seam is not None:
            seam.opened(opened)
        return opened

    aiohttp_transport = AiohttpTransport(
        verify=tls_for(settings.base_url), limits=limits, trust_env=False, client=session
    )
    client = VenueHTTPClient(
        base_url=settings.base_url,
        headers={"User-Agent": _USER_AGENT, **(headers or {})},
        timeout=timeout,
        transport=aiohttp_transport,
        trust_env=False,
        follow_redirects=False,
    )
    client.aiohttp_transport = aiohttp_transport
    client.max_body_bytes = settings.max_body_bytes
    client.fixed_headers = CIMultiDict(client.headers.items())
    client.base = str(client.base_url).rstrip("/")
    client.total_timeout_s = _total_timeout(client)
    client.seam = seam
    client.scrub = Scrubber(s.reveal() for s in settings.credentials.values()).scrub
    return client


def use_scrubber(client: httpx.AsyncClient, scrub: Callable[[str], str]) -> None:
    """Have ``client`` mask a network error's words with the venue's own scrubber (which
    also knows the secrets the venue minted since, and credential-shaped text) before
    :func:`~console.venues.kit.http.send` cuts them; by default it masks the profile's
    configured secrets."""
    if isinstance(client, VenueHTTPClient):
        client.scrub = scrub


def fresh_connector(client: httpx.AsyncClient) -> aiohttp.BaseConnector:
    """A connector for one connection of ``client``'s own, never one from its pool, to
    the same place (through its seam, if it has one). Whoever opens a session on it
    closes it after the one request."""
    seam: Seam | None = getattr(client, "seam", None)
    return production_connector(1) if seam is None else seam.connector(1)


def _total_timeout(client: httpx.AsyncClient) -> float:
    t = client.timeout
    return (t.read or 5.0) + (t.connect or 0.0)
