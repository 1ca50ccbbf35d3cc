"""PipAI's feed against the simulator: status WebSocket, resync, reconnect, feed errors.

The list is read by kit's poller from the start, so a test that needs the stream waits
for LIVE (subscribed), not only for the targets."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterable
from typing import Any

import httpx
import pytest

from console.core.model import Action, ActionKind, OutcomeKind, State, Target
from console.sim.server import SimServer
from console.venues.fiftyfive.client import FiftyFiveClient
from console.venues.fiftyfive.feed import _Feed
from console.venues.kit.base import FeedStatus, Secret, VenueSettings
from console.venues.kit.scrubber import VenueScrubber
from console.venues.pipai.client import PipAIClient
from console.venues.pipai.feed import FAST_RESYNC_AT_MOST, StatusStream
from console.venues.pipai.wire import StreamFrame
from tests.support import RecordingSink, set_knobs, settings_for, sim_admin

IDLE_URL = "http://127.0.0.1:9"  # never called: the feeds below are not run
IDLE_WS = "ws://127.0.0.1:9/v1/ws"


@pytest.fixture
def sim_options() -> dict[str, Any]:
    return {"vendors": ("pipai",)}  # the other four simulated vendors are not needed here


class UpsertSink(RecordingSink):
    """Also remembers which targets were re-fetched one by one (upserts)."""

    def __init__(self) -> None:
        super().__init__()
        self.upserted: list[str] = []

    def upsert(self, targets: Iterable[Target]) -> None:
        targets = list(targets)
        self.upserted.extend(t.id for t in targets)
        super().upsert(targets)


@contextlib.asynccontextmanager
async def feeding(settings: VenueSettings, sink: RecordingSink) -> AsyncIterator[PipAIClient]:
    client = PipAIClient(settings)
    task = asyncio.create_task(client.run_feed(sink))
    try:
        yield client
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await client.aclose()


class OrderSink(RecordingSink):
    """Also keeps the order of snapshots and health marks: ``"snapshot"`` or a status."""

    def __init__(self) -> None:
        super().__init__()
        self.order: list[str] = []

    def snapshot(self, venue: str, targets: Iterable[Target]) -> None:
        self.order.append("snapshot")
        super().snapshot(venue, targets)

    def health(self, venue: str, status: FeedStatus, detail: str = "") -> None:
        self.order.append(status.value)
        super().health(venue, status, detail)

    def resynced_after_live(self, times: int) -> bool:
        """LIVE reported ``times`` times, and the list read since the last of them."""
        lives = [i for i, what in enumerate(self.order) if what == FeedStatus.LIVE.value]
        return len(lives) == times and "snapshot" in self.order[lives[-1] :]


def live_count(sink: RecordingSink) -> int:
    return sink.statuses.count(FeedStatus.LIVE)


def deployed(sim: SimServer) -> str:
    return str(sim_admin(sim, "pipai", "strategies", status="deployed")[0]["id"])


async def test_stream_goes_live_resyncs_and_counts_events(sim: SimServer) -> None:
    sink = RecordingSink()
    async with feeding(settings_for(sim, "pipai"), sink):
        await sink.wait_for(lambda s: live_count(s) == 1 and len(s.targets) == 30)
        moved = sim_admin(sim, "pipai", "tick", seconds=30, times=2)["ws_events"]
        assert moved > 0
        await sink.wait_for(lambda s: s.events >= moved)
    assert sink.events == moved
    assert any(attrs and "open_positions" in attrs for _, _, _, attrs in sink.patches)


async def test_lifecycle_event_patches_state_then_refetches(sim: SimServer) -> None:
    sid = deployed(sim)
    sink = UpsertSink()
    async with feeding(settings_for(sim, "pipai"), sink):
        await sink.wait_for(lambda s: live_count(s) == 1 and len(s.targets) == 30)
        sim_admin(sim, "pipai", "set_status", id=sid, status="error", message="margin call")
        await sink.wait_for(lambda s: sid in s.upserted)
    assert ("pipai", sid, State.ERROR, None) in sink.patches
    assert sink.targets[("pipai", sid)].state is State.ERROR


async def test_pause_with_close_positions_shows_on_the_feed(sim: SimServer) -> None:
    sid = deployed(sim)
    sim_admin(sim, "pipai", "set_positions", id=sid, count=3)
    sink = RecordingSink()
    async with feeding(settings_for(sim, "pipai"), sink) as client:
        await sink.wait_for(lambda s: live_count(s) == 1 and len(s.targets) == 30)
        outcome = await client.execute(sid, Action(ActionKind.PAUSE, {"close_positions": True}))
        assert outcome.kind is OutcomeKind.APPLIED
        await sink.wait_for(lambda s: s.targets[("pipai", sid)].state is State.PAUSED)
    closes = [a for _, t, _, a in sink.patches if t == sid and a is not None]
    assert [a["open_positions"] for a in closes] == [2, 1, 0]
    assert sink.targets[("pipai", sid)].attrs["open_positions"] == 0


async def test_reconnects_and_resyncs_after_the_stream_drops(sim: SimServer) -> None:
    sink = OrderSink()
    async with feeding(settings_for(sim, "pipai"), sink):
        await sink.wait_for(lambda s: s.resynced_after_live(1))
        r = await asyncio.to_thread(
            httpx.post,
            f"{sim.root_url('pipai')}/_sim/drop-websockets",
            trust_env=False,
            verify=False,
        )
        assert r.json()["dropped"] == 1
        await sink.wait_for(lambda s: s.resynced_after_live(2))
    reconnecting = [d for _, st, d in sink.healths if st is FeedStatus.RECONNECTING]
    assert reconnecting
    assert "dropped" in reconnecting[0]


async def test_bad_secret_is_a_feed_error_without_secrets(sim: SimServer) -> None:
    good = sim.vendors["pipai"].credentials()
    wrong = "sk_definitely_wrong_secret_42"
    creds = {"api_key": Secret(good["api_key"]), "api_secret": Secret(wrong)}
    sink = RecordingSink()
    async with feeding(settings_for(sim, "pipai", credentials=creds), sink):
        await sink.wait_for(lambda s: any("INVALID_SIGNATURE" in d for _, _, d in s.healths))
    assert FeedStatus.LIVE not in sink.statuses
    for _, _, detail in sink.healths:
        assert wrong not in detail
        assert good["api_key"] not in detail


async def test_down_venue_reports_down(sim: SimServer) -> None:
    set_knobs(sim, "pipai", down=True)
    sink = RecordingSink()
    async with feeding(settings_for(sim, "pipai"), sink):
        await sink.wait_for(lambda s: FeedStatus.DOWN in s.statuses)
    assert not sink.targets
    assert any("HTTP" in d for _, st, d in sink.healths if st is not FeedStatus.CONNECTING)


async def test_event_rate_knob_is_counted(sim: SimServer) -> None:
    sink = RecordingSink()
    async with feeding(settings_for(sim, "pipai"), sink):
        await sink.wait_for(lambda s: live_count(s) == 1)
        set_knobs(sim, "pipai", event_rate=20000.0)
        await sink.wait_for(lambda s: s.events >= 5000)
        set_knobs(sim, "pipai", event_rate=0.0)


async def test_without_a_stream_url_it_polls(sim: SimServer) -> None:
    sink = RecordingSink()
    async with feeding(settings_for(sim, "pipai", ws_url=None), sink):
        await sink.wait_for(lambda s: FeedStatus.POLLING in s.statuses)
    assert len(sink.targets) == 30


def frame(seq: int, kind: str = "order_filled", **data: Any) -> StreamFrame:
    return StreamFrame.model_validate(
        {
            "op": "event",
            "channel": "strategy.status",
            "id": "strat_8f2a1b",
            "seq": seq,
            "event": {"id": f"evt_{seq:010x}", "type": kind, "created_at": "x", "data": data},
        }
    )


def idle_stream(sink: RecordingSink) -> StatusStream:
    """A stream that is never run, on a loopback address nothing answers."""
    settings = VenueSettings(name="pipai", api="pipai", base_url=IDLE_URL, ws_url=IDLE_WS)

    async def nothing() -> list[Target]:
        return []

    async def none(target_id: str) -> Target | None:
        return None

    return StatusStream(
        settings, sink, list_all=nothing, read_one=none, auth_frame=dict, scrubber=VenueScrubber()
    )


async def test_a_gap_in_seq_asks_for_a_resync() -> None:
    sink = RecordingSink()
    stream = idle_stream(sink)
    stream._handle(frame(1))
    stream._handle(frame(2, "position_closed", open_positions=1, total_pnl="1.00"))
    assert not stream._resync_soon.is_set()
    stream._handle(frame(4))
    assert stream._resync_soon.is_set()
    assert sink.events == 3
    assert sink.patches == [("pipai", "strat_8f2a1b", None, {"open_positions": 1, "pnl": "1.00"})]


# ----- one health mark, folded as 55-tech's -------------------------------------------
def fiftyfive_feed(sink: RecordingSink) -> _Feed:
    """55-tech's feed with one key (one stream), not running: its health fold only."""
    key = Secret("3f1c2a9e-8b7d-4c55-9e61-0a2b3c4d5e6f")
    settings = VenueSettings(
        name="pipai", api="55tech", base_url=IDLE_URL, credentials={"api_keys": key}
    )
    return _Feed(FiftyFiveClient(settings), sink)


async def test_health_folds_the_poll_and_the_stream_as_55techs_does() -> None:
    """The same reports from the poller and the stream give PipAI the marks and words
    they give 55-tech (one key, one stream), but for what is still polled."""
    reports = [
        ("poll", FeedStatus.CONNECTING, ""),
        ("stream", FeedStatus.CONNECTING, ""),
        ("poll", FeedStatus.POLLING, ""),
        ("stream", FeedStatus.LIVE, ""),
        ("stream", FeedStatus.RECONNECTING, "PipAI stream dropped (close code 1012); reconnecting"),
        ("stream", FeedStatus.DOWN, f"cannot reach PipAI stream at {IDLE_WS}: OSError refused"),
        ("poll", FeedStatus.DOWN, "PipAI answered HTTP 503 when listing strategies"),
        ("poll", FeedStatus.POLLING, ""),
        ("stream", FeedStatus.LIVE, ""),
    ]
    pipai, fiftyfive = RecordingSink(), RecordingSink()
    stream, other = idle_stream(pipai), fiftyfive_feed(fiftyfive)
    for source, status, detail in reports:
        for fold in (stream.health, other.health):
            sink = fold.poll_sink() if source == "poll" else fold.stream_sink(0)
            sink.health("pipai", status, detail)
    theirs = [
        (v, st, d.replace("engine state", "strategy status (read every 2 s)"))
        for v, st, d in fiftyfive.healths
    ]
    assert pipai.healths == theirs
    connecting, polling, live = FeedStatus.CONNECTING, FeedStatus.POLLING, FeedStatus.LIVE
    down, reconnecting = FeedStatus.DOWN, FeedStatus.RECONNECTING
    assert pipai.statuses == [connecting, polling, live, reconnecting, polling, down, polling, live]
    assert pipai.healths[3:6] == [
        (
            "pipai",
            FeedStatus.RECONNECTING,
            "stream reconnecting: PipAI stream dropped (close code 1012); reconnecting",
        ),
        (
            "pipai",
            FeedStatus.POLLING,
            f"stream down (cannot reach PipAI stream at {IDLE_WS}: OSError refused); "
            "strategy status (read every 2 s) still polled",
        ),
        ("pipai", FeedStatus.DOWN, "PipAI answered HTTP 503 when listing strategies"),
    ]
    await other.client.aclose()


async def test_stream_down_while_the_list_reads_is_polling_saying_so(sim: SimServer) -> None:
    """No stream to be had (nothing listens at the stream's address) while the REST list
    answers: the venue shows POLLING in 55-tech's words, with every strategy."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as closed:
        closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        ws_url = f"ws://127.0.0.1:{closed.getsockname()[1]}/v1/ws"
        sink = RecordingSink()
        async with feeding(settings_for(sim, "pipai", ws_url=ws_url), sink):
            await sink.wait_for(
                lambda s: (
                    len(s.targets) == 30
                    and s.statuses[-1:] == [FeedStatus.POLLING]
                    and "down" in s.healths[-1][2]
                )
            )
    status, detail = sink.healths[-1][1:]
    assert status is FeedStatus.POLLING
    assert detail.startswith(f"stream down (cannot reach PipAI stream at {ws_url}: ")
    assert detail.endswith("); strategy status (read every 0.2 s) still polled")
    assert FeedStatus.DOWN not in sink.statuses and FeedStatus.LIVE not in sink.statuses
    assert len(sink.targets) == 30


def test_the_list_is_read_at_the_poll_interval_while_the_stream_is_down() -> None:
    """A stream that never comes up (refused, or another protocol) left even a short
    list read every 10 × the poll interval (20 s) while the mark said POLLING; a long
    list keeps that cadence (its pages would spend the weight budget a kill needs), and
    the mark says how often (session 16)."""
    settings = VenueSettings(name="pipai", api="pipai", base_url="http://127.0.0.1:9",
                             ws_url="ws://127.0.0.1:9/v1/ws", poll_interval_s=2.0)  # fmt: skip
    stream = StatusStream(
        settings,
        RecordingSink(),
        list_all=_nothing_listed,
        read_one=_nothing_read,
        auth_frame=dict,
        scrubber=VenueScrubber([]),
    )
    stream._listed = {f"strat_{i}" for i in range(FAST_RESYNC_AT_MOST)}
    assert stream.resync_interval_s(live=True) == 20.0
    assert stream.resync_interval_s(live=False) == 2.0
    assert stream._polled() == "strategy status (read every 2 s)"
    stream._listed.add("strat_one_more")
    assert stream.resync_interval_s(live=False) == 20.0
    assert stream._polled() == "strategy status (read every 20 s)"


async def _nothing_listed() -> list[Target]:
    return []


async def _nothing_read(strategy_id: str) -> Target | None:
    return None
