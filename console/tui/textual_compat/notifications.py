"""The app's notifications on screen, and taking some of them down.

Why private: Textual has ``App.notify`` and ``App.clear_notifications`` (all of them) but
no public way to list the toasts shown or withdraw one; the console keeps at most a few
on screen (the newest always in view), so it needs both. Upstream:
https://github.com/Textualize/textual/blob/main/src/textual/app.py (``_notifications``,
``_unnotify``, ``_refresh_notifications``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual.app import App
from textual.notifications import Notification


def shown(app: App[Any]) -> list[Notification]:
    """The notifications ``app`` holds now, oldest first."""
    return list(app._notifications)


def withdraw(app: App[Any], notes: Iterable[Notification]) -> None:
    """Take ``notes`` off the screen, then redraw the toasts once."""
    for note in notes:
        app._unnotify(note, refresh=False)
    app._refresh_notifications()
