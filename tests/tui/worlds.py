"""Sample targets for TUI tests: the demo world's (``console/demo/world.py``)."""

from __future__ import annotations

from console.demo.world import FROZEN, algorithms, engines, expirations, snipers, strategies

__all__ = ["FROZEN", "algorithms", "engines", "expirations", "snipers", "strategies"]
