"""The simulator's shape: one package per vendor with api.py and world.py, one World interface.

Learn one simulated vendor, know five: each lives in ``console/sim/<vendor>/`` with its
routes in ``api.py`` and its state in ``world.py``, and every world is built from a
:class:`VendorContext` by ``from_context`` and moved by ``tick(now, dt)`` — the shape the
server drives all five through.
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest

import console.sim
from console.sim.kit.context import SimClock, VendorContext
from console.sim.kit.world import World
from console.sim.registry import VENDOR_SIMS

FROZEN = 1_781_985_600.0  # 2026-06-20T20:00:00Z
SIM_ROOT = Path(console.sim.__file__).parent
# Each vendor's package, by the API kind profiles name it with.
PACKAGES = {
    "55tech": "fiftyfive",
    "x3algo": "x3algo",
    "pipai": "pipai",
    "joyride": "joyride",
    "finradar": "finradar",
}


def context(api: str, seed: int = 1) -> VendorContext:
    return VendorContext(name=api, seed=seed, scale=1, clock=SimClock(FROZEN))


def test_every_vendor_is_a_package_with_api_and_world() -> None:
    assert set(PACKAGES) == set(VENDOR_SIMS)
    vendor_dirs = {p.name for p in SIM_ROOT.iterdir() if (p / "__init__.py").exists()} - {"kit"}
    assert vendor_dirs == set(PACKAGES.values())
    for package in PACKAGES.values():
        files = {p.name for p in (SIM_ROOT / package).glob("*.py")}
        assert {"__init__.py", "api.py", "world.py"} <= files, package


def test_no_vendor_module_is_left_flat_in_the_sim_root() -> None:
    flat = {p.stem for p in SIM_ROOT.glob("*.py")}
    assert flat == {"__init__", "hostile", "registry", "server"}


@pytest.mark.parametrize("api", list(PACKAGES))
def test_each_vendor_serves_its_packages_world(api: str) -> None:
    package = f"console.sim.{PACKAGES[api]}"
    sim_class = VENDOR_SIMS[api]
    assert sim_class.__module__ == f"{package}.api"
    world_class = sim_class.world_type
    assert world_class.__module__ == f"{package}.world"
    assert world_class is getattr(importlib.import_module(f"{package}.world"), world_class.__name__)


@pytest.mark.parametrize("api", list(PACKAGES))
def test_each_world_satisfies_the_world_interface(api: str) -> None:
    world_class = VENDOR_SIMS[api].world_type
    assert issubclass(world_class, World)
    # One constructor shape: the context, and nothing else.
    assert list(inspect.signature(world_class.from_context).parameters) == ["ctx"]
    assert list(inspect.signature(world_class.tick).parameters) == ["self", "now", "dt"]
    world = world_class.from_context(context(api))
    assert isinstance(world, World)
    world.tick(FROZEN + 1.0, 1.0)


@pytest.mark.parametrize("api", list(PACKAGES))
def test_the_vendor_builds_its_world_from_its_context_first(api: str) -> None:
    """The base builds the world before the vendor draws anything: the vendor's world is
    the one ``from_context`` builds, and the same seed still gives the same world."""
    served, alone = context(api), context(api)
    vendor = VENDOR_SIMS[api](served)
    world = vendor.world_type.from_context(alone)
    assert type(vendor.world) is type(world)
    assert served.rng.getstate() == alone.rng.getstate()
    assert served.fault_rng.getstate() == alone.fault_rng.getstate()
