"""The app's message queue and shutdown flags.

Why private: Textual has no public way to ask whether a key is queued but not handled
yet (the quiet collector must not run then), nor whether the app is shutting down
(a redraw then meets widgets already gone). Upstream:
https://github.com/Textualize/textual/blob/main/src/textual/message_pump.py and app.py
"""

from __future__ import annotations

from typing import Any

from textual import events
from textual.app import App


def queued_input(app: App[Any]) -> bool:
    """A key or click queued for ``app`` but not handled yet."""
    queued = getattr(app._message_queue, "values", ())  # Textual's own Queue: a deque
    return any(isinstance(m, events.Key | events.MouseDown) for m in queued)


def shutting_down(app: App[Any]) -> bool:
    """The app is exiting, closing or closed (its widgets may be gone)."""
    return bool(app._exit or app._closing or app._closed or not app._running)


def exiting(app: App[Any]) -> bool:
    """``App.exit`` was called (the screens may already be coming down)."""
    return bool(app._exit)
