"""Venue client classes by the API kind a profile names (``api = "x3algo"``)."""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Iterable

from console.core.journal import Journal
from console.core.session import Session, SessionOptions
from console.venues.base import VenueClient, VenueConfigError, VenueSettings

# api kind -> (module, class); imported on first use so one broken module cannot
# take the others down.
VENUE_CLIENTS: dict[str, tuple[str, str]] = {
    "55tech": ("console.venues.fiftyfive", "FiftyFiveClient"),
    "x3algo": ("console.venues.x3algo", "X3AlgoClient"),
    "pipai": ("console.venues.pipai", "PipAIClient"),
    "joyride": ("console.venues.joyride", "JoyrideClient"),
    "finradar": ("console.venues.finradar", "FinRadarClient"),
}

API_LABELS: dict[str, str] = {
    "55tech": "55-tech MM",
    "x3algo": "x3algo",
    "pipai": "PipAI",
    "joyride": "Joyride admin",
    "finradar": "FinRadar Sniper",
}


def client_class(api: str) -> type[VenueClient]:
    try:
        module_name, class_name = VENUE_CLIENTS[api]
    except KeyError:
        known = ", ".join(VENUE_CLIENTS)
        raise VenueConfigError(f"unknown venue api {api!r}; known: {known}") from None
    cls: type[VenueClient] = getattr(importlib.import_module(module_name), class_name)
    return cls


def make_client(settings: VenueSettings) -> VenueClient:
    return client_class(settings.api)(settings)


def session_for(
    options: SessionOptions,
    settings: Iterable[VenueSettings],
    journal: Journal,
    *,
    clock: Callable[[], float] = time.time,
) -> Session:
    """A session on the profile's venues: one client per configured venue (core builds
    sessions from clients; which client class serves which API is known only here)."""
    return Session(options, [make_client(s) for s in settings], journal, clock=clock)
