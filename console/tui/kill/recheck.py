"""Noticing a venue's feed come back, so a kill's doubtful targets there are re-read.

The store keeps each venue's feed health; the app looks at it on the sticky watch's tick.
A venue counts as back when its feed goes from DOWN or RECONNECTING to LIVE or POLLING
between two looks (the first look only learns where each feed stands).
"""

from __future__ import annotations

from collections.abc import Iterable

from console.core.ports import FeedStatus
from console.core.store import Store

LOST = frozenset({FeedStatus.DOWN, FeedStatus.RECONNECTING})
BACK = frozenset({FeedStatus.LIVE, FeedStatus.POLLING})


class FeedRecovery:
    """Remembers each venue's last seen feed status and names those that came back."""

    def __init__(self) -> None:
        self.seen: dict[str, FeedStatus] = {}

    def recovered(self, store: Store, venues: Iterable[str]) -> list[str]:
        back = []
        for venue in sorted(venues):
            status = store.venue_health(venue).status
            before = self.seen.get(venue)
            self.seen[venue] = status
            if before in LOST and status in BACK:
                back.append(venue)
        return back
