"""TLS contexts: the trust store is loaded once per process, and a plain-HTTP venue's
unused context can only fail closed."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from console.venues.kit import http_client
from console.venues.kit.base import VenueSettings
from console.venues.kit.http import CallError, send
from console.venues.kit.http_client import make_http_client


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


# ----- the context is the one every request uses ------------------------------------
@pytest.fixture
def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A certificate for ``localhost`` that no trust store holds (made by openssl)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: cannot make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


@pytest.fixture
async def tls_venue(self_signed: tuple[Path, Path]) -> AsyncIterator[str]:
    """An https venue on loopback (``localhost``) answering ``{}`` with that certificate."""
    cert, key = self_signed
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(cert, key)

    async def ping(_request: web.Request) -> web.Response:
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/ping", ping)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=served)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"https://localhost:{port}"
    finally:
        await runner.cleanup()


async def test_an_untrusted_certificate_is_refused_and_nothing_was_sent(tls_venue: str) -> None:
    client = make_http_client(VenueSettings(name="v", api="x3algo", base_url=tls_venue))
    try:
        with pytest.raises(CallError) as refused:
            await send(client, "GET", "/ping")
    finally:
        await client.aclose()
    assert refused.value.kind == "connect" and not refused.value.maybe_sent
    assert "certificate" in refused.value.message.lower()


async def test_requests_use_the_clients_context(
    tls_venue: str, self_signed: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Trusting the certificate in *this* context lets the call through: the context the
    tests above check is the one the connection is made with, not a default below it."""
    trusting = ssl.create_default_context(cafile=str(self_signed[0]))
    monkeypatch.setattr(http_client, "_verified_tls", lambda: trusting)
    client = make_http_client(VenueSettings(name="v", api="x3algo", base_url=tls_venue))
    try:
        reply = await send(client, "GET", "/ping")
    finally:
        await client.aclose()
    assert reply.status == 200
