"""Cell styles that follow a theme switched while the console runs.

Rows, reports and cards are drawn as Rich text styled from the theme's colours
(:class:`~console.tui.format.Tones`), which CSS does not reach. Each screen or widget
took its tones once, when mounted: a theme switched at run time (the command palette)
left the kill's progress and report, the audit, the overview, a target's screen, the
recovery list and the kill's modal in the old theme's colours beside the new one — a
light theme's dark-green APPLIED on a light background. :func:`following_theme` gives
the tones now and calls back with the new theme's on every switch while its node lives
(Textual drops a removed node's subscription)."""

from __future__ import annotations

from collections.abc import Callable

from textual.dom import DOMNode
from textual.theme import Theme

from console.tui.format import Tones


def following_theme(node: DOMNode, retone: Callable[[Tones], None]) -> Tones:
    """The tones of the app's theme now; ``retone`` gets the new ones on each switch."""
    app = node.app

    def switched(_: Theme) -> None:
        retone(Tones.from_theme(app.theme_variables))

    app.theme_changed_signal.subscribe(node, switched)
    return Tones.from_theme(app.theme_variables)
