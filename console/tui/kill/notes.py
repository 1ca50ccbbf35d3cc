"""The lines under the kill's counters: what the numbers alone do not say.

Venues nothing could be sent to, a kill waiting for another plan to finish, an internal
error, the sticky watch (how long it still runs, whether it re-stops) and every revival
it caught. Each line says what happened, to what, and what the operator can do next.
"""

from __future__ import annotations

from collections import Counter

from rich.text import Text

from console.core.plan import Plan
from console.core.scrub import printable
from console.tui.format import Tones, fmt_clock, fmt_duration, one_line, state_word
from console.tui.kill.run import KillRun


def notes_text(run: KillRun, tones: Tones, *, watch_left: float | None, auto_restop: bool) -> Text:
    text = Text()

    def line(badge: str, rest: str) -> None:
        text.append("\n" if text.plain else "")
        text.append(f" {badge} ", tones.danger)
        text.append(f" {rest}")

    for venue, why in run.kill.unreachable.items():
        if venue in run.kill.unplanned:
            continue  # read, but not planned: named with its own badge below
        line(
            "UNREACHABLE",
            f"{venue}: it never answered this session ({one_line(why, 100)}); "
            "nothing was sent there — halt it from the venue's own console, or K plans "
            "a new kill once it answers.",
        )
    for badge, rest in run.kill.problems():
        if badge not in ("UNREACHABLE", "UNREADABLE"):  # the venues just named
            line(badge, one_line(rest, 300))
    for venue, targets in run.appeared().items():
        shown = ", ".join(printable(t.name or t.id) for t in targets[:3])
        more = f" and {len(targets) - 3} more" if len(targets) > 3 else ""
        line(
            "APPEARED",
            f"{venue}: {len(targets)} target(s) not in the plan read since it was frozen, "
            f"not halted ({one_line(shown + more, 120)}); this kill sent them nothing — "
            "K plans a new kill that includes them.",
        )
    for venue, why in run.unread().items():
        line(
            "NOT RE-READ",
            f"{venue}: its list could not be read whole after the kill "
            f"({one_line(why, 100)}); a target that started there since the plan is not "
            "known — check it in the venue itself, or K plans a new kill (it reads again).",
        )
    by_answer = Counter(r.item.venue for r in run.results.values() if r.by_answer)
    for venue, count in by_answer.items():
        line(
            "BY ANSWER ONLY",
            f"{venue}: {count} target(s) halted by the venue's answer only — it cannot "
            "report their state, so nothing re-read them (and the sticky watch cannot "
            "see them); check them on the venue's side.",
        )
    if run.waiting_for:
        line(
            "WAITING",
            f"{run.waiting_for!r} is still running; the kill is sent the moment it "
            "ends (one plan at a time, so nothing is sent twice).",
        )
    if run.error:
        line("ERROR", f"{run.error}. Check the journal (u) for what was sent.")
    if run.journal_failed:
        line("JOURNAL FAILED", f"{run.journal_failed}. The kill went on regardless.")
    elif run.chain_head and not run.running:
        text.append("\n" if text.plain else "")
        text.append(
            f"Journal receipt: chain head {run.chain_head[:16]}… (audit --verify checks it)"
        )
    for revival in run.revivals:
        target = revival.target
        restop = run.restopped.get(target.key)
        after = ""
        if restop is not None:
            after = " — re-stopped, verified" if restop.verified else " — re-stop NOT verified"
        if target.key in run.revived_open and not after:
            after = " — r offers to stop it again"
        line(
            "REVIVED",
            f"{target.venue}/{printable(target.name)} read {state_word(target.state)} again at "
            f"{fmt_clock(revival.seen_at)}{after}",
        )
    for found in run.rechecks:
        if found.problem and not found.results:
            line(
                "RE-READ FAILED",
                f"{found.venue} came back at {fmt_clock(found.at)} but could not be re-read "
                f"({one_line(found.problem, 100)}); r retries what is not verified.",
            )
            continue
        left = len(found.results) - found.verified
        text.append("\n" if text.plain else "")
        text.append(
            f"Re-verified: {found.venue} came back at {fmt_clock(found.at)}; re-read "
            f"{len(found.results)}, {found.verified} now verified halted"
            + (f", {left} still NOT verified" if left else "")
            + " (journaled; nothing was re-sent)."
        )
    if len(run.reports) > 1:
        text.append("\n" if text.plain else "")
        text.append(
            f"Journal: kill batch {run.reports[0].batch_id[:8]}, its {len(run.reports) - 1} "
            "retry pass(es) journaled in the same batch (u shows them together)."
        )
    if watch_left is not None and not run.running:
        text.append("\n" if text.plain else "")
        policy = "re-stops them" if auto_restop else "does not re-stop them (auto_restop off)"
        text.append(
            f"Sticky watch: {fmt_duration(watch_left)} left — anything halted that "
            f"comes back to RUNNING is flagged here with the bell; it {policy}."
        )
    return text


def retry_question(plan: Plan, tones: Tones, revived: int = 0) -> Text:
    """``RETRY? 3 targets (x3algo 3) ... y sends, n cancels``; ``revived`` of them
    revived since the kill (they get the kill's action again)."""
    venues = Counter(item.venue for item in plan.items)
    where = ", ".join(f"{v} {n}" for v, n in venues.items())
    text = Text(" RETRY? ", tones.danger)
    noun = "target" if len(plan) == 1 else "targets"
    rest = len(plan) - revived
    if revived and rest:
        why = (
            f"{revived} REVIVED since the kill, {rest} that failed, are uncertain or did not verify"
        )
    elif revived:
        why = "REVIVED since the kill: the kill's action again"
    else:
        why = "that failed, are uncertain or did not verify"
    text.append(
        f" {len(plan)} {noun} ({where}) {why}. "
        "You confirmed this kill already, so one key sends it: ",
        "bold",
    )
    text.append(" y ", "reverse bold")
    text.append(" sends (journaled), n or Esc cancels.")
    return text
