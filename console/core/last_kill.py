"""The last emergency stop of this profile, as the journal tells it.

A console that did not send the kill — a second operator attached to a desk after
another's kill — answered ``w`` with "No emergency stop yet this session" while the desk's
journal held a kill a minute old: at 3 a.m., the one thing the operator who joins wants
to know first. The journal names each kill a desk ran (a ``note`` row, action
:data:`KILL_NOTE`, written by the hub as the kill starts: a restarted hub reads its
re-arm duties there), and the kill's own rows say what came of it. This reads them
back: when, by whom, how many targets, what the venues answered and what the re-reads
showed — the journal's facts, no more (the report with its notes lives in the console
that ran it; ``u`` opens every row).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from console.core.journal_reads import JournalReads
from console.core.journal_rows import iso_ms

KILL_NOTE = "kill"
"""The ``action`` of the note row naming a batch an emergency stop (the desk's hub)."""

_HALTED = frozenset({"stopped", "paused"})
_NOT_RE_READ = "not re-read"  # (a verification row of a venue that cannot report a state)
_NOTES_LOOKED_AT = 500  # the last notes: a kill's is among them unless guards wrote more


@dataclass(frozen=True, slots=True)
class KillRecord:
    """One kill's journal rows, counted."""

    batch_id: str
    ts_ms: int
    operator: str
    targets: int
    answers: dict[str, int]  # outcome kind → count ("applied", "failed", …)
    verified_halted: int
    halted_unread: int  # halted by the venue's answer only (it cannot report a state)

    def words(self) -> str:
        """``17:44:47Z by root: 65 targets · answered: 65 applied · re-read: 61 halted,
        4 halted by the venue's answer only (not re-read) · batch 61822847``."""
        answered = sum(self.answers.values())
        said = ", ".join(f"{n} {kind}" for kind, n in sorted(self.answers.items())) or "none"
        parts = [f"{self.targets} targets", f"answered: {said}"]
        if answered < self.targets:
            parts.append(f"{self.targets - answered} without an answer in the journal")
        reread = f"re-read: {self.verified_halted} halted"
        if self.halted_unread:
            reread += f", {self.halted_unread} halted by the venue's answer only (not re-read)"
        left = self.targets - self.verified_halted - self.halted_unread
        if left > 0:
            reread += f", {left} NOT verified halted"
        parts += [reread, f"batch {self.batch_id[:8]}"]
        return f"{iso_ms(self.ts_ms)[11:19]}Z by {self.operator}: " + " · ".join(parts)


def last_kill(journal: JournalReads) -> KillRecord | None:
    """The last batch the journal names a kill, counted; None when it names none."""
    notes = [e for e in journal.entries(kind="note", limit=_NOTES_LOOKED_AT)
             if e.action == KILL_NOTE and e.batch_id]  # fmt: skip
    if not notes:
        return None
    batch = notes[-1].batch_id
    assert batch is not None
    rows = journal.entries(batch_id=batch)
    intents = [e for e in rows if e.kind == "intent"]
    answers = Counter(e.outcome for e in rows if e.kind == "outcome" and e.outcome)
    verified = Counter(
        "unread" if (e.message or "").startswith(_NOT_RE_READ) else "read"
        for e in rows
        if e.kind == "verify" and e.state in _HALTED
    )
    first = intents[0] if intents else notes[-1]
    return KillRecord(batch, first.ts_ms, first.operator, len(intents), dict(answers),
                      verified["read"], verified["unread"])  # fmt: skip
