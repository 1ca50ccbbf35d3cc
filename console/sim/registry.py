"""The simulated vendors, by the API kind profiles name them with."""

from __future__ import annotations

from console.sim.fiftyfive import FiftyFiveSim
from console.sim.finradar import FinRadarSim
from console.sim.joyride import JoyrideSim
from console.sim.pipai import PipAISim
from console.sim.vendor import VendorSim
from console.sim.x3algo import X3AlgoSim

VENDOR_SIMS: dict[str, type[VendorSim]] = {
    "55tech": FiftyFiveSim,
    "x3algo": X3AlgoSim,
    "pipai": PipAISim,
    "joyride": JoyrideSim,
    "finradar": FinRadarSim,
}
