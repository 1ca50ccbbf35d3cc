"""Venue client classes by the API kind a profile names (``api = "x3algo"``)."""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Iterable, Iterator, Mapping

from console.core.journal import Journal
from console.core.ports import Capabilities, ControlRate, paced_rate
from console.core.session import Session, SessionOptions
from console.venues.kit.base import VenueClient, VenueConfigError, VenueSettings

# api kind -> (module, class); imported on first use so one broken module cannot
# take the others down.
VENUE_CLIENTS: dict[str, tuple[str, str]] = {
    "55tech": ("console.venues.fiftyfive.client", "FiftyFiveClient"),
    "x3algo": ("console.venues.x3algo.client", "X3AlgoClient"),
    "pipai": ("console.venues.pipai.client", "PipAIClient"),
    "joyride": ("console.venues.joyride.client", "JoyrideClient"),
    "finradar": ("console.venues.finradar.client", "FinRadarClient"),
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


def capabilities_of(api: str) -> Capabilities:
    """What the client of ``api`` declares (its module's ``CAPABILITIES``)."""
    module_name, _ = VENUE_CLIENTS[api]
    caps: Capabilities = importlib.import_module(module_name).CAPABILITIES
    return caps


class _Documented(Mapping[str, ControlRate]):
    """api -> the documented control rate its client declares (imported on first use)."""

    def __getitem__(self, api: str) -> ControlRate:
        rate = capabilities_of(api).control_rate if api in VENUE_CLIENTS else None
        if rate is None:
            raise KeyError(api)
        return rate

    def __iter__(self) -> Iterator[str]:
        return (api for api in VENUE_CLIENTS if api in self)

    def __len__(self) -> int:
        return sum(1 for _ in self)


DOCUMENTED: Mapping[str, ControlRate] = _Documented()


def control_rate(settings: VenueSettings) -> ControlRate | None:
    """The control rate a client of ``settings`` paces under, without building one."""
    return paced_rate(DOCUMENTED.get(settings.api), settings)


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
