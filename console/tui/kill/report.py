"""The final report of a kill, one row per target, failures first.

Each row says what was asked, what the venue answered (in the shared vocabulary, the
vendor's words beside it) and what the re-read found. Words carry the danger (FAILED,
UNCERTAIN, NOT VERIFIED, REVIVED) in reverse video; colour is a third signal only.
The venue's words (target names and ids, messages) are printable ``Text`` cells: a
``str`` cell is parsed as markup by the DataTable, and ``[/]`` in a name would raise.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text

from console.core.model import OutcomeKind
from console.core.plan import ItemResult, PlanItem
from console.core.scrub import printable
from console.tui.format import Tones, fmt_clock, one_line, state_word
from console.tui.kill.columns import Col
from console.tui.kill.run import KillRun

SPECS = (
    Col("Venue", priority=1, min_width=6, max_width=16),
    Col("Target", min_width=12, max_width=48),
    Col("Action", min_width=5),
    Col("Outcome", min_width=11),
    Col("Verified", min_width=16),
    Col("Watch", priority=3, min_width=10, max_width=32),
    Col("Vendor message", priority=2, min_width=12),
)
"""Target, action, outcome and verified always show (at 80 columns too); the venue, the
vendor's words and the watch mark give way first, in that order of need."""
COLUMNS = tuple(c.label for c in SPECS)


def rank(result: ItemResult | None, revived: bool, still_revived: bool = False) -> int:
    """Sort order: what needs the operator first (revived and not halted again included),
    then what revived once, then refusals, then what worked."""
    if result is None or result.needs_retry or still_revived:
        return 0
    if revived:
        return 1
    if result.outcome.kind is OutcomeKind.REJECTED:
        return 2
    return 3


def action_words(item: PlanItem, clears: str | None = None) -> str:
    """``pause``, or ``pause +close`` when ``clears`` (the venue's option that leaves
    nothing behind) was chosen."""
    words = item.action.kind.value
    if clears and item.action.option(clears) is True:
        words += " +close"
    return words


def outcome_cell(result: ItemResult | None, tones: Tones) -> Text:
    if result is None:
        return Text(" NO ANSWER ", tones.danger)
    kind = result.outcome.kind
    word = kind.value.upper()
    return Text(word, tones.ok) if kind.ok else Text(f" {word} ", tones.danger)


def verified_cell(result: ItemResult | None, tones: Tones, *, revived: bool = False) -> Text:
    """What the re-read found; a target that read RUNNING again since is REVIVED, whatever
    the kill's own re-read said then."""
    if revived:
        return Text(" REVIVED: RUNNING ", tones.danger, overflow="ellipsis")
    if result is None or result.verified is None:
        return Text("not re-read yet", "dim", overflow="ellipsis")
    seen = state_word(result.verified_state) if result.verified_state else "UNKNOWN"
    if result.verified:
        return Text(f"VERIFIED {seen}", tones.ok, overflow="ellipsis")
    if result.by_answer:  # its venue cannot report the state: nothing re-read it
        return Text(f"{seen} by answer only", overflow="ellipsis")
    return Text(f" NOT VERIFIED ({seen}) ", tones.danger, overflow="ellipsis")


def watch_cell(run: KillRun, key: tuple[str, str], tones: Tones) -> Text:
    revival = run.revived(key)
    if revival is None:
        return Text("")
    text = Text(f" REVIVED {fmt_clock(revival.seen_at)} ", tones.danger)
    restop = run.restopped.get(key)
    if restop is not None:
        text.append(" re-stopped" if restop.verified else " re-stop NOT verified")
    return text


def words_cell(words: str) -> Text:
    """Venue words as a table cell: printable, never markup, cut to one line as a
    ``str`` cell of a one-line row is."""
    return Text(printable(words), no_wrap=True, end="", overflow="ellipsis")


def report_rows(
    run: KillRun, names: Mapping[str, str], tones: Tones
) -> list[tuple[str, tuple[Text | str, ...]]]:
    """(row key, cells) for every planned target, failures first, plan order within."""
    rows = []
    for index, item in enumerate(run.kill.plan.items):
        key = (item.venue, item.target_id)
        result = run.results.get(key)
        revived = run.revived(key) is not None
        still_revived = key in run.revived_open
        message = one_line(result.outcome.message, 300) if result else ""
        if result and result.outcome.warning:
            message += f" — warning: {one_line(result.outcome.warning, 120)}"
        cells: tuple[Text | str, ...] = (
            words_cell(names.get(item.venue, item.venue)),
            words_cell(f"{item.target_name} · {item.target_id}"),
            action_words(item, run.kill.clears.get(item.venue)),
            outcome_cell(result, tones),
            verified_cell(result, tones, revived=still_revived),
            watch_cell(run, key, tones),
            words_cell(message),
        )
        order = (rank(result, revived, still_revived), index)
        rows.append((order, f"{item.venue}/{item.target_id}", cells))
    rows.sort(key=lambda row: row[0])
    return [(key, cells) for _, key, cells in rows]
