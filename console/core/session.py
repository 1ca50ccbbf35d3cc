"""A session: one profile's venue clients, live store, journal and dispatcher together.

The CLI and the TUI both start from a Session, so a stop typed on the command line and
a stop confirmed in a modal travel the same path. Tests build one around the simulator.
For the console a Session is the :class:`~console.core.ports.StateSource` and its
:attr:`Session.control` the :class:`~console.core.ports.ControlPort`:
``ConsoleApp(session, session.control)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from console.core import read_retry
from console.core.dispatcher import Dispatcher
from console.core.journal import Journal
from console.core.journal_rows import iso_ms
from console.core.local_control import LocalControl
from console.core.model import ActionKind, State
from console.core.ports import Incomplete, VenueClient, describe
from console.core.scrub import clip
from console.core.store import KnownState, Store

log = logging.getLogger(__name__)

# Planning reads: a failure is tried twice more, 0.5 s then 1 s later; one the venue
# marks transient goes on being tried until read_retry_s after the read began
# (console/core/read_retry.py).
FIRST_READS_S = 2.0
"""How long a hub or ``automate`` waits for the venues' first lists before it serves:
in the common case of a large, slow but healthy list a whole first picture."""
Reads = dict[str, "asyncio.Task[str | None]"]
"""Venue reads under way or ended, by venue name (:meth:`Session.start_reads`)."""
_PLANNING_ATTEMPTS = 3


@dataclass(frozen=True)
class SessionOptions:
    """How the console behaves with this profile (from the profile's settings)."""

    profile: str = "default"
    label: str = "PROFILE"
    color: str = "warning"
    readonly: bool = False
    arm_minutes: float = 5.0
    # The kill chooses each venue's option that leaves nothing behind (Capabilities).
    kill_clear_leaves_behind: bool = False
    stale_after_s: float = 30.0
    watch_minutes: float = 10.0
    auto_restop: bool = False
    # The kill's deadline model (docs/EMERGENCY.md): planning reads, each venue's
    # dispatch, each venue's re-read.
    planning_deadline_s: float = 30.0
    # How long a kill's read (planning, verifying) goes on trying a venue that answers
    # it is briefly in trouble (a 503 while it restarts), within the stage's deadline.
    read_retry_s: float = read_retry.READ_RETRY_S
    dispatch_deadline_s: float = 600.0
    verify_deadline_s: float = 60.0
    # From this many columns and rows the console shows the overview above the panels.
    overview_from: tuple[int, int] = (160, 45)


class Session:
    """Everything one running console (or one CLI command) needs, for one profile."""

    def __init__(
        self,
        options: SessionOptions,
        clients: Iterable[VenueClient],
        journal: Journal,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.options = options
        self.clients: dict[str, VenueClient] = {c.name: c for c in clients}
        self.journal = journal
        self.clock = clock
        blind = [c.name for c in self.clients.values() if not c.capabilities.reports_pause_state]
        self.store = Store(stale_after_s=options.stale_after_s, clock=clock, blind_venues=blind)
        for client in self.clients.values():
            if (scrubber := client.credentials_scrubber) is not None:
                self.store.mask_with(client.name, scrubber)  # a credential echoed in a name
        self.dispatcher = Dispatcher(
            self.clients, journal, self.store,
            dispatch_deadline_s=options.dispatch_deadline_s,
            verify_deadline_s=options.verify_deadline_s,
            read_retry_s=options.read_retry_s,
        )  # fmt: skip
        self.control = LocalControl(self)  # the console's control port, in this process
        # Venues whose last refresh read only part of their list, with why.
        self.incomplete: dict[str, str] = {}
        # Venues whose planning read failed and is waiting to try again: (tries, why).
        self.retrying: dict[str, tuple[int, str]] = {}
        # Venues whose last planning read answered only after failed tries: (tries, why).
        self.read_after: dict[str, tuple[int, str]] = {}
        self._feeds: list[asyncio.Task[None]] = []
        self.load_known_states()

    @property
    def venues(self) -> list[str]:
        return list(self.clients)

    def load_known_states(self) -> None:
        """Seed the store with what the journal knows of venues that cannot report state."""
        for venue in self.clients:
            for target_id, entry in self.journal.last_settled(venue).items():
                if entry.kind == "outcome" and entry.action in ("pause", "resume"):
                    state = State.PAUSED if entry.action == ActionKind.PAUSE else State.RUNNING
                elif entry.kind == "verify" and entry.state in ("paused", "running"):
                    state = State(entry.state)
                else:
                    continue
                self.store.remember(
                    venue, target_id, KnownState(state, iso_ms(entry.ts_ms), entry.operator)
                )

    def start_feeds(self) -> None:
        """Start every venue's feed into the store (call from inside the event loop)."""
        for client in self.clients.values():
            task = asyncio.create_task(client.run_feed(self.store), name=f"feed:{client.name}")
            self._feeds.append(task)

    async def stop_feeds(self) -> None:
        for task in self._feeds:
            task.cancel()
        for task in self._feeds:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._feeds.clear()

    async def refresh(self, deadline_s: float | None = None) -> dict[str, str]:
        """Read every venue once into the store, each within the planning deadline.

        Returns the venues that could not be read at all, with why (``UNREADABLE: …``
        when the venue answered in a shape that says nothing about its targets). A
        failure is tried twice more (0.5 s, then 1 s later), so one bad answer does not
        make a venue unreachable; one the venue marks transient (a 5xx, a 429 asking a
        short wait, no answer: ``FeedError.transient``) goes on being tried every 2 s
        until ``read_retry_s`` after the read began (a venue answering 503 while it
        restarts, for 2 s, was UNREACHABLE for the kill, its algorithms never stopped);
        :attr:`retrying` says which venues wait to try again. A venue read only in part
        is in :attr:`incomplete`; what was read of it is in the store. A read that
        failed only after its whole ``request_timeout`` (a venue that does not answer)
        is not tried again: a hanging venue held whatever waited for every read for
        three timeouts and the backoff (16.5 s at the defaults), now for one (5 s). (The
        CLI's kill does not wait for a slow venue at all: its reads are
        :meth:`read_venue` each, console/cli/reads.py.)
        """
        reads = self.start_reads(deadline_s=deadline_s)
        if not reads:  # a profile that names no venue (asyncio.wait refuses nothing)
            return {}
        try:
            await asyncio.wait(reads.values())
        finally:  # (cancelled itself: no read outlives it)
            for task in reads.values():
                task.cancel()
        return failed_reads(reads)

    async def first_reads(self, at_most_s: float = FIRST_READS_S) -> None:
        """Every venue read as :meth:`refresh` does, for ``at_most_s`` at most, before a
        long-running process serves (a hub, the automation): a venue whose list hangs
        held its start for its whole read (5 s at the defaults, the planning deadline
        with retries). A venue still listing then has its read cancelled and is left to
        its feed, whose first poll reads it; each is logged, as is a venue that failed."""
        reads = self.start_reads()
        if not reads:  # a profile that names no venue
            return
        _, pending = await asyncio.wait(reads.values(), timeout=at_most_s)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        for venue, task in reads.items():
            if task in pending:
                log.warning("%s still listing after %g s at start: its feed reads it",
                            venue, at_most_s)  # fmt: skip
        for venue, why in failed_reads(reads).items():
            log.warning("%s could not be read at start: %s", venue, why)

    def start_reads(self, only: str | None = None, deadline_s: float | None = None) -> Reads:
        """Every venue's read into the store (:meth:`read_venue`), or ``only`` that
        one's, started now: what waits for them decides how long (a kill, a hub)."""
        self.incomplete = {}
        return {name: asyncio.create_task(self.read_venue(client, deadline_s))
                for name, client in self.clients.items() if only in (None, name)}  # fmt: skip

    async def read_venue(self, client: VenueClient, deadline_s: float | None = None) -> str | None:
        """Read one venue into the store as :meth:`refresh` does; why it could not be
        read at all, or None (read in part: named in :attr:`incomplete`)."""
        deadline = self.options.planning_deadline_s if deadline_s is None else deadline_s
        self.incomplete.pop(client.name, None)
        self.read_after.pop(client.name, None)
        last, tries = "", 0
        clock = asyncio.get_running_loop().time
        began = clock()
        try:
            async with asyncio.timeout(deadline):
                while True:
                    started = clock()
                    try:
                        self.store.snapshot(client.name, await client.list_targets())
                        if tries:
                            self.read_after[client.name] = (tries, last)
                        return None
                    except Incomplete as exc:
                        self.store.upsert(exc.partial)
                        self.incomplete[client.name] = describe(exc)
                        if tries:
                            self.read_after[client.name] = (tries, last)
                        return None
                    except asyncio.CancelledError:
                        raise
                    except Exception as exc:
                        last, tries = describe(exc), tries + 1
                        pause = read_retry.pause_before_next(
                            exc, tries, took_s=clock() - started,
                            timeout_s=client.settings.request_timeout_s,
                            since_first_s=clock() - began, window_s=self.options.read_retry_s,
                            at_least=_PLANNING_ATTEMPTS,
                        )  # fmt: skip
                        if pause is None:
                            break
                    self.retrying[client.name] = (tries, last)
                    await asyncio.sleep(pause)
            if tries > _PLANNING_ATTEMPTS:  # the venue kept saying it was briefly in trouble
                return f"{last} ({read_retry.tried(tries, clock() - began)})"
            return last
        except TimeoutError:
            words = f"no complete list within {deadline:g} s"
            return f"{words} (last: {last})" if last else words
        finally:
            self.retrying.pop(client.name, None)

    def listing_words(self, venue: str) -> str:
        """``venue`` as a command names a list it still waits for: with its failed tries
        and the last failure while it waits to try again."""
        if venue not in self.retrying:
            return venue
        tries, why = self.retrying[venue]
        return f"{venue} (failed {tries}×, trying again: {clip(why, 160)})"

    def listed_after_words(self, venue: str) -> str:
        """`` (after 4 failed tries: …)`` when ``venue``'s last read answered only after
        failed tries (a flaky venue), else ""."""
        if venue not in self.read_after:
            return ""
        tries, why = self.read_after[venue]
        return f" (after {tries} failed tr{'y' if tries == 1 else 'ies'}: {clip(why, 120)})"

    async def aclose(self) -> None:
        await self.stop_feeds()
        for client in self.clients.values():
            with contextlib.suppress(Exception):
                await client.aclose()
        self.journal.close()


def failed_reads(reads: Reads) -> dict[str, str]:
    """The reads that ended and failed, with why (one cancelled or still going: none)."""
    return {name: why for name, task in reads.items()
            if task.done() and not task.cancelled() and (why := task.result())}  # fmt: skip
