"""The hub's lease: which one hub of a profile may act, held in the profile's bucket.

One hub per profile serves (logs in, dispatches, journals); any other waits as a standby
or does not start. Asking "is a hub there?" and then starting is not atomic (two hubs
starting at once both start), so the right to act is a **lease**: the key ``lease``
(:data:`~console.desk.subjects.LEASE_KEY`) of the profile's bucket, holding the holder's
:class:`~console.desk.messages.HubBeat` (hub id, host, since when).

- **Taking it** is ``kv.create`` (the server refuses a second create of a live key), or,
  once the lease has expired, an update conditional on the revision seen (the server
  refuses it when anyone wrote the key since): of two hubs, exactly one gets it.
- **Holding it** is a conditional update every :data:`RENEW_S` (``last=`` the holder's own
  revision). A renewal refused because another hub wrote the key means the lease is lost:
  :attr:`Lease.lost` is set with who holds it now, and the hub stops dispatching at once.
- **Expiry is observed, never computed from clocks**: a lease expires when an observer
  has seen no renewal for :data:`TTL_S` on its own monotonic clock. The holder fences
  itself sooner: when it has had no acknowledged renewal for :data:`FENCE_S` (counted
  from the moment it *sent* the last acknowledged one, which is before anyone could
  observe it), it holds its calls until a renewal succeeds again. So a holder cut off
  from NATS stops before a standby may take over, and no clock on two machines is ever
  compared. (A per-key TTL on the server needs nats-server ≥ 2.11 and a bucket made for
  it; observing works on any JetStream server or cluster.)
- **Releasing it** (a hub that stops cleanly) deletes the key, conditional on its own
  revision: a standby takes over at once instead of after :data:`TTL_S`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from nats.js.client import JetStreamContext
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from console.core import cancel
from console.desk import messages, subjects

log = logging.getLogger(__name__)

TTL_S = 3.0
"""A lease not renewed for this long (as an observer sees it) may be taken over."""
RENEW_S = 1.0
"""How often the holder renews."""
FENCE_S = 2.5
"""The holder stops dispatching when its last acknowledged renewal was sent this long ago."""
_OP_TIMEOUT_S = 2.0


class LeaseHeld(Exception):
    """Another hub holds the profile's lease and renews it."""

    def __init__(self, holder: messages.HubBeat | None) -> None:
        self.holder = holder
        where = f"{holder.host}, hub {holder.hub_id[:8]}" if holder else "a hub"
        super().__init__(f"the lease is held by {where}")


def describe(holder: messages.HubBeat | None) -> str:
    return f"{holder.host} (hub {holder.hub_id[:8]})" if holder else "another hub"


class Lease:
    """The lease of ``me.profile``'s desk for the hub ``me`` (its beat is the value)."""

    def __init__(
        self,
        js: JetStreamContext,
        me: messages.HubBeat,
        *,
        ttl_s: float = TTL_S,
        renew_s: float | None = None,
        fence_s: float = FENCE_S,
    ) -> None:
        self.js = js
        self.me = me
        # Renewed at least three times a TTL: a lease renewed as seldom as it expires
        # (a short test TTL) looks expired whenever one renewal is a little late.
        renew = min(RENEW_S, ttl_s / 3) if renew_s is None else renew_s
        self.ttl_s, self.renew_s, self.fence_s = ttl_s, renew, fence_s
        self.revision = 0
        """The key's revision this hub last wrote (0: not held)."""
        self.taken_over: messages.HubBeat | None = None
        """The holder whose expired lease this hub took (None: it was free)."""
        self.lost = asyncio.Event()
        self.lost_to: messages.HubBeat | None = None
        self.fenced = False
        """No acknowledged renewal for FENCE_S: do not dispatch (until one succeeds)."""
        self._renewed_at = 0.0  # loop time when the last acknowledged renewal was sent
        self._on_fence: list[Callable[[str | None], None]] = []
        self._kv: KeyValue | None = None

    @property
    def held(self) -> bool:
        """Taken, not lost, and renewed (acknowledged) within FENCE_S: a holder whose
        loop stalled stops counting as one at once, not at its next renewal."""
        if self.revision <= 0 or self.lost.is_set() or self.fenced:
            return False
        return self._now() - self._renewed_at < self.fence_s

    def on_fence(self, listener: Callable[[str | None], None]) -> None:
        """``listener(why)`` when the hub must stop dispatching; ``listener(None)`` when
        a renewal succeeded again after a fence (not after a loss: that is final)."""
        self._on_fence.append(listener)

    async def bucket(self) -> KeyValue:
        """The profile's bucket (made if missing)."""
        return await self._bucket()

    async def _bucket(self) -> KeyValue:
        if self._kv is None:
            self._kv = await self.js.create_key_value(
                bucket=subjects.bucket(self.me.profile), history=1
            )
        return self._kv

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    # ----- taking it --------------------------------------------------------------------
    async def try_create(self) -> bool:
        """Take a free lease (no key, or a deleted one): True when this hub has it."""
        kv = await self._bucket()
        sent = self._now()
        try:
            self.revision = await kv.create(subjects.LEASE_KEY, self.me.encode())
        except KeyWrongLastSequenceError:
            return False
        except Exception as exc:  # NATS away: a standby keeps waiting, and tries again
            log.warning("the lease could not be taken: %s", exc or type(exc).__name__)
            return False
        self._renewed_at = sent
        return True

    async def acquire(self, *, wait: bool) -> None:
        """Take the lease: at once when it is free; else when its holder has not renewed
        it for TTL_S. ``wait=False``: :class:`LeaseHeld` as soon as the holder is seen
        renewing (a second hub that does not stand by); ``wait=True``: until taken."""
        if await self.try_create():
            return
        kv = await self._bucket()
        watcher = await kv.watch(subjects.LEASE_KEY)
        try:
            # The key as it stands, read once: a watch that stalls (seen in a loaded
            # suite) delivers nothing, and one TTL, not two, then tells a live holder
            # from a dead one. The watch's own first delivery of it is not a renewal.
            seen = await self._current(kv, None)
            deadline = self._now() + self.ttl_s
            while True:
                cancel.check()  # a standby's start cancelled as an update came in
                try:
                    entry = await watcher.updates(timeout=max(deadline - self._now(), 0.01))  # type: ignore[no-untyped-call]
                except TimeoutError:
                    entry = None
                if entry is not None:
                    if entry.operation is not None or not entry.value:  # released
                        if await self.try_create():
                            return
                        continue
                    if seen is not None and entry.revision == seen[0]:
                        continue  # the value read above, delivered by the watch
                    holder = _holder(entry.value)
                    if seen is not None and not wait:
                        raise LeaseHeld(holder)  # renewed while we looked: it is alive
                    seen, deadline = (entry.revision, holder), self._now() + self.ttl_s
                    continue
                if self._now() < deadline:
                    continue  # the initial marker (no value yet), or a stray wake-up
                # A whole TTL without news from the watch: read the key itself (a watch
                # that stalls must not leave a second hub waiting on a live holder; seen
                # in a loaded suite: 120 s instead of exiting 12 at once).
                now = await self._current(kv, seen)
                deadline = self._now() + self.ttl_s
                if now is None:  # free (or never seen)
                    if await self.try_create():
                        return
                    continue
                if seen is None or now[0] != seen[0]:  # written since: its holder is alive
                    if seen is not None and not wait:
                        raise LeaseHeld(now[1])
                    seen = now
                    continue
                revision, holder = seen  # unchanged for a whole TTL: expired
                if await self._take(kv, revision, holder):
                    return
        finally:
            with contextlib.suppress(Exception):
                await watcher.stop()  # type: ignore[no-untyped-call]

    async def _current(
        self, kv: KeyValue, seen: tuple[int, messages.HubBeat | None] | None
    ) -> tuple[int, messages.HubBeat | None] | None:
        """The lease's revision and holder now (None: free); ``seen`` when NATS cannot say."""
        try:
            entry = await kv.get(subjects.LEASE_KEY)
        except KeyNotFoundError:
            return None
        except Exception:  # NATS away: as last seen (the next expiry tries again)
            return seen
        if entry.operation is not None or not entry.value:
            return None
        return entry.revision or 0, _holder(entry.value)

    async def _take(self, kv: KeyValue, revision: int, holder: messages.HubBeat | None) -> bool:
        """The expired lease at ``revision``, unless anyone wrote it since."""
        sent = self._now()
        try:
            self.revision = await kv.update(subjects.LEASE_KEY, self.me.encode(), last=revision)
        except KeyWrongLastSequenceError:
            return False
        except Exception as exc:  # NATS away: the next expiry seen tries again
            log.warning("the lease could not be taken over: %s", exc or type(exc).__name__)
            return False
        self._renewed_at = sent
        self.taken_over = holder
        log.warning("took the lease of profile %s over from %s: not renewed for %g s",
                    self.me.profile, describe(holder), self.ttl_s)  # fmt: skip
        return True

    # ----- holding it -------------------------------------------------------------------
    async def hold(self) -> None:
        """Renew every RENEW_S until the lease is lost (then return) or cancelled."""
        while not self.lost.is_set():
            await self.renew()
            cancel.check()  # a renewal answered with the cancel kept it (Python 3.11)
            await asyncio.sleep(self.renew_s)

    async def renew(self) -> None:
        """One renewal; a failure that is not a loss fences only once FENCE_S passed."""
        sent = self._now()
        try:
            async with asyncio.timeout(_OP_TIMEOUT_S):
                await self._renew_once()
        except KeyWrongLastSequenceError:
            pass  # _renew_once set lost (another hub wrote the key)
        except Exception as exc:  # NATS away, the bucket gone: try again next turn
            log.warning("the hub's lease could not be renewed: %s", exc or type(exc).__name__)
        else:
            self._renewed_at = sent
            if self.fenced:
                self.fenced = False
                log.warning("the hub's lease is renewed again: it dispatches again")
                self._tell(None)
            return
        if self.lost.is_set():
            return
        if not self.fenced and self._now() - self._renewed_at >= self.fence_s:
            self.fenced = True
            self._tell(f"no renewal of the hub's lease for {self.fence_s:g} s (NATS cut off?)")

    async def _renew_once(self) -> None:
        kv = await self._bucket()
        try:
            self.revision = await kv.update(
                subjects.LEASE_KEY, self.me.encode(), last=self.revision
            )
            return
        except KeyWrongLastSequenceError:
            pass
        try:  # who wrote it? our own renewal whose answer was lost, a reset server, another
            entry = await kv.get(subjects.LEASE_KEY)
        except KeyNotFoundError:  # gone (a server that lost its files, a release): ours again
            self.revision = await kv.create(subjects.LEASE_KEY, self.me.encode())
            return
        holder = _holder(entry.value or b"")
        if holder is not None and holder.hub_id == self.me.hub_id:
            self.revision = entry.revision or 0
            self.revision = await kv.update(
                subjects.LEASE_KEY, self.me.encode(), last=self.revision
            )
            return
        self.lost_to = holder
        self.lost.set()
        self._tell(f"the lease was taken by {describe(holder)}")
        raise KeyWrongLastSequenceError

    def give_up(self, why: str) -> None:
        """Another hub acts on the desk (it wrote the journal stream): this one is done."""
        if not self.lost.is_set():
            self.lost.set()
            self._tell(why)

    def _tell(self, why: str | None) -> None:
        if why is not None:
            log.error("this hub stops dispatching: %s", why)
        for listener in self._on_fence:
            listener(why)

    # ----- releasing it -----------------------------------------------------------------
    async def release(self) -> None:
        """Delete the key if it is still this hub's (a standby takes over at once)."""
        if self.revision <= 0 or self.lost.is_set():
            return
        revision, self.revision = self.revision, 0
        with contextlib.suppress(Exception):
            async with asyncio.timeout(_OP_TIMEOUT_S):
                kv = await self._bucket()
                await kv.delete(subjects.LEASE_KEY, last=revision)


def _holder(value: bytes) -> messages.HubBeat | None:
    try:
        beat: messages.HubBeat = messages.HubBeat.decode(value)
    except subjects.ProtocolError:
        return None
    return beat
