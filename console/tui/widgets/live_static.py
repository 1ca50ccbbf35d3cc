"""A Static that repaints only when its text really changed, and re-lays out the screen
only when its size may have changed.

The tick sets the header, freshness and detail lines four times a second. An unchanged
``Static.update`` still costs a layout pass, so this compares first. A changed one costs
a layout pass of the whole screen too (Static's default, to be safe): the clock ticking
each second re-arranged every widget. Here a new text whose lines are as wide as the old
ones, in a widget whose size cannot follow them otherwise, is only repainted.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.widgets import Static


def line_widths(text: Text | str) -> tuple[int, ...]:
    """The cell width of each line of ``text``: what an auto-sized Static sizes by."""
    plain = text.plain if isinstance(text, Text) else text
    return tuple(cell_len(line) for line in plain.split("\n"))


class LiveStatic(Static):
    def __init__(
        self, text: Text | str = "", *, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(text, id=id, classes=classes)
        self._shown: object = None
        self._widths = line_widths(text)

    def show(self, text: Text | str) -> None:
        key: object = (text.plain, text.spans, str(text.style)) if isinstance(text, Text) else text
        if key != self._shown:
            self._shown = key
            widths = line_widths(text)
            layout = self.may_resize(self._widths, widths)
            self._widths = widths
            self.update(text, layout=layout)

    def may_resize(self, before: tuple[int, ...], after: tuple[int, ...]) -> bool:
        """Whether a text of line widths ``after`` (replacing ``before``) may change this
        widget's size: only an auto width or height follows the text, and an auto height
        follows the wrapping too, which the widths alone cannot tell once a line is wider
        than the widget. A fraction counts as auto: Textual sizes it by the content where
        the container is auto-sized. No size at all fills the container."""
        styles = self.styles
        width, height = styles.width, styles.height
        auto_width = width is not None and (width.is_auto or width.is_fraction)
        auto_height = height is not None and (height.is_auto or height.is_fraction)
        if not (auto_width or auto_height):
            return False  # fixed both ways (cells, %, or the container's): nothing moves
        if before != after:
            return True
        room = self.content_region.width
        return auto_height and (room <= 0 or max(after) > room)
