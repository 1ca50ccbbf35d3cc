"""Sample targets for TUI tests: the demo world's (``console/tui/demo_world.py``)."""

from __future__ import annotations

from console.tui.demo_world import FROZEN, algorithms, engines, expirations, snipers, strategies

__all__ = ["FROZEN", "algorithms", "engines", "expirations", "snipers", "strategies"]
