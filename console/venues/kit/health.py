"""One health mark for a venue fed by a poller and one or more streams.

A venue whose state is polled over REST while streams carry events (55-tech: the status
poll plus one WebSocket per key) runs :func:`~console.venues.kit.feeds.poll_forever` and
:func:`~console.venues.kit.feeds.stream_forever` side by side. Each reports its own
health; the screen shows one mark per venue. :class:`HealthFold` takes each loop's
reports through a sink of its own (:meth:`HealthFold.poll_sink`,
:meth:`HealthFold.stream_sink`) and reports the fold:

* DOWN when the poller is down (REST is where the state comes from), in its words;
* LIVE when every stream is live;
* RECONNECTING while a stream retries; POLLING, saying so, when a stream stays down
  but the poller answers; while the streams still connect, the poller speaks.

A mark is reported only when it changes, its words scrubbed first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from console.core.model import AttrValue, State, Target
from console.core.ports import FeedSink, FeedStatus

_RANK = {
    FeedStatus.LIVE: 0,
    FeedStatus.CONNECTING: 1,
    FeedStatus.POLLING: 1,
    FeedStatus.RECONNECTING: 2,
    FeedStatus.DOWN: 3,
}


class HealthFold:
    """Folds the poller's and every stream's health into the venue's one mark.

    ``polled`` names what the poller still brings when streams are down ("engine
    state"), or says it when asked (a cadence that may change): the words of that
    POLLING mark."""

    def __init__(
        self,
        sink: FeedSink,
        venue: str,
        streams: int,
        scrub: Callable[[str], str] = lambda text: text,
        *,
        polled: str | Callable[[], str] = "state",
    ) -> None:
        self._sink = sink
        self._venue = venue
        self._scrub = scrub
        self._polled = polled
        self.poll: tuple[FeedStatus, str] = (FeedStatus.CONNECTING, "")
        self.streams: list[tuple[FeedStatus, str]] = [(FeedStatus.CONNECTING, "")] * streams
        self._last: tuple[FeedStatus, str] | None = None

    def set_poll(self, status: FeedStatus, detail: str = "") -> None:
        self.poll = (status, detail)
        self._emit()

    def set_stream(self, index: int, status: FeedStatus, detail: str = "") -> None:
        self.streams[index] = (status, detail)
        self._emit()

    def poll_sink(self) -> FeedSink:
        """The sink the poller reports to: its health folds in, the rest passes on."""
        return _FoldingSink(self._sink, lambda status, detail: self.set_poll(status, detail))

    def stream_sink(self, index: int) -> FeedSink:
        """The sink stream ``index`` reports to: its health folds in, the rest passes on."""
        return _FoldingSink(
            self._sink, lambda status, detail: self.set_stream(index, status, detail)
        )

    def stream_live(self) -> bool:
        """Every stream is live (a poller may then read seldom)."""
        return bool(self.streams) and all(s[0] is FeedStatus.LIVE for s in self.streams)

    def combined(self) -> tuple[FeedStatus, str]:
        poll_status, poll_detail = self.poll
        if poll_status is FeedStatus.DOWN or not self.streams:
            return poll_status, poll_detail
        bad = [s for s in self.streams if s[0] is not FeedStatus.LIVE]
        if not bad:
            return FeedStatus.LIVE, ""
        status, detail = max(bad, key=lambda s: _RANK[s[0]])
        where = "stream" if len(self.streams) == 1 else f"{len(bad)} of {len(self.streams)} streams"
        if status is FeedStatus.RECONNECTING:
            return FeedStatus.RECONNECTING, f"{where} reconnecting: {detail}"
        if status is FeedStatus.DOWN:
            polled = self._polled() if callable(self._polled) else self._polled
            return FeedStatus.POLLING, f"{where} down ({detail}); {polled} still polled"
        return poll_status, poll_detail  # streams still connecting: the poller speaks

    def _emit(self) -> None:
        status, detail = self.combined()
        now = (status, self._scrub(detail))
        if now != self._last:
            self._last = now
            self._sink.health(self._venue, *now)


class _FoldingSink:
    """A FeedSink whose health goes to a fold; everything else passes on unchanged."""

    def __init__(self, sink: FeedSink, report: Callable[[FeedStatus, str], None]) -> None:
        self._sink = sink
        self._report = report

    def snapshot(self, venue: str, targets: Iterable[Target]) -> None:
        self._sink.snapshot(venue, targets)

    def upsert(self, targets: Iterable[Target]) -> None:
        self._sink.upsert(targets)

    def patch(
        self,
        venue: str,
        target_id: str,
        *,
        state: State | None = None,
        raw_status: str | None = None,
        attrs: Mapping[str, AttrValue] | None = None,
        confirms: bool = True,
    ) -> None:
        self._sink.patch(
            venue, target_id, state=state, raw_status=raw_status, attrs=attrs, confirms=confirms
        )

    def health(self, venue: str, status: FeedStatus, detail: str = "") -> None:
        self._report(status, detail)

    def count_events(self, venue: str, n: int = 1) -> None:
        self._sink.count_events(venue, n)
