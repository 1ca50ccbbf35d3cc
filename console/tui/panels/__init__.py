"""The five panels, one per kind of target."""

from __future__ import annotations

from collections.abc import Mapping

from console.core.model import TargetKind
from console.tui.panels.algorithms import AlgorithmsPanel
from console.tui.panels.base import TargetPanel
from console.tui.panels.engines import EnginesPanel
from console.tui.panels.expirations import ExpirationsPanel
from console.tui.panels.snipers import SnipersPanel
from console.tui.panels.strategies import StrategiesPanel

PANELS: tuple[type[TargetPanel], ...] = (
    EnginesPanel,
    AlgorithmsPanel,
    StrategiesPanel,
    ExpirationsPanel,
    SnipersPanel,
)

API_KINDS: Mapping[str, TargetKind] = {
    "55tech": TargetKind.ENGINE,
    "x3algo": TargetKind.ALGORITHM,
    "pipai": TargetKind.STRATEGY,
    "joyride": TargetKind.EXPIRATION,
    "finradar": TargetKind.SNIPER,
}
"""Which panel shows a venue's health before its first target arrives (by profile api)."""

__all__ = ["API_KINDS", "PANELS", "TargetPanel"]
