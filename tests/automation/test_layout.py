"""Automation builds on core only: nothing from the venues, the cli or the tui (which
move), so the console and the headless runner share it unchanged."""

from __future__ import annotations

from pathlib import Path

from tests.test_layers import imported_modules

PACKAGE = Path(__file__).resolve().parents[2] / "console" / "automation"


def test_automation_imports_only_core_and_itself() -> None:
    offenders = {
        path.name: sorted(
            m for m in imported_modules(path)
            if m.startswith("console.") and not m.startswith(("console.core", "console.automation"))
        )
        for path in sorted(PACKAGE.glob("*.py"))
    }  # fmt: skip
    assert {name: mods for name, mods in offenders.items() if mods} == {}


def test_no_file_names_a_vendor() -> None:
    vendors = ("joyride", "x3algo", "pipai", "55tech", "55-tech", "fiftyfive", "finradar")
    hits = {
        (p.name, v) for p in PACKAGE.glob("*.py") for v in vendors if v in p.read_text().lower()
    }
    assert hits == set()
