"""Textual's inner and outer background styles, cached without keeping dead widgets alive.

Why private: ``StylesCache`` (each widget's cache of its rendered lines) lives in the
private ``textual._styles_cache``. Its ``get_inner_outer`` is an *instance* method under
``functools.lru_cache(1024)``, so every key holds ``self``: the whole cache of a widget
long gone — its lines, their segments and seven small caches each — stays reachable
until 1,024 newer keys push it out. The console makes and drops widgets all day (a toast
per notification, the footer's keys, every confirmation's buttons and rows), and a test
worker ended a run holding ~14,000 such lines of dead widgets after 40 tests (found by a
full collection that took 2.5 s at the end of a run). The two styles depend on the two
colours only; here they are cached on those, and a widget's cache is freed with it.
Upstream issue (open): https://github.com/Textualize/textual/issues/6665 — source:
https://github.com/Textualize/textual/blob/main/src/textual/_styles_cache.py

Installed once, with :mod:`console.tui.textual_compat.strips`, when the console starts
(``tests/tui/test_heap.py`` fails if a Textual release changes the method).
"""

from __future__ import annotations

from functools import lru_cache

from textual._styles_cache import StylesCache
from textual.color import Color
from textual.style import Style

_upstream = StylesCache.get_inner_outer


@lru_cache(1024)
def _inner_outer(base_background: Color, background: Color) -> tuple[Style, Style]:
    """What Textual's ``get_inner_outer`` returns, keyed on the colours alone."""
    return (
        Style(background=base_background + background),
        Style(background=base_background),
    )


def _get_inner_outer(
    self: StylesCache, base_background: Color, background: Color
) -> tuple[Style, Style]:
    return _inner_outer(base_background, background)


def install() -> None:
    """Replace ``StylesCache.get_inner_outer`` for the whole process (once)."""
    method: object = StylesCache.get_inner_outer
    if method is not _get_inner_outer:
        StylesCache.get_inner_outer = _get_inner_outer  # type: ignore[method-assign,assignment]


def upstream_result(base_background: Color, background: Color) -> tuple[Style, Style]:
    """Textual's own answer for two colours (a test compares the two)."""
    inner, outer = _upstream.__wrapped__(None, base_background, background)
    return inner, outer
