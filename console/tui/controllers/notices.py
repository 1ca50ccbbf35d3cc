"""What the app says on its own: the start-up warnings, and a short stack of toasts.

Kept apart from the keys because these are the app's words, not an answer to one: at
start, the themes and key remaps that were refused and each venue reached in clear text;
afterwards, at most :data:`MAX_TOASTS` notifications on screen, the oldest withdrawn
first (errors last), so the newest is always in view and the stack stays clear of the
outcome log.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import App

from console.tui.textual_compat import notifications
from console.tui.themes import theme_notice

MAX_TOASTS = 3
"""Notifications on screen at once (see :meth:`NoticeController.trim`)."""


class NoticeController:
    """``theme_problems``, ``key_problems`` and ``startup_warnings`` are said once, at
    start (:meth:`say_at_start`); :meth:`trim` runs after every notification."""

    def __init__(
        self,
        app: App[None],
        *,
        theme_problems: Sequence[str],
        key_problems: Sequence[str],
        startup_warnings: Sequence[str],
    ) -> None:
        self.app = app
        self.theme_problems = tuple(theme_problems)
        self.key_problems = tuple(key_problems)
        self.startup_warnings = tuple(startup_warnings)

    def say_at_start(self) -> None:
        notice = theme_notice(self.theme_problems)
        if notice:
            self.app.notify(notice, title="Themes", severity="warning", timeout=15)
        if self.key_problems:
            self.app.notify(
                "; ".join(self.key_problems),
                title="Key remaps refused",
                severity="warning",
                timeout=15,
            )
        for warning in self.startup_warnings:
            self.app.notify(warning, title="Plain HTTP", severity="warning", timeout=30)

    def trim(self) -> None:
        """At most :data:`MAX_TOASTS` on screen: the oldest go first (errors last)."""
        on_screen = notifications.shown(self.app)
        excess = len(on_screen) - MAX_TOASTS
        if excess <= 0:
            return
        order = sorted(on_screen, key=lambda n: (n.severity == "error", n.raised_at))
        notifications.withdraw(self.app, order[:excess])
