"""How many times the app's stylesheet was refreshed.

Why private: a screen that comes back (a modal closed) is restyled in full by Textual
even when no CSS changed; skipping that needs Textual's own count of stylesheet
refreshes (``App._css_update_count``), which has no public accessor.
Upstream: https://github.com/Textualize/textual/blob/main/src/textual/app.py
"""

from __future__ import annotations

from typing import Any

from textual.app import App


def stylesheet_generation(app: App[Any]) -> int:
    """Textual's count of stylesheet refreshes (a theme change bumps it)."""
    count: int = app._css_update_count
    return count
