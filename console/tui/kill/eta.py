"""How long each venue's share of a kill will take, from its documented control limit.

An ETA that ignores rate limits lies exactly when it matters: 250 x3algo algorithms take
two and a half minutes at 100 stops a minute however fast the network is. Each venue
client declares the documented limit of its *control* calls (``capabilities.control_rate``,
the figure it paces with) and scales it as it paces (``settings.rate_scale``,
``settings.rate_limits``, ``pacing``): :meth:`VenueClient.control_rate`. The observed
rate corrects it once answers arrive: a venue never goes faster than its limit nor than
it is seen going.
"""

from __future__ import annotations

import math

from console.core.ports import ControlRate, VenueView

__all__ = ["ControlRate", "control_rate", "documented_s", "eta_s", "fmt_eta"]


def control_rate(client: VenueView) -> ControlRate | None:
    """The limit this venue's client paces control calls under (None: unpaced or unknown)."""
    return client.control_rate()


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
