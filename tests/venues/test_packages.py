"""Five venues built alike: learn one package, know five.

Every vendor package under ``console/venues/`` holds the same files — ``client`` (the
VenueClient), ``wire`` (the vendor's documented shapes), ``mapping`` (wire → Target
rows), ``outcomes`` (answers → Outcome) — plus ``feed`` where the vendor streams and
``auth`` where auth is more than a header, and nothing else. What every vendor repeats
lives in ``console/venues/kit/``; no module named after a vendor stays at the flat level.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import console.venues

VENUES = Path(console.venues.__file__).parent
VENDORS = ("fiftyfive", "x3algo", "pipai", "joyride", "finradar")
REQUIRED = frozenset({"__init__", "client", "wire", "mapping", "outcomes"})
OPTIONAL = frozenset({"feed", "auth"})


def modules(folder: Path) -> set[str]:
    return {p.stem for p in folder.glob("*.py")}


@pytest.mark.parametrize("vendor", VENDORS)
def test_each_vendor_package_holds_the_same_files(vendor: str) -> None:
    package = VENUES / vendor
    assert package.is_dir(), f"console/venues/{vendor}/ is not a package yet"
    found = modules(package)
    assert found >= REQUIRED, f"{vendor} lacks {sorted(REQUIRED - found)}"
    assert found <= REQUIRED | OPTIONAL, f"{vendor} has extra {sorted(found - REQUIRED - OPTIONAL)}"
    assert not [p.name for p in package.iterdir() if p.is_dir() and p.name != "__pycache__"]


@pytest.mark.parametrize("vendor", VENDORS)
def test_no_module_named_after_a_vendor_stays_at_the_flat_level(vendor: str) -> None:
    assert not sorted(p.name for p in VENUES.glob(f"{vendor}*.py"))
