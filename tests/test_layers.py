"""The layers hold: core imports nothing from the venues (issue 13, first step)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "console" / "core"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_core_imports_nothing_from_the_venues() -> None:
    offenders = {
        path.name: sorted(m for m in imported_modules(path) if m.startswith("console.venues"))
        for path in sorted(CORE.glob("*.py"))
    }
    assert {name: mods for name, mods in offenders.items() if mods} == {}


def test_core_names_no_venue_package_at_all() -> None:
    # The acceptance's grep: not even a docstring points core at the venue modules. As
    # grep reads it, the dot is any character ("console/venues/kit/refused.py" in two
    # docstrings matched the grep while a plain substring test passed).
    pattern = re.compile("console.venues")
    hits = [p.name for p in CORE.rglob("*.py") if pattern.search(p.read_text())]
    assert hits == []
