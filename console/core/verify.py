"""Verification: what a venue shows after a plan's calls, read afresh and judged.

A call's answer says what the venue *said*; only a re-read says what it *did*. Once a
venue's calls are answered (or failed at the dispatch deadline) the dispatcher hands
them here: the venue is re-read within ``verify_deadline_s`` (one read per target for up
to three, else its list; read again while the venue says it is briefly in trouble,
:mod:`console.core.read_retry`), a call answered done whose target reads otherwise is
read again for a few seconds (:mod:`console.core.settle`), and each call gets a
verification row in the journal and its verified state in the report. A kill of
everything also lists what appeared since its plan, and names a venue it could not read
whole. The report re-checks doubtful results through :meth:`Verifier.reread` when a
venue comes back (:mod:`console.core.reverify`).

Split from :mod:`console.core.dispatcher` (session 22), which sends; this reads.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from console.core import read_retry
from console.core.journal import Journal
from console.core.journal_rows import Intent
from console.core.model import ActionKind, Outcome, OutcomeKind, State, Target
from console.core.plan import ItemResult, PlanItem, Report, ResultCallback, desired
from console.core.ports import FeedError, Incomplete, VenueClient
from console.core.settle import SETTLE_AT_MOST_S, SETTLE_DELAYS_S, settle
from console.core.store import Store

log = logging.getLogger(__name__)
R = TypeVar("R")

Pair = tuple[PlanItem, Intent]
"""A plan item and the intent journaled for it."""

# One list read, read again only while the venue says it is briefly in trouble
# (console/core/read_retry.py); a profile's kill_verify_deadline overrides it.
VERIFY_DEADLINE_S = 60.0


class Verifier:
    """Re-reads venues after their calls, judges what they show, and journals it."""

    def __init__(
        self,
        clients: Mapping[str, VenueClient],
        journal: Journal,
        store: Store | None = None,
        *,
        verify_deadline_s: float = VERIFY_DEADLINE_S,
        read_retry_s: float = read_retry.READ_RETRY_S,
    ) -> None:
        self.clients = clients
        self.journal = journal
        self.store = store
        self.verify_deadline_s = verify_deadline_s
        self.read_retry_s = read_retry_s
        """How long a re-read goes on trying a venue that says it is briefly in trouble
        (:mod:`console.core.read_retry`), within the verify deadline."""
        self.settle_delays_s: tuple[float, ...] = SETTLE_DELAYS_S
        """Re-reads of a call answered done whose target reads otherwise (empty: none)."""

    async def verify(
        self,
        client: VenueClient,
        pairs: list[Pair],
        report: Report,
        on_result: ResultCallback | None,
        who: str,
    ) -> None:
        """Re-read ``client``'s venue for the calls of ``pairs`` (answered, or failed
        at the dispatch deadline), journal a verification per call and report each
        result again with its verified state; ``who`` signs the notes a kill leaves."""
        ids = [item.target_id for item, _ in pairs]
        seen: list[Target] | None = [] if report.plan.everything else None
        started = asyncio.get_running_loop().time()
        fresh, problem = await self.reread(client, ids, seen=seen)
        if seen is not None and fresh is not None and problem:  # read in part
            self.not_reread(client.name, problem, True, report, who)
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
            self._appeared(client, pairs, seen, report, who)

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

    async def look(self, venue: str, report: Report, who: str) -> None:
        """A kill of everything, on a venue of its scope where nothing was planned: once
        every call of the kill is answered, its list is read (within the verify
        deadline, at the venue's pace, as any re-read) for targets that appeared; a
        venue that cannot be read whole is named (:attr:`Report.unread`). The caller
        awaits the calls."""
        client = self.clients.get(venue)
        if client is None:
            self.not_reread(venue, f"venue {venue!r} is not in this profile", False, report, who)
            return
        seen: list[Target] = []
        fresh, problem = await self.reread(client, [], seen=seen)
        if fresh is None or problem:
            self.not_reread(venue, problem, fresh is not None, report, who)
        if seen:
            self._appeared(client, [], seen, report, who)

    def not_reread(self, venue: str, why: str, in_part: bool, report: Report, who: str) -> None:
        """A kill of everything could not read ``venue``'s list whole after the kill:
        what appeared there is not known. Kept on the report and journaled as one note."""
        why = f"INCOMPLETE: {why}" if in_part else why
        report.unread[venue] = why
        self.journal.note(
            who, venue, "*", "", "note",
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
        who: str,
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
            who, client.name, "*", "", "note",
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
