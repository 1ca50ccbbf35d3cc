"""A Static that repaints only when its text really changed.

The tick sets the header, freshness and detail lines four times a second; an unchanged
``Static.update`` still costs a layout pass, so this compares first.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class LiveStatic(Static):
    def __init__(
        self, text: Text | str = "", *, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(text, id=id, classes=classes)
        self._shown: object = None

    def show(self, text: Text | str) -> None:
        key: object = (text.plain, text.spans, str(text.style)) if isinstance(text, Text) else text
        if key != self._shown:
            self._shown = key
            self.update(text)
