"""The simulated vendors, by the API kind profiles name them with."""

from __future__ import annotations

from console.sim.fiftyfive.api import FiftyFiveSim
from console.sim.finradar.api import FinRadarSim
from console.sim.joyride.api import JoyrideSim
from console.sim.kit.vendor import VendorSim
from console.sim.kit.world import World
from console.sim.pipai.api import PipAISim
from console.sim.x3algo.api import X3AlgoSim

VENDOR_SIMS: dict[str, type[VendorSim[World]]] = {
    "55tech": FiftyFiveSim,
    "x3algo": X3AlgoSim,
    "pipai": PipAISim,
    "joyride": JoyrideSim,
    "finradar": FinRadarSim,
}
