"""The dispatcher: one path from a frozen plan to journaled, verified outcomes.

The same code serves one row, a selection, a whole panel, an emergency stop and the
CLI. For a plan it:

1. refuses to start while another plan runs (a second key press never dispatches twice);
2. journals every intent in one transaction before any request leaves;
3. sends each venue's calls concurrently with the other venues (each venue client paces
   itself under its vendor's limit, so one slow or dead venue delays nobody else),
   in plan order within a venue;
4. journals each outcome as it arrives and reports it to the caller;
5. re-reads each venue once its calls are done and records the verified state (a kill
   of everything also lists each venue of its scope it planned nothing on, once every
   call is answered, for targets that appeared; :attr:`Report.unread` names a venue it
   could not read whole).

Each stage is bounded (docs/EMERGENCY.md, "The deadline model"): a venue's calls must be
answered within ``dispatch_deadline_s`` and its re-read within ``verify_deadline_s``.
Past the first, calls still waiting their turn — in the queue, or inside their venue's
pacer (:mod:`console.core.turns`) — are *failed* (never sent) and calls that left are
*uncertain* (the re-read decides); past the second, the venue's targets are
*not verified*. A plan therefore always ends, in a report that says what is known.
The plan and its report are in :mod:`console.core.plan`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import TypeVar

from console.core import read_retry
from console.core.call_gate import CallBlocked, CallGate
from console.core.input_first import INPUT_FIRST
from console.core.journal import Journal
from console.core.journal_rows import Intent, iso_ms, new_op_id, now_ms
from console.core.model import ActionKind, Outcome, OutcomeKind, State, Target
from console.core.operator import Operator
from console.core.plan import ItemResult, Plan, PlanItem, Report, ResultCallback, desired
from console.core.ports import FeedError, Incomplete, VenueClient
from console.core.settle import SETTLE_AT_MOST_S, SETTLE_DELAYS_S, settle
from console.core.store import KnownState, Store
from console.core.turns import Turn, begin_call

log = logging.getLogger(__name__)
R = TypeVar("R")

Pair = tuple[PlanItem, Intent]
"""A plan item and the intent journaled for it."""


class DispatchBusy(Exception):
    """A plan is already running; nothing was sent."""


# Defaults of the deadline model (a profile's kill_dispatch_deadline and
# kill_verify_deadline override them). Dispatch: 10 minutes per venue, longer than the
# documented rate limits make any real account's kill take (x3algo: 1,000 stops at 100
# a minute), far shorter than a hang. Verify: one list read, read again only while the
# venue says it is briefly in trouble (console/core/read_retry.py).
DISPATCH_DEADLINE_S = 600.0
VERIFY_DEADLINE_S = 60.0

# While a plan runs the cyclic garbage collector stays out of the way of the calls in
# flight (measured on a 2,000-target kill, docs/EMERGENCY.md): the heap that existed
# before the plan (the store's targets, the screen's rows) is frozen out of its passes,
# where a full pass stalled the event loop, and every call in flight, for 40–70 ms; and
# young collections run every 10,000 allocations instead of 700, which cut the
# dispatching process's CPU by 5–25 %. What the plan leaves as garbage is collected as
# usual, only less often; everything is restored when the last running plan ends.
_YOUNG_THRESHOLD = 10_000
_quiet_depth = 0
_saved_thresholds: tuple[int, int, int] = (700, 10, 10)


@contextlib.contextmanager
def _quiet_collector() -> Iterator[None]:
    global _quiet_depth, _saved_thresholds
    if _quiet_depth == 0:
        _saved_thresholds = gc.get_threshold()
        young, *older = _saved_thresholds
        gc.freeze()
        gc.set_threshold(max(young, _YOUNG_THRESHOLD), *older)
    _quiet_depth += 1
    try:
        yield
    finally:
        _quiet_depth -= 1
        if _quiet_depth == 0:
            gc.unfreeze()
            gc.set_threshold(*_saved_thresholds)


def in_call_order(by_venue: Mapping[str, list[Pair]]) -> list[Intent]:
    """A plan's intents in the order their calls leave: venues side by side, each in plan
    order — every venue's first call, then every venue's second, and so on. Journaled so,
    a plan's first rows are the calls that leave first on every venue: a desk hub stores
    the first wave's intents in its journal stream before any call (console/desk/
    intent_gate.py), and in plan order those were one venue's calls, the other venues'
    first calls waiting behind the rest of the plan's rows."""
    queues = list(by_venue.values())
    longest = max((len(queue) for queue in queues), default=0)
    return [queue[i][1] for i in range(longest) for queue in queues if i < len(queue)]


class Dispatcher:
    """Runs plans against venue clients, journaling and verifying every call."""

    def __init__(
        self,
        clients: Mapping[str, VenueClient],
        journal: Journal,
        store: Store | None = None,
        *,
        concurrency_per_venue: int = 64,
        verify: bool = True,
        dispatch_deadline_s: float = DISPATCH_DEADLINE_S,
        verify_deadline_s: float = VERIFY_DEADLINE_S,
        read_retry_s: float = read_retry.READ_RETRY_S,
    ) -> None:
        self.clients = clients
        self.journal = journal
        self.store = store
        self.concurrency_per_venue = concurrency_per_venue
        self.verify = verify
        self.dispatch_deadline_s = dispatch_deadline_s
        self.verify_deadline_s = verify_deadline_s
        self.read_retry_s = read_retry_s
        """How long a re-read goes on trying a venue that says it is briefly in trouble
        (:mod:`console.core.read_retry`), within the verify deadline."""
        self.settle_delays_s: tuple[float, ...] = SETTLE_DELAYS_S
        """Re-reads of a call answered done whose target reads otherwise (empty: none)."""
        self.serial = False
        """One call at a time, venue after venue, in plan order: a journal whose rows come
        in the same order on every run (the screenshots draw one). Never for a real kill,
        where venues are stopped side by side."""
        self._running: Report | None = None
        self._flying: list[tuple[str, dict[str, tuple[PlanItem, Intent, Turn]]]] = []
        """Each venue's calls in flight, while its part of a plan runs (:meth:`refused_now`)."""
        self._operator: Operator | None = None  # the running plan's, if not the journal's
        self.before_calls: Callable[[], Awaitable[CallGate | None]] | None = None
        """Awaited after a plan's intents are journaled and before its first call (a desk
        hub copies them to the journal stream there: a standby sees every call sent); the
        :class:`~console.core.call_gate.CallGate` it may return holds each call until its
        intent is through (:mod:`console.core.call_gate`)."""
        self._gate: CallGate | None = None
        self.hold: str | None = None
        """While set (why, in words), no call is *started*: calls in flight finish, the
        rest wait (a desk hub that cannot confirm its lease holds; if the hold outlives
        the dispatch deadline, what never left is *failed*, "not sent", with this why).
        :meth:`resume` lifts it."""
        self._resumed = asyncio.Event()
        self._resumed.set()
        self.checkpoint_delay_s = 0.0
        """How long after a plan the journal's WAL is copied into its database (0: before
        :meth:`run` returns). A desk hub waits: the plan's report leaves first (4–5 ms of
        a 600-target kill that the operators' report no longer waits for); a plan started
        meanwhile puts it off to its own end."""

    def hold_calls(self, why: str) -> None:
        """Start no new call until :meth:`resume` (calls in flight are not touched)."""
        self.hold = why
        self._resumed.clear()

    def resume(self) -> None:
        self.hold = None
        self._resumed.set()

    @property
    def busy(self) -> bool:
        return self._running is not None

    @property
    def running(self) -> Report | None:
        return self._running

    async def run(
        self,
        plan: Plan,
        on_result: ResultCallback | None = None,
        *,
        batch_id: str | None = None,
        operator: Operator | None = None,
        late: Mapping[str, Awaitable[Plan | None]] | None = None,
    ) -> Report:
        """Run ``plan``; ``batch_id`` journals it in an existing batch (a kill's retry and
        re-stops belong to the kill), else a new one. ``operator`` journals it as someone
        other than the journal's operator (automation: ``schedule:<name>``, same chain).

        ``late``: venues whose list was still being read when ``plan`` was frozen, each
        with what will give its part of the plan (None: it could not be read). Each joins
        the running plan when its part arrives — journaled, called and verified like the
        rest — so one slow list does not hold every other venue's calls (the CLI's kill)."""
        if self._running is not None:
            raise DispatchBusy(f"{self._running.plan.title!r} is still running")
        report = Report(plan, batch_id or uuid.uuid4().hex, now_ms())
        self._running = report
        INPUT_FIRST.release()  # a plan's reads never wait for a key's answer (the key's own)
        self._operator = operator
        try:
            with _quiet_collector():
                await self._run(plan, report, on_result, operator, late or {})
            if self.checkpoint_delay_s <= 0:
                self.journal.checkpoint()
            else:
                loop = asyncio.get_running_loop()
                loop.call_later(self.checkpoint_delay_s, self._checkpoint_between_plans)
            return report
        finally:
            self._running = None
            self._gate = None

    def _checkpoint_between_plans(self) -> None:
        if self._running is None:
            self.journal.checkpoint()

    async def _run(
        self,
        plan: Plan,
        report: Report,
        on_result: ResultCallback | None,
        operator: Operator | None,
        late: Mapping[str, Awaitable[Plan | None]],
    ) -> None:
        intents = [
            Intent(new_op_id(), report.batch_id, i.venue, i.target_id, i.target_name, i.action,
                   operator)
            for i in plan.items
        ]  # fmt: skip
        by_venue: dict[str, list[Pair]] = {}
        for item, intent in zip(plan.items, intents, strict=True):
            by_venue.setdefault(item.venue, []).append((item, intent))
        self.journal.intend_many(intents if self.serial else in_call_order(by_venue))
        if self.before_calls is not None:
            self._gate = await self.before_calls()
        # A kill of everything re-reads the venues of its scope it planned nothing on
        # too, once every call of the kill is answered (what started there meanwhile).
        unplanned = [v for v in plan.venues if v not in by_venue] if plan.everything else []
        calls_done = asyncio.Event()
        left = [len(by_venue) + len(late)]

        def dispatched() -> None:
            left[0] -= 1
            if left[0] <= 0:
                calls_done.set()

        if not by_venue and not late:
            calls_done.set()
        if self.serial:
            for venue, pairs in by_venue.items():
                await self._run_venue(venue, pairs, report, on_result, dispatched)
            for venue, arriving in late.items():
                await self._join(venue, arriving, report, on_result, dispatched, calls_done)
            for venue in unplanned:
                await self._look(venue, report, calls_done)
        else:
            await asyncio.gather(
                *(self._run_venue(v, pairs, report, on_result, dispatched)
                  for v, pairs in by_venue.items()),
                *(self._join(v, arriving, report, on_result, dispatched, calls_done)
                  for v, arriving in late.items()),
                *(self._look(v, report, calls_done) for v in unplanned),
            )  # fmt: skip
        report.finished_ms = now_ms()

    async def _join(
        self,
        venue: str,
        arriving: Awaitable[Plan | None],
        report: Report,
        on_result: ResultCallback | None,
        dispatched: Callable[[], None],
        calls_done: asyncio.Event,
    ) -> None:
        """``venue``'s part of the running plan, once its list has been read: its intents
        journaled, then its calls and re-read as any venue's (``run``'s ``late``)."""
        try:
            part = await arriving
        except Exception as exc:  # a bug planning one venue must not break the kill, and
            log.exception("%s: its part of the plan could not be built", venue)  # the
            report.unread[venue] = (  # report must not call it halted: never addressed
                f"its part of the plan could not be built ({type(exc).__name__}); "
                "nothing was sent there"
            )
            part = None
        if part is None:  # it could not be read: the caller's plan names it
            dispatched()
            return
        report.plan = report.plan.joined(part)
        if not part.items:
            dispatched()
            if report.plan.everything and venue in part.venues:
                await self._look(venue, report, calls_done)
            return
        pairs = [
            (item, Intent(new_op_id(), report.batch_id, item.venue, item.target_id,
                          item.target_name, item.action, self._operator))
            for item in part.items
        ]  # fmt: skip
        self.journal.intend_many([intent for _, intent in pairs])
        await self._run_venue(venue, pairs, report, on_result, dispatched)

    async def _run_venue(
        self,
        venue: str,
        pairs: list[Pair],
        report: Report,
        on_result: ResultCallback | None,
        dispatched: Callable[[], None] = lambda: None,
    ) -> None:
        """``venue``'s calls, then its re-read; ``dispatched`` is called once its calls
        are all answered (or failed at the deadline), before the re-read."""
        try:
            await self._call_venue(venue, pairs, report, on_result)
        finally:
            dispatched()
        client = self.clients.get(venue)
        if client is not None and self.verify:
            await self._verify(client, pairs, report, on_result)

    async def _call_venue(
        self,
        venue: str,
        pairs: list[Pair],
        report: Report,
        on_result: ResultCallback | None,
    ) -> None:
        client = self.clients.get(venue)
        if client is None:
            for item, intent in pairs:
                outcome = Outcome(OutcomeKind.FAILED, f"venue {venue!r} is not in this profile")
                self._settle(item, intent, outcome, report, on_result)
            return
        queue = iter(pairs)  # shared: each worker takes the next call in plan order
        in_flight: dict[str, tuple[PlanItem, Intent, Turn]] = {}
        flying = (venue, in_flight)
        self._flying.append(flying)
        held: list[Pair] = []  # taken from the queue, waiting on a hold
        gated: list[Pair] = []  # ... waiting at the gate
        resumed, gate = self._resumed, self._gate

        async def worker() -> None:
            # The call is awaited here, not in a helper: every resumption of a call in
            # flight passes through each frame between this loop and aiohttp.
            for item, intent in queue:
                if not resumed.is_set():  # held: this call has not left; it waits
                    held.append((item, intent))
                    while not resumed.is_set():  # (a resume then a new hold: still held)
                        await resumed.wait()
                    held.remove((item, intent))
                if gate is not None and not gate.ready(intent):
                    gated.append((item, intent))
                    try:
                        await gate.wait(intent)
                    except CallBlocked as exc:
                        gated.remove((item, intent))
                        outcome = Outcome(OutcomeKind.FAILED, f"not sent: {exc}; nothing "
                                          "reached the venue — retry it")  # fmt: skip
                        self._settle(item, intent, outcome, report, on_result)
                        continue
                    gated.remove((item, intent))
                in_flight[intent.op_id] = (item, intent, begin_call())
                try:
                    outcome = await client.execute(item.target_id, item.action)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # a bug in a venue module must not break a kill
                    outcome = self._internal_error(item, exc)
                del in_flight[intent.op_id]
                self._settle(item, intent, outcome, report, on_result)

        # A fixed pool rather than a task per call behind a semaphore: the same
        # concurrency and order, without 2,000 tasks and waiter futures for a kill.
        workers = 1 if self.serial else min(self.concurrency_per_venue, len(pairs))
        deadline = self.dispatch_deadline_s
        try:
            async with asyncio.timeout(deadline):
                await asyncio.gather(*(worker() for _ in range(workers)))
        except TimeoutError:
            log.warning("%s: dispatch deadline of %g s passed", venue, deadline)
            why = (f"calls were held ({self.hold})" if self.hold
                   else f"{venue} was slow or rate-limited")  # fmt: skip
            waiting: list[Pair] = []
            refused: dict[str, int] = {}  # op id -> the 429s before it waited again
            for item, intent, turn in list(in_flight.values()):
                if turn.waiting:  # its venue code still held it before sending
                    waiting.append((item, intent))
                    if turn.refusals:
                        refused[intent.op_id] = turn.refusals
                    continue
                outcome = Outcome(
                    OutcomeKind.UNCERTAIN,
                    f"sent, but no answer before the {deadline:g} s deadline; "
                    "the re-read decides, check the target",
                )
                self._settle(item, intent, outcome, report, on_result)
            for item, intent in waiting:
                outcome = Outcome(
                    OutcomeKind.FAILED,
                    f"not sent: the {deadline:g} s deadline passed while it waited for its "
                    f"turn at {venue}'s pace ({why}); nothing reached the venue — retry it",
                )
                times = refused.get(intent.op_id)
                if times:  # every request it made was refused: nothing was done either
                    outcome = Outcome(
                        OutcomeKind.FAILED,
                        f"not sent again: {venue} refused it with 429 "
                        f"{'once' if times == 1 else f'{times} times'}, and the {deadline:g} s "
                        "deadline passed while it waited to go again; nothing was done — "
                        "retry it",
                        http_status=429,
                    )
                self._settle(item, intent, outcome, report, on_result)
            for item, intent in gated:  # (only a gate puts a call here)
                outcome = Outcome(
                    OutcomeKind.FAILED,
                    f"not sent: the {deadline:g} s deadline passed while it waited for "
                    f"{gate.waits_for if gate else 'its turn'}; retry it",
                )
                self._settle(item, intent, outcome, report, on_result)
            for item, intent in [*held, *queue]:
                outcome = Outcome(
                    OutcomeKind.FAILED,
                    f"not sent: the {deadline:g} s deadline passed before its turn "
                    f"({why}); retry it",
                )
                self._settle(item, intent, outcome, report, on_result)
        finally:  # (by identity: two plans' empty dicts of one venue compare equal)
            self._flying = [f for f in self._flying if f is not flying]

    def refused_now(self) -> dict[str, int]:
        """Per venue, the calls of a running plan the venue refused (429) that wait to go
        again (the venue kit's 429 rule, ``turns.refused``): for the words of a kill's progress."""
        counts: dict[str, int] = {}
        for venue, in_flight in self._flying:
            n = sum(1 for _, _, turn in in_flight.values() if turn.refusals and not turn.left)
            if n:
                counts[venue] = counts.get(venue, 0) + n
        return counts

    @staticmethod
    def _internal_error(item: PlanItem, exc: Exception) -> Outcome:
        """A venue client raised (a bug): logged, and the call is UNCERTAIN."""
        log.error(
            "venue %s raised on %s %s", item.venue, item.action.kind, item.target_id,
            exc_info=exc,
        )  # fmt: skip
        return Outcome(
            OutcomeKind.UNCERTAIN,
            f"internal error in the {item.venue} client ({type(exc).__name__}); re-read the target",
        )

    def _settle(
        self,
        item: PlanItem,
        intent: Intent,
        outcome: Outcome,
        report: Report,
        on_result: ResultCallback | None,
    ) -> None:
        self.journal.record_outcome(intent, outcome)
        if outcome.ok and item.action.kind in (ActionKind.PAUSE, ActionKind.RESUME) and self.store:
            state = State.PAUSED if item.action.kind is ActionKind.PAUSE else State.RUNNING
            known = KnownState(
                state, iso_ms(now_ms()), str(intent.operator or self.journal.operator)
            )
            self.store.remember(item.venue, item.target_id, known)
        elif outcome.kind is OutcomeKind.UNCERTAIN and self.store:  # it may have landed:
            self.store.forget(item.venue, item.target_id)  # the old knowledge is no more
        result = ItemResult(item, outcome)
        report.results[(item.venue, item.target_id)] = result
        if on_result:
            on_result(result)

    async def _verify(
        self,
        client: VenueClient,
        pairs: list[Pair],
        report: Report,
        on_result: ResultCallback | None,
    ) -> None:
        ids = [item.target_id for item, _ in pairs]
        seen: list[Target] | None = [] if report.plan.everything else None
        started = asyncio.get_running_loop().time()
        fresh, problem = await self.reread(client, ids, seen=seen)
        if seen is not None and fresh is not None and problem:  # read in part
            self._not_reread(client.name, problem, True, report)
        # (a re-read that failed outright leaves each planned target of the venue not
        # verified: the report says so already, and a venue coming back re-verifies them)
        if fresh is None:
            for item, intent in pairs:
                self.journal.record_verification(
                    intent, State.UNKNOWN, f"re-read failed: {problem}"
                )
                previous = report.results[(item.venue, item.target_id)]
                result = ItemResult(item, previous.outcome, State.UNKNOWN, False)
                report.results[(item.venue, item.target_id)] = result
                if on_result:
                    on_result(result)
            return
        blind = not client.capabilities.reports_pause_state
        left = self.verify_deadline_s - (asyncio.get_running_loop().time() - started)
        if self.settle_delays_s and left > 0:  # within the venue's one verify deadline
            fresh = await self._settled(client, pairs, fresh, report, blind, left)
        if self.store is not None:
            self.store.upsert(t for t in fresh.values() if t is not None)
        for item, intent in pairs:
            previous = report.results[(item.venue, item.target_id)]
            target = fresh.get(item.target_id)
            by_answer = False
            if target is None:
                missing = f"not found on re-read ({problem})" if problem else "not found on re-read"
                self.journal.record_verification(intent, State.UNKNOWN, missing)
                verified_state: State | None = State.UNKNOWN
                ok = False
            elif blind and target.state is not State.STOPPED:
                # its paused/running can only be the client's memory of its own calls
                verified_state, by_answer, note = self._by_answer(client.name, item, previous)
                ok = False
                self.journal.record_verification(intent, verified_state, note)
            else:
                verified_state = self.verified_state(target, previous.outcome)
                ok, note = self._judge(item.action.kind, target, verified_state, previous.outcome)
                self.journal.record_verification(intent, verified_state, note)
            result = ItemResult(item, previous.outcome, verified_state, ok, by_answer)
            report.results[(item.venue, item.target_id)] = result
            if on_result:
                on_result(result)
        if seen:
            self._appeared(client, pairs, seen, report)

    async def _settled(
        self,
        client: VenueClient,
        pairs: list[Pair],
        fresh: dict[str, Target | None],
        report: Report,
        blind: bool,
        left_s: float,
    ) -> dict[str, Target | None]:
        """``fresh``, with each target whose call was answered done (or may have landed:
        uncertain) but whose re-read shows otherwise read again for a few seconds
        (:mod:`console.core.settle`), all within ``left_s`` (what the verify deadline
        leaves)."""
        items = {item.target_id: item for item, _ in pairs}

        def unsettled(now: dict[str, Target | None]) -> list[str]:
            ids = []
            for tid, item in items.items():
                outcome = report.results[(item.venue, tid)].outcome
                target = now.get(tid)
                landed = outcome.ok or outcome.kind is OutcomeKind.UNCERTAIN  # (may have)
                if not landed or target is None or (blind and target.state is not State.STOPPED):
                    continue
                state = self.verified_state(target, outcome)
                if not self._judge(item.action.kind, target, state, outcome)[0]:
                    ids.append(tid)
            return ids

        async def reread(ids: list[str]) -> dict[str, Target | None] | None:
            return (await self.reread(client, ids, retry=False))[0]  # settle paces itself

        bound = min(SETTLE_AT_MOST_S, left_s)
        return await settle(fresh, unsettled, reread, self.settle_delays_s, at_most_s=bound)

    async def _look(self, venue: str, report: Report, calls_done: asyncio.Event) -> None:
        """A kill of everything, on a venue of its scope where nothing was planned: once
        every call of the kill is answered, its list is read (within the verify
        deadline, at the venue's pace, as any re-read) for targets that appeared; a
        venue that cannot be read whole is named (:attr:`Report.unread`)."""
        await calls_done.wait()
        client = self.clients.get(venue)
        if client is None:
            self._not_reread(venue, f"venue {venue!r} is not in this profile", False, report)
            return
        if not self.verify:
            return
        seen: list[Target] = []
        fresh, problem = await self.reread(client, [], seen=seen)
        if fresh is None or problem:
            self._not_reread(venue, problem, fresh is not None, report)
        if seen:
            self._appeared(client, [], seen, report)

    def _not_reread(self, venue: str, why: str, in_part: bool, report: Report) -> None:
        """A kill of everything could not read ``venue``'s list whole after the kill:
        what appeared there is not known. Kept on the report and journaled as one note."""
        why = f"INCOMPLETE: {why}" if in_part else why
        report.unread[venue] = why
        self.journal.note(
            str(self._operator or self.journal.operator), venue, "*", "", "note",
            f"{venue} not re-read whole after the kill",
            message=f"{venue}'s list could not be read whole after the kill ({why}); "
            "targets that appeared there since the kill's plan are not known — check "
            f"{venue} itself, or run the kill again",
            batch_id=report.batch_id,
        )  # fmt: skip

    @staticmethod
    def _by_answer(venue: str, item: PlanItem, previous: ItemResult) -> tuple[State, bool, str]:
        """A target of a venue that cannot report its pause state: nothing can re-read it,
        so it is never *verified*. A call answered as done leaves it halted by the venue's
        answer only (the state it answered, journaled with a note saying so)."""
        outcome = previous.outcome
        after = outcome.state_after if outcome.ok else None
        if after is not None and desired(item.action.kind, after):
            return after, True, (
                f"not re-read: {venue} cannot report pause state; {after.value} by the "
                "venue's answer only"
            )  # fmt: skip
        return State.UNKNOWN, False, (
            f"not re-read: {venue} cannot report pause state, and the call was not "
            "answered as done"
        )  # fmt: skip

    def _appeared(
        self,
        client: VenueClient,
        pairs: list[Pair],
        seen: list[Target],
        report: Report,
    ) -> None:
        """Targets a kill's re-read found that were not in its plan and that a kill would
        halt (they appeared, or started, since the plan was frozen): kept on the report
        and journaled as one note."""
        planned = {item.target_id for item, _ in pairs}
        found = tuple(t for t in seen if t.id not in planned and client.kill_action(t) is not None)
        if not found:
            return
        report.appeared[client.name] = found  # (only a kill of everything looks: never
        # a retry in its batch, whose plan is not ``everything``; a hub always names the
        # batch, so "a batch of its own" cannot tell a kill from a retry there)
        shown = ", ".join(t.id for t in found[:10]) + (
            f" and {len(found) - 10} more" if len(found) > 10 else ""
        )
        self.journal.note(
            str(self._operator or self.journal.operator), client.name, "*", "", "note",
            f"{len(found)} target(s) appeared on {client.name} since the kill's plan",
            message=f"{len(found)} target(s) read on {client.name} after the kill were not "
            f"in its plan and would be halted by a kill: {shown}; not sent by this kill",
            options={"appeared": [t.id for t in found[:1000]]},
            batch_id=report.batch_id,
        )  # fmt: skip

    @staticmethod
    def _judge(
        kind: ActionKind, target: Target, state: State, outcome: Outcome
    ) -> tuple[bool, str]:
        """Whether the re-read shows the action done, and the journal's note saying so.

        A state the venue said the call rightly leaves (``Outcome.leaves``) counts as done
        only when the call itself was answered as done: the note then says what is left.
        """
        leaves = outcome.leaves if outcome.ok else None
        note = f"re-read: {target.raw_status}"
        warning = target.attrs.get("warning")
        if state is State.UNKNOWN and isinstance(warning, str) and warning:
            note += f" — {warning[:300]}"  # why it could not be read (a kept, unread row)
        if desired(kind, state):
            return True, note
        if desired(kind, state, leaves):
            left = f": {outcome.warning}" if outcome.warning else ""
            return (
                True,
                f"{note} (the {kind.value} is done; it leaves the target {state.value}{left})",
            )
        return False, f"{note} (not as asked)"

    def verified_state(self, target: Target, outcome: Outcome) -> State:
        """What a re-read of ``target`` shows of what control calls set (its client's
        :meth:`~console.core.ports.VenueClient.control_state`). A venue that cannot report pause state (its
        capabilities say so) shows nothing a re-read can trust — its client's PAUSED or
        RUNNING is its memory of its own calls, ``outcome`` among them — so UNKNOWN, unless
        the target reads STOPPED (a real read: an expired round). A kill's own re-read
        records such a target as halted by the venue's answer only (:meth:`_by_answer`)."""
        client = self.clients.get(target.venue)
        if client is None:
            return target.state
        if not client.capabilities.reports_pause_state and target.state is not State.STOPPED:
            return State.UNKNOWN
        return client.control_state(target)

    async def reread(
        self,
        client: VenueClient,
        ids: list[str],
        *,
        seen: list[Target] | None = None,
        retry: bool = True,
    ) -> tuple[dict[str, Target | None] | None, str]:
        """The targets ``ids`` read afresh within the verify deadline (one list read past
        three ids), or None and why; also what the report re-checks when a feed recovers.
        With ``seen`` (a kill's re-read) the list is always read, and every target it
        holds is added to ``seen`` (to find what appeared since the plan). A venue that
        says it is briefly in trouble is read again for :attr:`read_retry_s` (unless not
        ``retry``: :meth:`_settled` paces its own re-reads)."""
        try:
            async with asyncio.timeout(self.verify_deadline_s):
                if len(ids) <= 3 and seen is None:
                    found = await self._again(client, retry, lambda: asyncio.gather(
                        *(client.read_target(i) for i in ids)))  # fmt: skip
                    for asked, target in zip(ids, found, strict=True):
                        if target is not None and target.id != asked:  # (a venue's bug)
                            return None, (f"reading {asked!r} gave another target "
                                          f"({target.id!r}): not taken as {asked!r}'s state")  # fmt: skip
                    return dict(zip(ids, found, strict=True)), ""
                listed = await self._again(client, retry, client.list_targets)
                everything = {t.id: t for t in listed}
            if seen is not None:
                seen.extend(listed)
            return {i: everything.get(i) for i in ids}, ""
        except asyncio.CancelledError:
            raise
        except TimeoutError:
            why = f"no complete re-read within {self.verify_deadline_s:g} s"
            log.warning("re-read of %s: %s", client.name, why)
            return None, why
        except Incomplete as exc:
            # What was read is true: verify those; the rest are "not found on re-read".
            # A kill's re-read looks for what appeared among them too (the caller names
            # the venue as read in part: what the rest holds is not known).
            if seen is not None:
                seen.extend(exc.partial)
            partial = {t.id: t for t in exc.partial}
            return {i: partial.get(i) for i in ids}, str(exc)
        except Exception as exc:
            log.warning("re-read of %s failed: %s", client.name, exc)
            return None, str(exc) or type(exc).__name__

    async def _again(self, client: VenueClient, retry: bool, read: Callable[[], Awaitable[R]]) -> R:
        """``read()``, done again while the venue says it is briefly in trouble, for
        :attr:`read_retry_s` after the first began (the caller's deadline bounds it all);
        the last failure is raised, with its tries said when there were several."""
        clock = asyncio.get_running_loop().time
        began, tries = clock(), 0
        while True:
            started = clock()
            try:
                return await read()
            except Exception as exc:
                tries += 1
                pause = read_retry.pause_before_next(
                    exc, tries, took_s=clock() - started,
                    timeout_s=client.settings.request_timeout_s,
                    since_first_s=clock() - began,
                    window_s=self.read_retry_s if retry else 0.0,
                )  # fmt: skip
                if pause is None:
                    if tries == 1:
                        raise
                    took = read_retry.tried(tries, clock() - began)
                    raise FeedError(f"{exc} ({took})", transient=True) from None
                log.info("re-read of %s failed (%s): trying again", client.name, exc)
                await asyncio.sleep(pause)
