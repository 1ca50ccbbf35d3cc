"""The frozen kill plan in words: counts per venue and kind, data age, what stays behind.

Pure functions returning Rich ``Text`` (no markup: venue words may hold ``[``), so the
modal, the report and the tests read the same sentences; venue words (why a venue is
unreachable, what a target leaves behind) are made printable. Danger is in words and
reverse video; colour comes from the theme through :class:`~console.tui.format.Tones`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from rich.table import Table
from rich.text import Text

from console.core.kill import KEPT, KillPlan
from console.tui.format import Tones, fmt_age, one_line
from console.tui.kill.eta import ControlRate, documented_s, fmt_eta
from console.tui.planning import noun


def clear_words(clearing: Sequence[str], *, clear: bool) -> str:
    """``PipAI positions will be closed at market`` or ``PipAI positions stay open``: the
    venues (by name) whose halt can close positions, i.e. whose client declares an option
    that leaves nothing behind (``Capabilities.clears_leaves_behind``)."""
    who = ", ".join(clearing) or "Open"
    return (
        f"{who} positions will be closed at market as each is paused"
        if clear
        else f"{who} positions stay open"
    )


def kinds_lines(kp: KillPlan) -> dict[str, str]:
    """Each venue's ``31 algorithms → STOP`` or ``3 engines → STOP, 1 expiration →
    PAUSE``, in one pass over the plan (asked venue by venue, it read a 35,000-item
    plan five times)."""
    counts: dict[str, dict[tuple[str, str], int]] = {}
    for item in kp.plan.items:
        mine = counts.setdefault(item.venue, {})
        key = (item.kind.value, item.action.kind.value.upper())
        mine[key] = mine.get(key, 0) + 1
    return {
        venue: ", ".join(f"{n} {noun(kind, n)} → {verb}" for (kind, verb), n in mine.items())
        for venue, mine in counts.items()
    }


def duration_at_limit(count: int, rate: ControlRate | None) -> str:
    if rate is None:
        return "unpaced"
    seconds = documented_s(count, rate)
    limit = f"{rate.per_minute:,.0f}/min"
    return f"at once ({limit})" if seconds <= 0 else f"{fmt_eta(seconds)} ({limit})"


def counts_table(
    kp: KillPlan,
    venues: list[str],
    names: Mapping[str, str],
    rates: Mapping[str, ControlRate | None],
    tones: Tones,
) -> Table:
    """One row per venue in scope: targets, what they get, time at the limit, data."""
    table = Table(box=None, padding=(0, 1), pad_edge=False, expand=True, show_edge=False)
    table.add_column("Venue", no_wrap=True)
    table.add_column("Targets", justify="right", no_wrap=True)
    table.add_column("Action")
    table.add_column("At the limit", no_wrap=True)
    table.add_column("Data")
    counts = kp.counts_by_venue()
    kinds = kinds_lines(kp)
    for venue in venues:
        if venue in kp.unreachable:
            unplanned = kp.unplanned.get(venue)
            why = one_line(unplanned or kp.unreachable[venue], 60)
            table.add_row(
                Text(names.get(venue, venue)),
                "?",
                Text(" NOT PLANNED " if unplanned else " UNREACHABLE ", tones.danger),
                "",
                Text(f"nothing can be planned: {why}"),
            )
            continue
        count = counts.get(venue, 0)
        action = kinds.get(venue) or Text("nothing to halt", "dim")
        table.add_row(
            Text(names.get(venue, venue)),
            str(count),
            action,
            duration_at_limit(count, rates.get(venue)) if count else "",
            data_cell(kp, venue, tones),
        )
    return table


def data_cell(kp: KillPlan, venue: str, tones: Tones) -> Text:
    """``fresh``, `` STALE 42 s ``, or `` DOWN · 8 s `` for a venue whose feed is down
    (with `` · STALE`` once its data is old): a down feed never reads fresh, whatever
    the age of its last data (the header says DOWN within seconds, staleness takes 30)."""
    stale = kp.stale.get(venue)
    down = kp.down.get(venue)
    if down is not None:
        words = (
            f" DOWN · STALE {age_words(stale)} "
            if stale is not None
            else f" DOWN · {age_words(down)} "
        )
        return Text(words, tones.danger)
    if stale is not None:
        return Text(f" STALE {age_words(stale)} ", tones.warn)
    return Text("fresh")


def age_words(age: float) -> str:
    """``42 s``; ``never`` for a venue that never answered (its age is infinite)."""
    return "never" if math.isinf(age) else fmt_age(age)


def stale_venues(kp: KillPlan) -> dict[str, float]:
    """Venues planned from old data (unreachable ones are named as such instead)."""
    return {v: a for v, a in kp.stale.items() if v not in kp.unreachable}


def down_venues(kp: KillPlan) -> dict[str, float]:
    """Venues whose feed is down but whose data is not stale yet (stale ones are named
    as old data, unreachable ones as such)."""
    return {v: a for v, a in kp.down.items() if v not in kp.unreachable and v not in kp.stale}


def stale_note(kp: KillPlan) -> Text:
    """Why stale venues (and venues whose feed is down) are still in the plan, and what
    that means."""
    stale = stale_venues(kp)
    down = down_venues(kp)
    text = Text()
    if stale:
        names = ", ".join(f"{v} ({age_words(a)} old)" for v, a in stale.items())
        text.append("Planned from old data: ", "bold")
        text.append(
            f"{names}. Targets started since then are not in this plan; the report "
            "re-reads every target it sends to."
        )
    if down:
        names = ", ".join(f"{v} (data {age_words(a)} old)" for v, a in down.items())
        text.append("\n" if text.plain else "")
        text.append("Feed DOWN: ", "bold")
        text.append(
            f"{names}. Planned from what it last showed; its calls may not get through "
            "— the report says what answered and re-reads every target it sends to."
        )
    return text


def leaves_text(kp: KillPlan, *, clear: bool, clearing: Sequence[str]) -> Text:
    """What the kill leaves behind, one line per venue (variants are counted, not listed);
    ``clear``: the option that leaves nothing behind is chosen on ``clearing``'s venues."""
    per_venue: dict[str, list[str]] = {}
    kept: list[str] = []  # what halted targets keep: each shown, never "similar"
    for line in kp.plan.leaves_behind:
        venue, _, what = line.partition(": ")
        if KEPT in what:
            kept.append(line)
            continue
        per_venue.setdefault(venue, []).append(what)
    text = Text()
    if offers_clear(kp) or clear:
        text.append("Positions: ", "bold")
        text.append(clear_words(clearing, clear=clear), "reverse bold")
    for venue, lines in per_venue.items():
        text.append("\n" if text.plain else "")
        text.append("Leaves behind", "bold")
        text.append(f" — {venue}: {one_line(lines[0], 300)}")
        if len(lines) > 1:
            more = len(lines) - 1
            notes = "a similar note" if more == 1 else f"{more} similar notes"
            text.append(f" (and {notes} for other targets)", "dim")
    for line in kept:
        text.append("\n" if text.plain else "")
        text.append("Left as is", "bold")
        text.append(f" — {one_line(line, 300)}")
    return text


def offers_clear(kp: KillPlan) -> bool:
    """Does any planned action take its venue's option that leaves nothing behind?"""
    return bool(kp.clears)


def plan_total(kp: KillPlan) -> str:
    total = len(kp.plan)
    return f"{total} {'target' if total == 1 else 'targets'}"
