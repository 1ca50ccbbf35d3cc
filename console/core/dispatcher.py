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

from console.core import read_retry
from console.core.call_gate import CallBlocked, CallGate
from console.core.input_first import INPUT_FIRST
from console.core.journal import Journal
from console.core.journal_rows import Intent, iso_ms, new_op_id, now_ms
from console.core.model import ActionKind, Outcome, OutcomeKind, State
from console.core.operator import Operator
from console.core.plan import ItemResult, Plan, PlanItem, Report, ResultCallback
from console.core.ports import VenueClient
from console.core.store import KnownState, Store
from console.core.turns import Turn, begin_call
from console.core.verify import VERIFY_DEADLINE_S, Pair, Verifier

log = logging.getLogger(__name__)


class DispatchBusy(Exception):
    """A plan is already running; nothing was sent."""


# The dispatch stage's default in the deadline model (a profile's kill_dispatch_deadline
# overrides it; the verify stage's is console/core/verify.py's): 10 minutes per venue,
# longer than the documented rate limits make any real account's kill take (x3algo:
# 1,000 stops at 100 a minute), far shorter than a hang.
DISPATCH_DEADLINE_S = 600.0

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
        """Re-read each venue after its calls (False: the report is the answers only)."""
        self.dispatch_deadline_s = dispatch_deadline_s
        self.verifier = Verifier(
            clients,
            journal,
            store,
            verify_deadline_s=verify_deadline_s,
            read_retry_s=read_retry_s,
        )
        """What re-reads each venue after its calls and judges it (its deadline, its
        read-again window and its settling waits are the verify stage's settings)."""
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

    @property
    def verify_deadline_s(self) -> float:
        return self.verifier.verify_deadline_s

    @property
    def read_retry_s(self) -> float:
        return self.verifier.read_retry_s

    @read_retry_s.setter
    def read_retry_s(self, seconds: float) -> None:
        self.verifier.read_retry_s = seconds

    @property
    def settle_delays_s(self) -> tuple[float, ...]:
        return self.verifier.settle_delays_s

    @settle_delays_s.setter
    def settle_delays_s(self, delays: tuple[float, ...]) -> None:
        self.verifier.settle_delays_s = delays

    def _who(self) -> str:
        """Who signs the notes of the running plan (its operator, else the journal's)."""
        return str(self._operator or self.journal.operator)

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
            await self.verifier.verify(client, pairs, report, on_result, self._who())

    async def _look(self, venue: str, report: Report, calls_done: asyncio.Event) -> None:
        """A kill of everything, on a venue of its scope where nothing was planned:
        looked at once every call of the kill is answered (:meth:`Verifier.look`)."""
        await calls_done.wait()
        if self.verify or venue not in self.clients:
            await self.verifier.look(venue, report, self._who())

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
