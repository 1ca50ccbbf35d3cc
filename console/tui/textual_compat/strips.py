"""Textual's rendered lines without reference cycles.

``Strip.divide`` caches ``[self]`` in the strip's own cache when nothing is cut, and
``Strip.crop_extend`` caches ``self`` when the crop is the whole strip: each such strip
refers to itself, so it outlives its last use until a full garbage collection. The
compositor divides every line it paints, so a busy screen left ~150,000 such objects
(strips, their seven caches, their segments) for each full collection to scan —
hundreds of ms measured, landing on key presses. Returning ``self`` without caching it
gives the same results and lets reference counting free the strip at once.

Why here: it replaces two public methods of Textual's ``Strip`` for the whole process,
relying on how their private caches behave in the pinned release. Upstream:
https://github.com/Textualize/textual/blob/main/src/textual/strip.py

Installed when the app module is imported; ``tests/tui/test_heap.py`` fails if a Textual
release changes the methods so that the patch no longer applies.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from textual.strip import Strip

_divide = Strip.divide
_crop_extend = Strip.crop_extend


def _divide_without_cycle(self: Strip, cuts: Iterable[int]) -> Sequence[Strip]:
    cuts = list(cuts)
    length = self.cell_length
    if [cut for cut in cuts if cut <= length] == [length]:
        return [self]
    return _divide(self, cuts)


def _crop_extend_without_cycle(self: Strip, start: int, end: int, style: object) -> Strip:
    if start <= 0 and end == self.cell_length:
        return self
    return _crop_extend(self, start, end, style)  # type: ignore[arg-type]


def install() -> None:
    if getattr(Strip.divide, "__name__", "") != _divide_without_cycle.__name__:
        Strip.divide = _divide_without_cycle  # type: ignore[method-assign]
        Strip.crop_extend = _crop_extend_without_cycle  # type: ignore[method-assign]
