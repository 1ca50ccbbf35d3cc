"""Key validation does not depend on which module was imported first (issue 13, item 4).

Every binding is declared in ``console.tui.keymap`` as data; nothing registers more at
import time. Each order runs in a fresh interpreter, so no earlier import in this test
process can hide a difference.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

REMAPS = {"kill": "f12", "audit": "U", "kill_report": "K", "pause": "W", "nope": "z"}
PROBE = f"""
from console.tui.keymap import all_bindings, help_rows, validate_keymap
print(validate_keymap({REMAPS!r}, all_bindings()))
print(validate_keymap({REMAPS!r}))
print(sorted(r.id for r in help_rows({{}})))
"""
ORDERS = {
    "keymap first": "import console.tui.keymap\n",
    "app first": "import console.tui.app\n",
    "kill modal first": "import console.tui.kill.kill_modal\n",
}


def probe(first: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", first + PROBE], capture_output=True, text=True, check=True
    )
    return done.stdout


@pytest.mark.parametrize("order", [o for o in ORDERS if o != "keymap first"])
def test_validation_is_the_same_whichever_module_comes_first(order: str) -> None:
    assert probe(ORDERS[order]) == probe(ORDERS["keymap first"])


def test_the_kill_keys_are_known_without_the_app() -> None:
    from console.tui.keymap import all_bindings, validate_keymap

    valid, problems = validate_keymap(REMAPS, all_bindings())
    assert valid == {"kill": "f12", "audit": "U", "pause": "W"}
    assert problems == ["kill_report: K is reserved for the kill-all", "unknown key id 'nope'"]
