"""55-tech feed against the real simulator: REST polling, the stream, resyncs, health."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest

from console.core.model import State
from console.sim.server import SimServer
from console.venues.fiftyfive.client import FiftyFiveClient
from console.venues.fiftyfive.feed import _Conn, _Feed
from console.venues.fiftyfive.wire import TradingStatus
from console.venues.kit.base import FeedStatus, Secret, VenueSettings
from console.venues.kit.health import HealthFold
from tests.support import RecordingSink, set_knobs, settings_for, sim_admin

API = "55tech"


@pytest.fixture
def sim_options() -> dict[str, Any]:
    return {"vendors": (API,)}


def keys(sim: SimServer) -> list[str]:
    return sim.vendors[API].credentials()["api_keys"].split(",")


@contextlib.asynccontextmanager
async def feeding(settings: VenueSettings, sink: RecordingSink) -> AsyncIterator[FiftyFiveClient]:
    """Run the client's feed for the block; it must end only by cancellation."""
    client = FiftyFiveClient(settings)
    task = asyncio.create_task(client.run_feed(sink))
    try:
        yield client
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        assert task.cancelled()
        await client.aclose()


def live(sink: RecordingSink) -> bool:
    return bool(sink.healths) and sink.healths[-1][1] is FeedStatus.LIVE


def last_health(sink: RecordingSink) -> tuple[FeedStatus, str]:
    return sink.healths[-1][1], sink.healths[-1][2]


async def test_feed_goes_live_with_every_engine_and_one_stream_per_key(
    sim: SimServer, sink: RecordingSink
) -> None:
    async with feeding(settings_for(sim, API), sink):
        await sink.wait_for(lambda s: live(s) and len(s.targets) == 4)
        subscriptions = sim_admin(sim, API, "subscriptions")
    assert sorted(subscriptions.values()) == [1, 1, 1, 1]
    assert set(subscriptions) == {t.id for t in sink.targets.values()}
    assert sink.statuses[0] is FeedStatus.CONNECTING


async def test_order_events_are_counted_and_patched_per_engine(
    sim: SimServer, sink: RecordingSink
) -> None:
    async with feeding(settings_for(sim, API), sink):
        await sink.wait_for(lambda s: live(s) and len(s.targets) == 4)
        engine = next(t.id for t in sink.targets.values() if t.raw_status == "live")
        sim_admin(sim, API, "place_orders", client=engine, count=3)
        sim_admin(sim, API, "fill_orders", client=engine)
        await sink.wait_for(lambda s: s.targets[(API, engine)].attrs.get("orders_seen") == 6)
        assert sink.events >= 6
        others = [t for t in sink.targets.values() if t.id != engine]
        assert all(t.attrs["orders_seen"] == 0 for t in others)


async def test_emergency_broadcast_resyncs_every_engine_at_once(
    sim: SimServer, sink: RecordingSink
) -> None:
    # A minute between polls: only the broadcast can explain a prompt resync.
    async with feeding(settings_for(sim, API, poll_interval_s=60.0), sink):
        await sink.wait_for(lambda s: live(s) and len(s.targets) == 4)
        sim_admin(sim, API, "emergency", active=True, reason="Exchange outage")
        await sink.wait_for(lambda s: all(t.raw_status == "emergency" for t in s.targets.values()))
    target = next(iter(sink.targets.values()))
    assert target.state is State.STOPPED
    assert target.attrs["system_reason"] == "Exchange outage"
    assert target.attrs["status_words"] == "EMERGENCY"


async def test_stream_reconnects_after_a_drop_and_resyncs_from_rest(
    sim: SimServer, sink: RecordingSink
) -> None:
    async with feeding(settings_for(sim, API, poll_interval_s=60.0), sink):
        await sink.wait_for(lambda s: live(s) and len(s.targets) == 4)
        engine = next(t.id for t in sink.targets.values() if t.raw_status == "live")
        key = next(k for k in keys(sim) if sim.vendors[API].world.by_key[k].client == engine)  # type: ignore[attr-defined]
        # Paused behind the feed's back; the next poll is a minute away.
        async with httpx.AsyncClient(trust_env=False, verify=False) as http:
            paused = await http.post(
                f"{sim.base_url(API)}/api/v1/trading/pause", headers={"X-API-Key": key}
            )
            dropped = await http.post(f"{sim.root_url(API)}/_sim/drop-websockets")
        assert paused.json()["result"] == "pause_applied"
        assert dropped.json()["dropped"] == 4
        await sink.wait_for(lambda s: FeedStatus.RECONNECTING in s.statuses)
        await sink.wait_for(lambda s: live(s) and s.targets[(API, engine)].state is State.PAUSED)
        assert sum(sim_admin(sim, API, "subscriptions").values()) == 4


async def test_streams_dropped_by_the_venue_come_back_live(
    sim: SimServer, sink: RecordingSink
) -> None:
    async with feeding(settings_for(sim, API), sink):
        await sink.wait_for(lambda s: live(s) and len(s.targets) == 4)
        set_knobs(sim, API, ws_drop_after_s=0.3)
        await sink.wait_for(lambda s: s.statuses[-1] is FeedStatus.RECONNECTING)
        set_knobs(sim, API, ws_drop_after_s=0.0)
        await sink.wait_for(live)
    reconnecting = next(h for h in sink.healths if h[1] is FeedStatus.RECONNECTING)
    assert "simulated drop" in reconnecting[2]


async def test_down_venue_is_reported_down_in_its_own_words(
    sim: SimServer, sink: RecordingSink
) -> None:
    set_knobs(sim, API, down=True)
    async with feeding(settings_for(sim, API), sink):
        await sink.wait_for(lambda s: bool(s.healths) and s.healths[-1][1] is FeedStatus.DOWN)
        detail = last_health(sink)[1]
    assert "503" in detail
    assert "Service unavailable" in detail
    assert sink.targets == {}


async def test_refused_key_is_reported_without_the_key(sim: SimServer, sink: RecordingSink) -> None:
    stranger = str(uuid.UUID(int=777, version=4))
    settings = replace(settings_for(sim, API), credentials={"api_keys": Secret(stranger)})
    async with feeding(settings, sink):
        await sink.wait_for(lambda s: bool(s.healths) and s.healths[-1][1] is FeedStatus.DOWN)
        detail = last_health(sink)[1]
    assert "refused the API key" in detail
    assert all(stranger not in h[2] for h in sink.healths)


async def test_malformed_reads_put_the_feed_down_saying_so(
    sim: SimServer, sink: RecordingSink
) -> None:
    set_knobs(sim, API, malformed_rate=1.0)
    async with feeding(settings_for(sim, API), sink):
        await sink.wait_for(lambda s: bool(s.healths) and s.healths[-1][1] is FeedStatus.DOWN)
        detail = last_health(sink)[1]
    assert "malformed JSON" in detail


async def test_unknown_status_reaches_the_sink_as_unknown(
    sim: SimServer, sink: RecordingSink
) -> None:
    set_knobs(sim, API, unknown_status_rate=1.0)
    async with feeding(settings_for(sim, API), sink):
        await sink.wait_for(lambda s: len(s.targets) == 4)
    assert {t.state for t in sink.targets.values()} == {State.UNKNOWN}
    assert {t.raw_status for t in sink.targets.values()} == {"hibernating"}


async def test_event_rate_events_are_all_counted(sim: SimServer, sink: RecordingSink) -> None:
    one_key = replace(settings_for(sim, API), credentials={"api_keys": Secret(keys(sim)[0])})
    async with feeding(one_key, sink):
        await sink.wait_for(lambda s: live(s) and len(s.targets) == 1)
        set_knobs(sim, API, event_rate=20_000)
        await sink.wait_for(lambda s: s.events >= 5_000)
        set_knobs(sim, API, event_rate=0)
    (target,) = sink.targets.values()
    assert isinstance(target.attrs["orders_seen"], int)
    assert target.attrs["orders_seen"] >= 5_000


async def test_orders_reach_the_client_counter_only_with_the_sink_told_of_them() -> None:
    """The cause of a flake: the feed wrote each order into the client's counter at once
    and told the sink at its next flush, so a poll in between snapshotted counts the sink
    had not heard of (``orders_seen`` 6 while ``events`` was 0). Counter and sink move
    together, in the flush."""
    settings = VenueSettings(
        name=API,
        api=API,
        base_url="http://55tech.test",
        credentials={"api_keys": Secret("3f1c2a9e-8b7d-4c55-9e61-0a2b3c4d5e6f")},
    )
    client = FiftyFiveClient(settings)
    sink = RecordingSink()
    feed = _Feed(client, sink)
    status = TradingStatus.model_validate(
        {
            "client": "alpha",
            "clientName": "Alpha",
            "status": "live",
            "tradingActive": True,
            "manualPaused": False,
            "manualStopped": False,
        }
    )
    client.ids.learn({0: "alpha"})
    conn = _Conn(0, last_rx=0.0)
    for _ in range(3):
        feed._on_frame(conn, '{"type": "broadcast", "channel": "orders"}')
    polled = client.to_target(status, 0)  # what a poll landing now would snapshot
    assert polled.attrs["orders_seen"] == sink.events == 0
    feed._flush()
    polled = client.to_target(status, 0)
    assert polled.attrs["orders_seen"] == sink.events == 3
    assert sink.patches == [(API, "alpha", None, {"orders_seen": 3})]
    await client.aclose()


def test_health_folds_poller_and_streams_into_one_mark() -> None:
    sink = RecordingSink()
    health = HealthFold(sink, API, streams=2)
    health.set_poll(FeedStatus.POLLING)
    assert sink.statuses[-1] is FeedStatus.POLLING
    health.set_stream(0, FeedStatus.LIVE)
    health.set_stream(1, FeedStatus.LIVE)
    assert sink.statuses[-1] is FeedStatus.LIVE
    health.set_stream(1, FeedStatus.RECONNECTING, "received 1011")
    assert sink.healths[-1][1:] == (
        FeedStatus.RECONNECTING,
        "1 of 2 streams reconnecting: received 1011",
    )
    health.set_stream(1, FeedStatus.DOWN, "refused")
    assert sink.statuses[-1] is FeedStatus.POLLING
    health.set_poll(FeedStatus.DOWN, "55-tech answered 503")
    assert sink.healths[-1][1:] == (FeedStatus.DOWN, "55-tech answered 503")
    count = len(sink.healths)
    health.set_poll(FeedStatus.DOWN, "55-tech answered 503")
    assert len(sink.healths) == count  # unchanged marks are not repeated


async def test_an_engine_never_read_comes_by_its_position_and_stays_one_row(
    sim: SimServer, sink: RecordingSink
) -> None:
    """A key whose status reads fail from the start while the others answer: the feed
    delivers its engine UNKNOWN as ``key #1`` (a kill from the panel stops it too), and
    once the key answers, that same row reads the engine — never a second row."""
    set_knobs(sim, API, failing_status_keys=1)
    async with feeding(settings_for(sim, API), sink):
        await sink.wait_for(lambda s: (API, "key #1") in s.targets and len(s.targets) == 4)
        assert sink.targets[(API, "key #1")].state is State.UNKNOWN
        assert any(h[1] is FeedStatus.DOWN and "key #1: " in h[2] for h in sink.healths)
        set_knobs(sim, API, failing_status_keys=0)
        await sink.wait_for(lambda s: s.targets[(API, "key #1")].state is not State.UNKNOWN)
        assert len(sink.targets) == 4


async def test_an_engine_whose_status_read_starts_failing_reads_unknown_saying_why(
    sim: SimServer, sink: RecordingSink
) -> None:
    """An engine read before, whose key's status read then fails while the others
    answer: the panel's feed delivers it UNKNOWN with its last read in words, as a kill's
    list and ``status`` have it — not its last state under the venue's age (the panel
    said "MANUAL PAUSED 1s?" of an engine not read for a minute). Back to its own state
    once the key answers. Fails on the code before (the row kept its last state)."""
    async with feeding(settings_for(sim, API), sink):
        await sink.wait_for(lambda s: live(s) and len(s.targets) == 4)
        first = sorted(sink.targets.values(), key=lambda t: t.id)
        before = {t.id: t.state for t in first}
        set_knobs(sim, API, failing_status_keys=1)
        failing = [t for t in sink.targets.values() if t.state is State.UNKNOWN]
        await sink.wait_for(
            lambda s: sum(t.state is State.UNKNOWN for t in s.targets.values()) == 1
        )
        [unread] = [t for t in sink.targets.values() if t.state is State.UNKNOWN]
        assert failing == [] and unread.raw_status == "unread"
        warning = str(unread.attrs["warning"])
        assert "could not be read now" in warning and "last read: " in warning
        assert len(sink.targets) == 4  # the same row, not a second one
        set_knobs(sim, API, failing_status_keys=0)
        await sink.wait_for(lambda s: s.targets[unread.key].state is before[unread.id])
