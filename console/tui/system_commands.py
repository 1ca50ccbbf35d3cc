"""Textual's generic palette entries, kept where they fit this console, and the screenshot.

Kept: Quit (q: asks first while a plan runs) and Screenshot (an SVG of the screen for an
incident note). Left out: the generic theme picker (the console's own "Theme: …"
commands list the themes made for its state colours), Textual's key panel (``?`` is the
help here), and Maximize / Minimize (a maximized table hides the header's READ-ONLY /
ARMED and the venues' health). The console's own palette entries are ``palette.py``'s.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any

from rich.text import Text
from textual.app import App, SystemCommand

from console.tui.keymap import display_key, effective_keys


def system_commands(
    keys: Mapping[str, str],
    *,
    quit: Callable[[], Awaitable[None]],
    screenshot: Callable[[], None],
) -> Iterator[SystemCommand]:
    """Quit and Screenshot, the quit key shown as the operator's keymap has it."""
    effective = effective_keys(keys)
    yield SystemCommand(
        "Quit",
        f"{display_key(effective['quit'])} · asks first if a plan is still running",
        quit,
    )
    yield SystemCommand(
        "Screenshot",
        "save an SVG picture of this screen in the current folder",
        screenshot,
    )


def save_screenshot(app: App[Any]) -> None:
    """An SVG of the screen in the current folder; where that cannot be written, why."""
    try:
        path = app.save_screenshot()
    except OSError as error:
        app.notify(
            f"Screenshot not saved: {error}. Run the console from a folder you can write.",
            severity="error",
            timeout=10,
        )
        return
    app.notify(Text(path).markup, title="Screenshot saved")
