"""The venues as a desk console plans with them, without their credentials.

The hub publishes each venue's name and API kind (``v.<venue>`` in the bucket); the
console plans (which actions a row offers, what a kill asks of a target, the ETA from a
control rate) with the registry's client class of that kind, built from the profile's
own settings for the venue when it has them (rate scale, options), else from defaults.
Either way the credentials are placeholders and the address is loopback's discard
port: planning never calls a venue, and a desk console never logs in to one (every
call goes to the hub). The clients are returned as they are (``VenueView`` s), so the
core's planning functions take them unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace

from console.core.ports import Secret, VenueClient, VenueSettings
from console.desk.messages import VenueMsg
from console.venues.registry import make_client

NOWHERE = "http://127.0.0.1:9"
"""Loopback's discard port: the address a planning-only client is given."""


class NoCredentials(Mapping[str, Secret]):
    """Answers every credential name with a placeholder that opens nothing."""

    def __getitem__(self, name: str) -> Secret:
        return Secret("desk-console-holds-no-venue-credentials")

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def planning_settings(venue: VenueMsg, configured: VenueSettings | None) -> VenueSettings:
    """``venue``'s settings for planning only: no credentials, no address, no state."""
    if configured is None or configured.api != venue.api:
        configured = VenueSettings(name=venue.name, api=venue.api, base_url=NOWHERE)
    return replace(configured, name=venue.name, base_url=NOWHERE, ws_url=None,
                   credentials=NoCredentials(), state_dir=None)  # fmt: skip


def planning_clients(
    venues: Iterable[VenueMsg], configured: Iterable[VenueSettings] = ()
) -> dict[str, VenueClient]:
    """One planning-only client per venue the hub serves, in the hub's order."""
    by_name = {s.name: s for s in configured}
    return {v.name: make_client(planning_settings(v, by_name.get(v.name))) for v in venues}
