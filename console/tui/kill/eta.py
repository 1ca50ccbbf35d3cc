"""How long each venue's share of a kill will take, from its documented control limit.

An ETA that ignores rate limits lies exactly when it matters: 250 x3algo algorithms take
two and a half minutes at 100 stops a minute however fast the network is. The documented
limit of each API's *control* calls lives here as data (the venue modules pace with the
same figures; the TUI may not import them), scaled like the clients scale it
(``settings.rate_scale``, ``settings.rate_limits``), and the observed rate corrects it
once answers arrive: a venue never goes faster than its limit nor than it is seen going.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from console.core.ports import VenueSettings


@dataclass(frozen=True)
class ControlRate:
    """``limit`` units per ``window_s``; one control call costs ``weight`` units."""

    bucket: str  # the name a profile's rate_limits table overrides
    limit: int
    window_s: float
    weight: int = 1

    @property
    def calls_per_window(self) -> int:
        return max(1, self.limit // max(1, self.weight))

    @property
    def per_minute(self) -> float:
        return self.calls_per_window * 60.0 / self.window_s if self.window_s else math.inf


DOCUMENTED: Mapping[str, ControlRate] = {
    "55tech": ControlRate("rest", 2000, 60.0),  # per client API key
    "x3algo": ControlRate("trading", 100, 60.0),
    "pipai": ControlRate("weight", 1200, 60.0, weight=5),  # a pause weighs 5
    "finradar": ControlRate("requests", 120, 60.0),
    "joyride": ControlRate("admin", 20, 1.0),
}


def control_rate(settings: VenueSettings) -> ControlRate | None:
    """The limit this venue's client paces control calls under (None: unpaced or unknown)."""
    documented = DOCUMENTED.get(settings.api)
    if documented is None or not settings.pacing:
        return None
    override = settings.rate_limits.get(documented.bucket)
    limit = override.limit if override else documented.limit
    window = (override.window_s if override else documented.window_s) * settings.rate_scale
    return ControlRate(documented.bucket, limit, window, documented.weight)


def documented_s(planned: int, rate: ControlRate | None) -> float:
    """Seconds the limit alone imposes on ``planned`` calls sent from a fresh window.

    The first window's worth goes at once; each further window's worth waits a window.
    """
    if rate is None or planned <= 0:
        return 0.0
    return (math.ceil(planned / rate.calls_per_window) - 1) * rate.window_s


def eta_s(
    *, planned: int, answered: int, elapsed_s: float, rate: ControlRate | None
) -> float | None:
    """Seconds left for one venue, or None while there is nothing to go on.

    The larger of what the limit still imposes and what the observed rate predicts.
    """
    remaining = planned - answered
    if remaining <= 0:
        return 0.0
    by_limit = max(0.0, documented_s(planned, rate) - elapsed_s)
    if answered <= 0 or elapsed_s <= 0:
        return by_limit if by_limit > 0 else None
    by_observation = remaining * elapsed_s / answered
    return max(by_limit, by_observation)


def fmt_eta(seconds: float | None) -> str:
    """``done``, ``<1s``, ``~42s``, ``~2m30s``; ``waiting`` when unknown."""
    if seconds is None:
        return "waiting"
    if seconds <= 0:
        return "done"
    if seconds < 1:
        return "<1s"
    s = math.ceil(seconds)
    return f"~{s}s" if s < 60 else f"~{s // 60}m{s % 60:02d}s"
