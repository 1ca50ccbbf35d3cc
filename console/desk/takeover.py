"""A hub taking over a desk: its journal continues the desk's chain, and the calls the
previous hub left without an outcome are verified by re-reading, never sent again.

**The journal.** The desk's record is the journal stream ``DESK_P_JOURNAL``: every hub
mirrors its local SQLite journal there, row by row with its hash. A standby has no rows
of the hub it replaces, so before it journals anything :func:`sync_journal` copies the
stream's rows beyond its local journal's end into that journal unchanged (same ``seq``,
same hash): the local file is again a copy of the stream, and the next row chains onto
the stream's head, as if one hub had written them all. A local journal that is *ahead*
of the stream (this hub's own rows, not yet mirrored when it stopped) is left as it is:
the hub mirrors them as it starts. A local journal whose row differs from the stream's
row of the same ``seq`` has **diverged** (this hub journaled rows that never reached the
stream, and another hub has journaled since): :class:`JournalDiverged`, and the hub does
not serve: its file is kept as it is for the audit, and the operator moves it aside.

**Interrupted calls.** A hub mirrors each of a plan's intents to the stream before its
call (``Dispatcher.before_calls``, :mod:`console.desk.intent_gate`), so every call the
previous hub may have sent is in the stream; one with no outcome there was cut short.
:func:`verify_interrupted` re-reads each such target and journals what it found (the
local console's "interrupted calls verified on restart"); a target not as asked is
reported, never called again. A plan a hub could not (or may no longer) send is reported
here too: not sent, or cut short.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3

from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError

from console.core import journal_chain as chain
from console.core.journal import Journal
from console.core.journal_rows import Entry, now_ms
from console.core.model import Outcome, OutcomeKind, State
from console.core.plan import ItemResult, Plan, PlanItem, Report, desired
from console.core.recovery import Verified
from console.core.session import Session
from console.core.store import Store
from console.desk import messages, subjects

log = logging.getLogger(__name__)

READ_S = 30.0
"""The longest the copy of the stream's rows may take."""
_COLUMNS = (*chain.FIELDS, "hash")


class JournalDiverged(Exception):
    """The local journal and the desk's journal stream disagree on a row."""


async def last_row(js: JetStreamContext, profile: str) -> tuple[messages.JournalRowMsg, int] | None:
    """The journal stream's last row and its stream sequence (None: the stream is empty)."""
    try:
        msg = await js.get_last_msg(
            subjects.journal_stream(profile), subjects.journal_subject(profile)
        )
    except NotFoundError:
        return None
    row: messages.JournalRowMsg = messages.JournalRowMsg.decode(msg.data or b"")
    return row, msg.seq or 0


async def _rows_from(
    js: JetStreamContext, profile: str, first: int, last: int
) -> list[messages.JournalRowMsg]:
    """The stream's rows of journal seq ``first``..``last`` (the stream numbers its
    messages as the journal does when one hub mirrored from the start; else it is read
    from its start)."""
    rows: list[messages.JournalRowMsg] = []
    for policy in (DeliverPolicy.BY_START_SEQUENCE, DeliverPolicy.ALL):
        rows.clear()
        config = ConsumerConfig(deliver_policy=policy)
        if policy is DeliverPolicy.BY_START_SEQUENCE:
            config.opt_start_seq = first
        sub = await js.subscribe(
            subjects.journal_subject(profile), ordered_consumer=True, config=config
        )
        try:
            async with asyncio.timeout(READ_S):
                while True:
                    msg = await sub.next_msg(timeout=READ_S)
                    row: messages.JournalRowMsg = messages.JournalRowMsg.decode(msg.data)
                    if row.seq > first and not rows and policy is DeliverPolicy.BY_START_SEQUENCE:
                        break  # numbered otherwise: read it from its start
                    if row.seq >= first:
                        rows.append(row)
                    if row.seq >= last:
                        return rows
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
    return rows


def local_row(journal: Journal, seq: int | None) -> Entry | None:
    """The local row ``seq`` (None: the last), read from the file itself."""
    journal.flush()
    where, args = ("WHERE seq = ?", (seq,)) if seq is not None else ("ORDER BY seq DESC", ())
    with contextlib.closing(sqlite3.connect(journal.path)) as db:
        row = db.execute(f"SELECT {', '.join(_COLUMNS)} FROM entries {where} LIMIT 1",
                         args).fetchone()  # fmt: skip
    return Entry(*row) if row else None


async def sync_journal(js: JetStreamContext, journal: Journal, profile: str) -> int:
    """Copy into ``journal`` the stream's rows after its last one; the number copied.
    :class:`JournalDiverged` when the two disagree on a row both have."""
    last_local = local_row(journal, None)
    local = last_local.seq if last_local else 0
    last = await last_row(js, profile)
    head = last[0] if last else None
    if head is None:
        return 0  # an empty stream: whatever this hub has is mirrored as it starts
    both = min(local, head.seq)
    if both:
        mine = local_row(journal, both)
        theirs = [head] if head.seq == both else await _rows_from(js, profile, both, both)
        if mine is None or not theirs or mine.hash != theirs[0].hash:
            raise JournalDiverged(
                f"the local journal {journal.path} and the desk's journal stream differ at "
                f"row {both}: this hub journaled rows that never reached the stream, and "
                "another hub has journaled since. Nothing was started; the file is kept as "
                "it is for the audit: move it aside and start the hub again"
            )
    if head.seq <= local:
        return 0
    rows = await _rows_from(js, profile, local + 1, head.seq)
    expected = local + 1
    with contextlib.closing(sqlite3.connect(journal.path, isolation_level=None)) as db:
        db.execute("BEGIN IMMEDIATE")
        try:
            for row in rows:
                if row.seq != expected:
                    raise JournalDiverged(
                        f"the desk's journal stream skips from row {expected - 1} to "
                        f"{row.seq}; nothing was copied and nothing was started"
                    )
                db.execute(chain.INSERT, tuple(getattr(row, name) for name in _COLUMNS))
                expected += 1
            db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            raise
    log.info("journal: %d row(s) of the desk's journal stream copied (now at row %d)",
             len(rows), expected - 1)  # fmt: skip
    return len(rows)


async def verify_interrupted(session: Session) -> list[Verified]:
    """Re-read the target of every intent without an outcome and journal what it is."""
    entries = session.journal.interrupted()
    if not entries:
        return []
    return await session.control.verify_interrupted(entries)


def summary(verified: list[Verified]) -> str:
    """ "3 interrupted call(s) verified: 2 as asked, 1 not (retry it), 0 unreadable"."""
    ok = sum(v.journaled and v.as_asked for v in verified)
    unread = sum(not v.journaled for v in verified)
    wrong = len(verified) - ok - unread
    text = f"{len(verified)} interrupted call(s) verified by re-reading: {ok} as asked"
    if wrong:
        text += f", {wrong} not (never sent again: retry them)"
    if unread:
        text += f", {unread} could not be read (still open: verify them again)"
    return text


def close_not_sent(journal: Journal, batch: str, why: str) -> None:
    """Journal an outcome for each open intent of ``batch``: not sent (no call left)."""
    outcome = Outcome(OutcomeKind.FAILED, f"not sent: {why}")
    for entry in journal.interrupted():
        if entry.batch_id == batch:
            journal.record_outcome(journal.intent_of(entry), outcome)


def not_sent_report(plan: Plan, batch: str, why: str) -> Report:
    """The report of a plan none of whose calls was sent."""
    report = Report(plan, batch, now_ms())
    outcome = Outcome(OutcomeKind.FAILED, f"not sent: {why}")
    for item in plan.items:
        report.results[(item.venue, item.target_id)] = ItemResult(item, outcome)
    report.finished_ms = now_ms()
    return report


def cut_short_report(plan: Plan, batch: str, got: dict[tuple[str, str], ItemResult]) -> Report:
    """The report of a plan stopped mid-way: what came back, the rest uncertain."""
    report = Report(plan, batch, now_ms())
    uncertain = Outcome(OutcomeKind.UNCERTAIN, "cut short: this hub stopped dispatching "
                        "(it no longer holds the desk's lease); the hub that serves "
                        "verifies it by re-reading, never by sending it again")  # fmt: skip
    for item in plan.items:
        key = (item.venue, item.target_id)
        report.results[key] = got.get(key) or ItemResult(item, uncertain)
    report.finished_ms = now_ms()
    return report


def interrupted_report(
    journal: Journal, store: Store, running: messages.RunningMsg
) -> Report | None:
    """The report of the plan a dead hub was running (``run`` key), from the journal: each
    intent, its outcome if one came back (else uncertain: cut short), its verification."""
    rows = journal.entries(batch_id=running.batch_id)
    closing: dict[str, dict[str, Entry]] = {}
    for row in rows:
        if row.kind in ("outcome", "verify"):
            closing.setdefault(row.op_id, {})[row.kind] = row
    kinds = {t.venue: t.kind for t in store.all_targets()}
    results: dict[tuple[str, str], ItemResult] = {}
    cut = Outcome(OutcomeKind.UNCERTAIN, "cut short when its hub died: verified by "
                  "re-reading, never sent again")  # fmt: skip
    for entry in (r for r in rows if r.kind == "intent"):
        target = store.get(entry.venue, entry.target_id)
        kind = target.kind if target is not None else kinds.get(entry.venue)
        if kind is None:  # a venue this hub does not serve: its rows say what is known
            continue
        action = journal.intent_of(entry).action
        item = PlanItem(entry.venue, entry.target_id, entry.target_name, kind, action)
        done = closing.get(entry.op_id, {})
        sent = done.get("outcome")
        outcome = (
            Outcome(OutcomeKind(sent.outcome or "failed"), sent.message or "") if sent else cut
        )
        check = done.get("verify")
        state = State(check.state) if check is not None and check.state else None
        verified = desired(action.kind, state) if state is not None else None
        results[(item.venue, item.target_id)] = ItemResult(item, outcome, state, verified)
    if not results:
        return None
    plan = Plan(tuple(r.item for r in results.values()), running.title, running.scope)
    return Report(plan, running.batch_id, running.started_ms, results, now_ms())
