"""TLS contexts: the trust store is loaded once per process, and a plain-HTTP venue's
unused context can only fail closed."""

from __future__ import annotations

import ssl

from console.venues.kit.base import VenueSettings
from console.venues.kit.http import make_http_client


def context_of(base_url: str) -> ssl.SSLContext:
    client = make_http_client(VenueSettings(name="v", api="x3algo", base_url=base_url))
    assert client.aiohttp_transport is not None
    return client.aiohttp_transport.ssl_context


def test_https_venues_share_one_verified_context() -> None:
    first = context_of("https://api.example.invalid")
    second = context_of("HTTPS://other.example.invalid/v1")
    assert first is second  # loaded once, not once per client
    assert first.verify_mode == ssl.CERT_REQUIRED
    assert first.check_hostname


def test_a_plain_http_venue_gets_a_context_that_trusts_nothing() -> None:
    plain = context_of("http://127.0.0.1:8080")
    assert plain is not context_of("https://api.example.invalid")
    assert plain.verify_mode == ssl.CERT_REQUIRED
    assert plain.check_hostname
    assert plain.cert_store_stats()["x509_ca"] == 0
