"""The global-block banner: a venue-wide halt (55-tech emergency, system stop, soft pause).

A global block overrides every client's own state, so it is shown above all panels, in
reverse video and in words, whichever panel is open.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rich.text import Text

from console.core.model import Target, TargetKind
from console.tui.format import Tones, fmt_age, fmt_duration, one_line
from console.tui.widgets.live_static import LiveStatic

BLOCKS = (
    ("emergency", "EMERGENCY"),
    ("system_stopped", "SYSTEM STOPPED"),
    ("soft_paused", "SOFT PAUSED"),
)


@dataclass(frozen=True)
class GlobalBlock:
    venue: str
    words: str
    reason: str | None
    duration_s: float | None


def _own_time(target: Target) -> float:
    return target.confirmed_at


def find_block(
    targets: Iterable[Target], now: float, confirmed_at: Callable[[Target], float] = _own_time
) -> GlobalBlock | None:
    """The block reported by the most recently confirmed engine target, if any.

    ``confirmed_at``: when the venue last vouched for a target (the store's
    :meth:`~console.core.store.Store.confirmed_at`; a target's own time by default)."""
    latest: Target | None = None
    latest_at = 0.0
    for target in targets:
        if target.kind is TargetKind.ENGINE:
            at = confirmed_at(target)
            if latest is None or at > latest_at:
                latest, latest_at = target, at
    if latest is None:
        return None
    attrs = latest.attrs
    words = [label for name, label in BLOCKS if attrs.get(name)]
    if not words:
        return None
    duration = attrs.get("system_duration_s")
    since = None
    if isinstance(duration, int | float) and not isinstance(duration, bool):
        since = float(duration) + max(0.0, now - latest_at)
    reason = attrs.get("system_reason")
    return GlobalBlock(latest.venue, " + ".join(words), str(reason) if reason else None, since)


class GlobalBanner(LiveStatic):
    """Hidden unless a global block is active."""

    def __init__(self) -> None:
        super().__init__(id="global-banner")
        self.display = False

    def show_block(self, block: GlobalBlock | None, *, stale_age: float | None = None) -> None:
        if block is None:
            self.display = False
            return
        tones = Tones.from_theme(self.app.theme_variables)
        text = Text(f" GLOBAL BLOCK on {block.venue}: {block.words} ", tones.danger)
        if block.reason:
            text.append(f" reason: {one_line(block.reason, 120)}")
        if block.duration_s is not None:
            text.append(f" · for {fmt_duration(block.duration_s)}")
        text.append(" · client trading is blocked venue-wide until the venue lifts it")
        if stale_age is not None:
            text.append(f" (as of {fmt_age(stale_age)} ago)", "bold")
        self.show(text)
        self.display = True
