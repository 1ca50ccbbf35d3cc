"""The kill's ETA reads the rate each client declares, scaled as the client paces it."""

from __future__ import annotations

import pytest

from console.core.ports import Capabilities, ControlRate, RateLimit, VenueSettings
from console.demo.venue import DEMO_CAPABILITIES
from console.tui.kill.eta import control_rate
from console.venues.registry import VENUE_CLIENTS, capabilities_of
from tests.core.fakes import FakeClient

DECLARED = ControlRate("calls", 10, 2.0, weight=2)


def _client(**settings: object) -> FakeClient:
    client = FakeClient("v", [])
    client.settings = VenueSettings(name="v", api="fake", base_url="x", **settings)  # type: ignore[arg-type]
    client.caps = Capabilities(control_rate=DECLARED)
    return client


def test_eta_reads_the_rate_the_client_declares() -> None:
    assert control_rate(_client()) == DECLARED
    assert control_rate(_client(rate_scale=0.5)) == ControlRate("calls", 10, 1.0, 2)
    custom = _client(rate_limits={"calls": RateLimit(4, 8.0)})
    assert control_rate(custom) == ControlRate("calls", 4, 8.0, 2)
    assert control_rate(_client(pacing=False)) is None
    assert control_rate(FakeClient("undeclared", [])) is None


@pytest.mark.parametrize("api", sorted(VENUE_CLIENTS))
def test_the_demo_venues_declare_what_the_real_modules_declare(api: str) -> None:
    assert DEMO_CAPABILITIES[api] == capabilities_of(api)
