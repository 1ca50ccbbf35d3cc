"""What every venue module provides, and what it is given: the ports of
:mod:`console.core.ports`, re-exported under the name the venue modules import.

A venue module owns one vendor API: wire models, auth, HTTP client, feed and the
translation of the vendor's answers into the shared vocabulary of ``console.core.model``.
Nothing outside ``console/venues`` knows a vendor quirk.
"""

from __future__ import annotations

from console.core.ports import (
    FeedSink,
    FeedStatus,
    RateLimit,
    Secret,
    VenueClient,
    VenueConfigError,
    VenueSettings,
)

__all__ = [
    "FeedSink",
    "FeedStatus",
    "RateLimit",
    "Secret",
    "VenueClient",
    "VenueConfigError",
    "VenueSettings",
]
