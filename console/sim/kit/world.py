"""The one shape every simulated vendor's world has: built from its context, moved by ticks.

Each vendor package keeps its state in ``world.py``, apart from the routes in ``api.py``,
so the state can be built, moved and read without a server. Five vendors, one shape:
``<Vendor>World.from_context(ctx)`` draws everything from the context's seeded RNG and
clock (the same seed gives the same world), and ``tick(now, dt)`` moves it by ``dt``
seconds at the simulator's ``now``. The server and the ``tick`` admin commands drive all
five alike through this interface (``VendorSim.world``).
"""

from __future__ import annotations

from typing import Protocol, Self, runtime_checkable

from console.sim.kit.context import VendorContext


@runtime_checkable
class World(Protocol):
    """A simulated vendor's state, and the rules that move it."""

    @classmethod
    def from_context(cls, ctx: VendorContext) -> Self:
        """The vendor's seeded world: its RNG, clock, scale (and rate buckets) from ``ctx``."""
        ...

    def tick(self, now: float, dt: float) -> None:
        """Move the world by ``dt`` seconds; ``now`` is the simulator clock's instant."""
        ...
