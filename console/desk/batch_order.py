"""Whether a desk console has every state batch its hub sent, and what to do when not.

State batches are plain NATS messages: at most once. A batch that does not follow the
last one shows a loss at once, but a lost *last* batch is followed by nothing: the
console would show the state before it (a target STOPPED that runs again) until some
other change came, however long that is. The hub's heartbeat says the last batch it
sent (``HubBeat.state_seq``), so a beat claiming a batch that has not come is a loss
too — once the claim has stood for :data:`LOST_AFTER_S` (the batch may still be on its
way: each subscription has its own queue, and under load the beat's can run first).

A full read of the bucket answers a loss; batches that come while it reads are kept
(:class:`BatchOrder.reading`) to be laid over what it read: the hub writes the bucket
before it publishes a batch, so a batch is never older than the bucket's value the read
took before it came, and the read's picture alone would take a target back in time.
"""

from __future__ import annotations

from dataclasses import dataclass

from console.desk import messages, subjects

LOST_AFTER_S = 2 * subjects.BEAT_S
"""How long a beat's claim of a batch not yet come may stand before it counts as lost."""


class BatchOrder:
    """The last batch applied, the oldest claim of a later one, and the batches a full
    read must lay over its picture."""

    def __init__(self) -> None:
        self.hub_id: str | None = None
        self.seq: int | None = None
        """The last batch applied, or the count a full read holds (None: nothing to
        measure a loss against yet)."""
        self._claim: tuple[int, float] | None = None  # (a beat's state_seq, when first heard)
        self._reads = 0  # full reads under way (a resync can start during attach's)
        self._during_reads: list[messages.StateBatch] = []

    def take(self, batch: messages.StateBatch) -> bool:
        """Note ``batch`` as applied; True when batches were missed before it."""
        missed = self.seq is not None and (batch.hub_id != self.hub_id or batch.seq != self.seq + 1)
        self.hub_id, self.seq = batch.hub_id, batch.seq
        if self._reads:
            self._during_reads.append(batch)
        return missed

    def beat(self, beat: messages.HubBeat, now: float, *, queued: bool = False) -> bool:
        """True when this beat shows a batch lost: one the hub's beats have claimed for
        :data:`LOST_AFTER_S` has not come (a read is then due). ``queued``: batches wait
        in the subscription's queue, so the claimed one may be among them — the wait
        starts again (a console behind on a flood must not add full reads to it)."""
        if self.seq is None or beat.hub_id != self.hub_id or beat.state_seq <= self.seq:
            self._claim = None  # caught up, or nothing to measure against yet
            return False
        if self._claim is None or queued or self.seq >= self._claim[0]:
            self._claim = (beat.state_seq, now)  # a first claim, or the last one was met
            return False
        if self.seq < self._claim[0] and now - self._claim[1] >= LOST_AFTER_S:
            self._claim = None
            return True
        return False

    def start_read(self, beat: messages.HubBeat | None = None) -> Mark:
        """A full read begins: keep the batches that come meanwhile. ``beat``: the last
        one heard before it; every batch it counts had its keys written already, so
        the read takes them (the mark to give :meth:`end_read`)."""
        self._reads += 1
        return Mark(len(self._during_reads), beat.hub_id if beat else None,
                    beat.state_seq if beat else None)  # fmt: skip

    def end_read(self, mark: Mark) -> list[messages.StateBatch]:
        """The full read begun at ``mark`` ended: the batches that came during it, to
        lay over its picture, oldest first. None came: the read holds every batch up to
        its beat's, the baseline a lost next batch is measured against (none without a
        beat: the next batch is the baseline)."""
        came = self._during_reads[mark.index :]
        self._reads -= 1
        if not self._reads:
            self._during_reads = []
        self._claim = None
        if not came:
            self.hub_id, self.seq = mark.hub_id or self.hub_id, mark.state_seq
        return came


@dataclass(frozen=True, slots=True)
class Mark:
    """Where a full read began: the batches kept so far, and the last beat's count."""

    index: int
    hub_id: str | None
    state_seq: int | None
