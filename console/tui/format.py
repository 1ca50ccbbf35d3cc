"""Words, times and cells: how values become text on the console.

Everything here returns plain strings or Rich ``Text`` built without markup, because
vendor strings (names, reasons, error messages) may contain ``[`` and must never be
parsed as markup. Nor may they carry terminal escapes or control characters: a
:class:`Cell`, :func:`one_line` and :func:`printable_text` pass venue words through
:func:`~console.core.scrub.printable` (which returns ordinary text as it is, so a
6,000-row first paint pays one ``str.isprintable`` per cell it draws). Danger is carried
by words and reverse video first; colour comes from the theme (:class:`Tones`) and is
only ever a third signal.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from math import isfinite
from typing import Any

from rich.color import Color
from rich.style import Style
from rich.text import Span, Text
from textual.color import Color as ThemeColor
from textual.color import ColorParseError

from console.core.model import AttrValue, State
from console.core.scrub import printable

SortKey = tuple[int, float | str]

STATE_WORDS: Mapping[State, str] = {
    State.RUNNING: "RUNNING",
    State.PAUSED: "PAUSED",
    State.STOPPED: "STOPPED",
    State.ERROR: "ERROR",
    State.UNKNOWN: "UNKNOWN",
}


HUGE = 1e15
"""Past a quadrillion no amount, count or rate a venue reports is real: such a number is
shown compact (``1e+300``, :func:`compact`), so one hostile value cannot make its column
hundreds of cells wide (``1e300`` as money was 404 characters)."""
HUGE_INT = 10**15
"""The same bound for an integer, compared before any conversion: a 400-digit count is
too large for a float (``float()`` raised OverflowError, out of the overview's total and
the table's sort, and the console exited)."""


def compact(number: float) -> str:
    """A huge number in three significant digits."""
    return f"{number:.3g}"


def sort_key(value: object) -> SortKey:
    """A key that orders mixed values safely: numbers, then text, then missing."""
    if value is None or value == "":
        return (2, "")
    if isinstance(value, int | float | Decimal):  # bool is an int
        try:
            return (0, float(value))
        except OverflowError:  # an integer of hundreds of digits: beyond every float
            return (0, math.inf if value > 0 else -math.inf)
    return (1, str(value).lower())


class Cell(Text):
    """A table cell that also knows how it sorts (DataTable sorts on cell values).

    The sort key is computed only when the table is sorted on this cell's column: most
    cells are never sorted on, and a 10,000-row first paint should not pay for them.
    The text is made printable (venue words may carry terminal escapes).
    """

    __slots__ = ("_sort",)

    def __init__(self, text: str, style: Style | str = "", sort: object = None) -> None:
        text = printable(text)
        super().__init__(text, style=style, no_wrap=True, overflow="ellipsis", end="")
        self._sort = text if sort is None else sort

    @property
    def sort_key(self) -> SortKey:
        return sort_key(self._sort)

    @property
    def signature(self) -> tuple[str, Style | str]:
        """What a redraw compares: ``Text.__eq__`` ignores the base style."""
        return (self.plain, self.style)


class LazyCell:
    """A cell rendered only when the table first draws it (or sorts on it).

    A first paint of 10,000 rows shows about fifty; building 90,000 ``Text`` objects up
    front would cost most of the paint. DataTable accepts any Rich renderable and
    resolves ``__rich__`` when it renders a visible cell, so the rest stay unbuilt.
    """

    __slots__ = ("_args", "_cell", "_render")

    def __init__(self, render: Callable[[Any, Any], Cell], *args: Any) -> None:
        self._render = render
        self._args = args
        self._cell: Cell | None = None

    def __rich__(self) -> Cell:
        if self._cell is None:
            self._cell = self._render(*self._args)
        return self._cell

    @property
    def sort_key(self) -> SortKey:
        return self.__rich__().sort_key

    def __str__(self) -> str:
        return self.__rich__().plain


def theme_colour(variables: Mapping[str, str], name: str) -> Color | None:
    """A theme variable as a Rich colour; ``None`` when missing or not a plain colour.

    Parsed with Textual's parser, not Rich's: an ANSI theme's values are ``ansi_red``,
    ``ansi_bright_blue``, ``ansi_default``, which Rich does not read (they came out as
    the terminal's default colour) but Textual turns into the terminal's own colour 1,
    12, default. ``auto 87%`` and other values with an alpha are not plain colours.
    """
    value = variables.get(name)
    if not value:
        return None
    try:
        colour = ThemeColor.parse(value)
    except ColorParseError:
        return None
    return None if colour.a == 0 else colour.rich_color


@dataclass(frozen=True)
class Tones:
    """Rich styles derived from the current theme's variables (never literal colours)."""

    danger: Style
    warn: Style
    ok: Style
    muted: Style
    plain: Style
    gain: Style  # a figure going up: colour only (the glyphs say it too), never reverse
    loss: Style  # a figure going down

    @classmethod
    def from_theme(cls, variables: Mapping[str, str]) -> Tones:
        return cls(
            danger=Style(color=theme_colour(variables, "error"), reverse=True, bold=True),
            warn=Style(color=theme_colour(variables, "warning"), reverse=True, bold=True),
            ok=Style(color=theme_colour(variables, "success")),
            muted=Style(dim=True),
            plain=Style(),
            gain=Style(color=theme_colour(variables, "success")),
            loss=Style(color=theme_colour(variables, "error")),
        )

    @classmethod
    def monochrome(cls) -> Tones:
        return cls.from_theme({})

    def for_state(self, state: State) -> Style:
        """Reverse video for every state that is not plainly running."""
        if state is State.RUNNING:
            return self.ok
        if state in (State.STOPPED, State.ERROR):
            return self.danger
        return self.warn


def state_word(state: State) -> str:
    return STATE_WORDS[state]


def fmt_age(seconds: float | None) -> str:
    """``42 s``, ``12 min``, ``3 h``; ``never`` when nothing ever arrived."""
    if seconds is None:
        return "never"
    s = int(seconds)
    if s < 120:
        return f"{s} s"
    if s < 7200:
        return f"{s // 60} min"
    if s < 172800:
        return f"{s // 3600} h"
    return f"{s // 86400} d"


def fmt_short_age(seconds: float | None) -> str:
    """Header-sized age: ``0s``, ``42s``, ``12m``, ``3h``, ``--``."""
    if seconds is None:
        return "--"
    s = int(seconds)
    if s < 100:
        return f"{s}s"
    if s < 6000:
        return f"{s // 60}m"
    return f"{s // 3600}h"


def fmt_duration(seconds: float | None) -> str:
    """``4m12s``, ``2h13m``, ``3d04h``."""
    if seconds is None:
        return ""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def fmt_countdown(at: float | None, now: float) -> str:
    """``in 2h13m`` before, ``ended 4m12s ago`` after."""
    if at is None:
        return ""
    left = at - now
    if left >= 0:
        return f"in {fmt_duration(left)}"
    return f"{fmt_duration(-left)} ago"


def fmt_clock(ts: float, *, seconds: bool = True) -> str:
    return _strftime("%H:%M:%SZ" if seconds else "%H:%MZ", ts)


def fmt_datetime(ts: float) -> str:
    return _strftime("%m-%d %H:%MZ", ts)


def _strftime(form: str, ts: float) -> str:
    """``ts`` as UTC text, or "no such time" for one the platform cannot hold (a venue's
    expiration of 10^300, NaN): a cell says so, never an exception in a repaint."""
    try:
        return time.strftime(form, time.gmtime(ts))
    except (OverflowError, OSError, ValueError):
        return "no such time"


def parse_iso(value: AttrValue) -> float | None:
    """UNIX seconds from an ISO-8601 string (``Z`` or offset), or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def as_number(value: AttrValue) -> float | None:
    """A float from a number or a decimal string (PipAI sends money as strings); None
    for anything else, and for NaN and the infinities, which a venue's JSON can carry
    (``NaN``, ``"Infinity"``) but which are no amount: shown blank, never summed (one
    NaN made a panel's P&L total "nan")."""
    if value is None or isinstance(value, bool | tuple):
        return None
    try:
        if isinstance(value, int | float):
            number = float(value)
        else:
            try:  # float's own reading first: ~7× cheaper than a Decimal, the same number
                number = float(value)
            except ValueError:  # Decimal also reads some that float does not ("1_", say)
                try:
                    number = float(Decimal(value))
                except (InvalidOperation, ValueError):
                    return None
    except OverflowError:  # an integer of hundreds of digits: no amount either
        return None
    return number if isfinite(number) else None


def fmt_money(value: AttrValue) -> str:
    number = as_number(value)
    if number is None:
        return ""
    return compact(number) if abs(number) >= HUGE else f"{number:,.2f}"


def fmt_pct(value: AttrValue, *, fraction: bool = False) -> str:
    number = as_number(value)
    if number is None:
        return ""
    shown = number * 100 if fraction else number
    return f"{compact(shown)}%" if abs(shown) >= HUGE else f"{shown:.1f}%"


def fmt_list(value: AttrValue, *, empty: str = "") -> str:
    if isinstance(value, tuple):
        return ", ".join(value) if value else empty
    return "" if value is None else str(value)


def fmt_value(value: AttrValue) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, tuple):
        return fmt_list(value)
    if isinstance(value, int) and not -HUGE_INT < value < HUGE_INT:
        return fmt_huge_int(value)
    return str(value)


def fmt_huge_int(value: int) -> str:
    """An integer past :data:`HUGE_INT`, compact (``str()`` of one of 5,000 digits
    raises, and one of 400 would fill a column)."""
    number = as_number(value)
    return compact(number) if number is not None else ("-" if value < 0 else "") + ">1e308"


def one_line(text: str, limit: int = 200) -> str:
    """Vendor words on one line, bounded (an HTML error page must not flood a panel),
    printable (no escape sequence or control character reaches the terminal)."""
    flat = printable(" ".join(text.split()))
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def printable_text(text: Text) -> Text:
    """A styled text with every line made printable, its styles kept on what remains.

    Returns ``text`` itself when there is nothing to remove (the usual case). Line
    breaks are kept; a style span that covered only removed characters goes with them.
    """
    plain = text.plain
    if all(line.isprintable() for line in plain.split("\n")):
        return text
    size = len(plain)
    cuts = {edge for span in text.spans for edge in (span.start, span.end)}
    cuts.update(i for i, char in enumerate(plain) if char == "\n")
    cuts.update(i + 1 for i, char in enumerate(plain) if char == "\n")
    out = text.blank_copy()
    for piece in text.divide(sorted(c for c in cuts if 0 < c < size)):
        words = piece.plain if piece.plain == "\n" else printable(piece.plain)
        if words:
            spans = [Span(0, len(words), span.style) for span in piece.spans]
            out.append_text(Text(words, spans=spans))
    return out


SPARK_BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float], *, floor: float | None = 0.0) -> str:
    """Values as block characters, one a value, scaled from ``floor`` to the largest.

    Shape, not size: the figure beside it gives the size. Event counts keep the default
    floor 0, so an idle second is the lowest bar and an idle stream still shows a line.
    ``floor=None`` scales from the smallest value instead (a P&L trail, which may be
    negative): the lowest value is the lowest bar, the highest the full block, and a
    value above the floor is never drawn as the floor itself.
    """
    if not values:
        return ""
    low = min(values) if floor is None else floor
    span = max(values) - low
    if span <= 0:
        return SPARK_BARS[0] * len(values)
    last = len(SPARK_BARS) - 1
    return "".join(
        SPARK_BARS[0 if v <= low else max(1, round((v - low) * last / span))] for v in values
    )


def fmt_rate(per_second: float) -> str:
    """Events per second, short: ``0/s``, ``0.4/s``, ``12/s``, ``3.2k/s``."""
    if per_second >= 1000:
        return f"{per_second / 1000:.1f}k/s"
    if per_second >= 10 or per_second == int(per_second):
        return f"{per_second:.0f}/s"
    return f"{per_second:.1f}/s"
