"""55-tech against the simulator's hostile knobs, over loopback (issue 11).

Each case is what a misbehaving venue was seen to do: keys sharing a slug, revoked keys,
an echoed key, a Retry-After of an hour, answers of the wrong shape, one bad row,
terminal escapes in names. The client must address every engine it can, name the ones
it cannot, never leak a key, and never wait past the cap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from console.core.journal import Journal
from console.core.kill import build_kill_plan
from console.core.model import Action, ActionKind, OutcomeKind, State
from console.core.scrub import printable
from console.core.session import Session, SessionOptions
from console.sim.fiftyfive.api import FiftyFiveSim
from console.sim.server import SimServer
from console.venues.fiftyfive.client import FiftyFiveClient
from console.venues.fiftyfive.mapping import KeyIds
from console.venues.kit.base import FeedStatus, Secret, VenueSettings
from console.venues.kit.feeds import FeedError, Unreadable
from console.venues.registry import session_for
from tests.support import RecordingSink, set_knobs, settings_for, sim_admin, sim_counters
from tests.venues import sim_clients
from tests.venues.sim_clients import FiftyFiveMaker as Maker

API = "55tech"
FOUR = {"vendors": (API,)}
EIGHT = {"vendors": (API,), "scale": 2}
FAST = {"vendors": (API,), "knobs": {API: {"rate_scale": 0.01}}}


@pytest.fixture
def sim_options() -> dict[str, Any]:
    return FOUR


clients = sim_clients.fiftyfive_clients
make_client = sim_clients.fiftyfive_maker


def world(sim: SimServer) -> FiftyFiveSim:
    vendor = sim.vendors[API]
    assert isinstance(vendor, FiftyFiveSim)
    return vendor


def keys(sim: SimServer) -> list[str]:
    return sim.vendors[API].credentials()["api_keys"].split(",")


def assert_no_key(sim: SimServer, *texts: object) -> None:
    """No key, nor a piece of one (a log line may cut a key short), in any of ``texts``."""
    for text in texts:
        for key in keys(sim):
            for piece in (key, key[:8], key[-12:]):
                assert piece not in str(text or ""), "an API key leaked"


@contextlib.asynccontextmanager
async def session_of(sim: SimServer, tmp_path: Path, **overrides: Any) -> AsyncIterator[Session]:
    journal = Journal(tmp_path / "journal.sqlite3", profile="sim")
    session = session_for(
        SessionOptions(profile="sim", label="SIM"), [settings_for(sim, API, **overrides)], journal
    )
    try:
        yield session
    finally:
        await session.aclose()


# ----- 1. several keys answering with one slug ------------------------------------------------
async def test_duplicate_slug_lists_every_key_as_its_own_engine(
    sim: SimServer, make_client: Maker
) -> None:
    set_knobs(sim, API, duplicate_slug=True)
    slug = world(sim).world.engines[0].client
    client = make_client()
    targets = await client.list_targets()
    assert [t.id for t in targets] == [f"{slug}@key{n}" for n in (1, 2, 3, 4)]
    assert {t.attrs["client"] for t in targets} == {slug}
    assert [t.attrs["key_no"] for t in targets] == [1, 2, 3, 4]
    for target in targets:
        assert f"4 keys answer as client '{slug}'" in str(target.attrs["warning"])
    assert client.skipped_rows == []
    # Ids stay put read after read, and each one reads its own key's engine.
    again = await client.list_targets()
    assert [t.id for t in again] == [t.id for t in targets]
    for target in targets:
        one = await client.read_target(target.id)
        assert one is not None
        assert (one.id, one.name) == (target.id, target.name)
    # The bare slug is no engine of its own: refused, naming the engines, nothing sent.
    assert await client.read_target(slug) is None
    refused = await client.execute(slug, Action(ActionKind.STOP))
    assert refused.kind is OutcomeKind.REJECTED
    assert f"{slug}@key2" in refused.message
    assert sim_counters(sim, API).get("control_stop") is None
    assert_no_key(sim, refused.message, *(t.attrs for t in targets))


async def test_duplicate_slug_kill_stops_and_verifies_every_engine(
    sim: SimServer, tmp_path: Path
) -> None:
    set_knobs(sim, API, duplicate_slug=True)
    engines = world(sim).world.engines
    running = sum(1 for e in engines if not e.manual_stopped)
    assert running == 3  # the seeded world: one engine already manually stopped
    async with session_of(sim, tmp_path) as session:
        assert await session.refresh() == {}
        kp = build_kill_plan(session.store, session.clients, reason="drill")
        assert len(kp.plan) == running
        assert len({i.target_id for i in kp.plan.items}) == running
        report = await session.dispatcher.run(kp.plan)
        assert report.all_verified, report.summary()
        assert kp.complete
    # Every key's engine got its own stop: none merged, none left running.
    assert sim_counters(sim, API)["control_stop"] == running
    assert all(e.manual_stopped for e in engines)


def test_key_ids_are_fixed_once_given_and_never_the_key() -> None:
    ids = KeyIds(4)
    ids.learn({0: "acme"})
    assert ids.id_of(0) == "acme"
    # A second key later answering as acme does not take the first one's id.
    ids.learn({1: "acme", 2: "bolt"})
    assert (ids.id_of(0), ids.id_of(1), ids.id_of(2)) == ("acme", "acme@key2", "bolt")
    assert ids.duplicates() == {"acme": [0, 1]}
    assert "2 keys answer as client 'acme' (api_keys #1, #2)" in str(ids.warning("acme"))
    assert ids.warning("bolt") is None
    # Keys first read together with one slug are each named by their position.
    fresh = KeyIds(3)
    fresh.learn({0: "x", 1: "x", 2: "x"})
    assert [fresh.id_of(i) for i in range(3)] == ["x@key1", "x@key2", "x@key3"]
    assert fresh.index_of("x") is None
    assert fresh.index_of("x@key3") == 2
    # A key answering with a new slug is renamed; its old id is freed.
    ids.learn({2: "crux"})
    assert (ids.id_of(2), ids.index_of("bolt"), ids.row_id(3)) == ("crux", None, "key #4")


# ----- 2. revoked keys -------------------------------------------------------------------------
@pytest.mark.parametrize("sim_options", [EIGHT])
async def test_revoked_keys_fail_their_own_engines_only(sim: SimServer, make_client: Maker) -> None:
    set_knobs(sim, API, revoked_keys=3)
    client = make_client()
    targets = await client.list_targets()
    engines = world(sim).world.engines
    assert sorted(t.id for t in targets) == sorted(e.client for e in engines[3:])
    assert len(client.skipped_rows) == 3
    for n, row in enumerate(client.skipped_rows, start=1):
        assert row.startswith(f"key #{n}: ")
        assert f"refused the API key for API key #{n} of 8 (401" in row
    assert_no_key(sim, *client.skipped_rows)


@pytest.mark.parametrize("sim_options", [EIGHT])
async def test_revoked_keys_of_known_engines_are_named_by_id_and_refuse_only_themselves(
    sim: SimServer, make_client: Maker
) -> None:
    client = make_client()
    before = await client.list_targets()
    set_knobs(sim, API, revoked_keys=1)
    after = await client.list_targets()
    first = before[0].id
    assert sorted(t.id for t in after) == sorted(t.id for t in before)
    [row] = client.skipped_rows
    assert row.startswith(f"{first}: ")
    # Its engine is kept, UNKNOWN, saying why, its age the last read's: dropped, it
    # vanished from the panel and from a kill's plan while its key's reads failed.
    [kept] = [t for t in after if t.id == first]
    assert (kept.state, kept.confirmed_at) == (State.UNKNOWN, before[0].confirmed_at)
    assert "its status could not be read now" in str(kept.attrs["warning"])
    assert f"last read: {before[0].raw_status}" in str(kept.attrs["warning"])
    # nothing of its state now is the last read's (its status word stood beside UNKNOWN)
    assert kept.attrs["status_words"] is None and kept.attrs["trading_active"] is None
    refused = await client.execute(first, Action(ActionKind.PAUSE))
    assert (refused.kind, refused.http_status) == (OutcomeKind.REJECTED, 401)
    paused = await client.execute(before[1].id, Action(ActionKind.PAUSE))
    assert paused.ok
    assert_no_key(sim, row, refused.message, paused.message)


@pytest.mark.parametrize("sim_options", [EIGHT])
async def test_revoked_key_kill_halts_the_seven_others_and_names_the_eighth(
    sim: SimServer, tmp_path: Path
) -> None:
    set_knobs(sim, API, revoked_keys=1)
    engines = world(sim).world.engines
    async with session_of(sim, tmp_path) as session:
        assert await session.refresh() == {}
        kp = build_kill_plan(session.store, session.clients, reason="drill")
        assert not kp.complete
        [rows] = kp.skipped.values()
        assert len(rows) == 1 and rows[0].startswith("key #1: ")
        report = await session.dispatcher.run(kp.plan)
        assert report.all_verified, report.summary()
        assert_no_key(sim, *rows, *(r.outcome.message for r in report.results.values()))
    assert all(e.manual_stopped for e in engines[1:])
    assert sim_counters(sim, API)["control_stop"] == sum(
        1 for i in kp.plan.items if i.action.kind is ActionKind.STOP
    )


@pytest.mark.parametrize("sim_options", [EIGHT])
async def test_an_engine_whose_reads_start_failing_stays_in_the_kill(
    sim: SimServer, tmp_path: Path
) -> None:
    """Read once, then its key's reads fail: the console's kill still addresses the
    engine (planned from its last read) and says what the venue answered."""
    async with session_of(sim, tmp_path) as session:
        first = world(sim).world.engines[0].client  # the key the knob revokes
        started = await session.clients[API].execute(first, Action(ActionKind.START))
        assert started.ok, started.message
        assert await session.refresh() == {}
        planned = {i.target_id for i in build_kill_plan(session.store, session.clients).plan.items}
        assert first in planned
        set_knobs(sim, API, revoked_keys=1)
        assert await session.refresh() == {}
        kp = build_kill_plan(session.store, session.clients, reason="drill")
        assert {i.target_id for i in kp.plan.items} == planned  # none vanished
        [rows] = kp.skipped.values()  # and the failed read is named
        assert rows[0].startswith(f"{first}: ")
        report = await session.dispatcher.run(kp.plan)
    refused = report.results[("55tech", first)].outcome
    assert (refused.kind, refused.http_status) == (OutcomeKind.REJECTED, 401)  # its words
    assert all(r.halted for (_, tid), r in report.results.items() if tid != first)


async def test_every_key_refused_raises_rather_than_listing_nothing(
    sim: SimServer, make_client: Maker
) -> None:
    set_knobs(sim, API, revoked_keys=4)
    client = make_client()
    with pytest.raises(FeedError) as info:
        await client.list_targets()
    assert not isinstance(info.value, Unreadable)
    assert "4 of 4 engines could not be read" in str(info.value)


async def test_a_key_never_read_whose_status_fails_is_still_stopped_by_a_fresh_kill(
    sim: SimServer, tmp_path: Path
) -> None:
    """One client's status endpoint answers 500 from the first read on (its stop still
    works): a fresh kill lists its engine by the key's position, UNKNOWN, sends it the
    stop by its key and says the re-read could not confirm it — never ALL HALTED."""
    set_knobs(sim, API, failing_status_keys=1)
    engines = world(sim).world.engines
    async with session_of(sim, tmp_path) as session:
        assert await session.refresh() == {}
        [unread] = [t for t in session.store.targets(API) if t.id == "key #1"]
        assert (unread.state, unread.raw_status) == (State.UNKNOWN, "unread")
        assert "500" in str(unread.attrs["warning"])
        started = await session.clients[API].execute("key #1", Action(ActionKind.START))
        assert started.ok and not engines[0].manual_stopped, started.message
        kp = build_kill_plan(session.store, session.clients, reason="drill")
        [rows] = kp.skipped.values()
        assert rows[0].startswith("key #1: ") and "500" in rows[0]
        report = await session.dispatcher.run(kp.plan)
        result = report.results[(API, "key #1")]
        assert result.outcome.kind is OutcomeKind.APPLIED, result.outcome.message
        said = f"Engine 'key #1' (client '{engines[0].client}') stopped"  # as it answered
        assert said in result.outcome.message, result.outcome.message
        assert not result.verified and not report.all_verified  # its re-read failed
        [verify] = [e for e in session.journal.entries()
                    if e.kind == "verify" and e.target_id == "key #1"]  # fmt: skip
        assert "has not been read since the console started (" in str(verify.message)  # why
        others = [r for k, r in report.results.items() if k != (API, "key #1")]
        assert others and all(r.verified for r in others), report.summary()
        assert_no_key(sim, *rows, *(r.outcome.message for r in report.results.values()))
    assert engines[0].manual_stopped  # the stop landed


async def test_a_key_listed_by_its_position_keeps_that_id_once_it_answers(
    sim: SimServer, make_client: Maker
) -> None:
    """The id a kill planned and journaled with stays the engine's id: it calls and
    verifies by it, and a panel's row of it is the same row once its key answers."""
    set_knobs(sim, API, failing_status_keys=1)
    client = make_client()
    assert "key #1" in {t.id for t in await client.list_targets()}
    set_knobs(sim, API, failing_status_keys=0)
    targets = {t.id: t for t in await client.list_targets()}
    first = world(sim).world.engines[0]
    assert len(targets) == 4 and client.skipped_rows == []
    read = targets["key #1"]
    assert (read.name, read.attrs["client"]) == (first.name, first.client)
    assert read.state is not State.UNKNOWN and read.raw_status != "unread"
    assert first.client not in targets  # one row per engine, never two
    again = await client.read_target("key #1")
    assert again is not None and again.id == "key #1"
    paused = await client.execute("key #1", Action(ActionKind.PAUSE))
    assert paused.ok, paused.message
    assert first.manual_paused
    stopped = first.manual_stopped
    flipped = Action(ActionKind.START if stopped else ActionKind.STOP)
    by_slug = await client.execute(first.client, flipped)  # found by its slug, too
    assert by_slug.ok and "engine 'key #1'" in by_slug.message.lower(), by_slug.message
    assert first.manual_stopped is not stopped


async def test_a_venue_failing_every_status_read_is_named_not_listed(
    sim: SimServer, make_client: Maker
) -> None:
    """Every key's status read answers 500: nothing answered, so nothing is listed —
    the venue is named (a kill reports it unreachable), not drawn as engines of which
    nothing could be read."""
    set_knobs(sim, API, failing_status_keys=4)
    client = make_client()
    with pytest.raises(FeedError) as info:
        await client.list_targets()
    assert "4 of 4 engines could not be read" in str(info.value) and "500" in str(info.value)


async def test_a_key_that_cannot_connect_or_is_refused_is_named_not_listed(
    sim: SimServer, make_client: Maker
) -> None:
    """A never-read key refused (401) would have its stop refused too: named only."""
    set_knobs(sim, API, revoked_keys=1)
    client = make_client()
    targets = await client.list_targets()
    assert len(targets) == 3 and not any(t.id.startswith("key #") for t in targets)
    [row] = client.skipped_rows
    assert row.startswith("key #1: ") and "401" in row


# ----- 3. a venue echoing the key ----------------------------------------------------------------
async def test_echoed_key_never_reaches_a_row_an_error_or_an_outcome(
    sim: SimServer, make_client: Maker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client()
    targets = await client.list_targets()
    stopped = targets[1]
    assert (await client.execute(stopped.id, Action(ActionKind.STOP))).ok
    set_knobs(sim, API, echo_secret=True, revoked_keys=1, conflict_mode=True)
    await client.list_targets()
    [row] = client.skipped_rows
    assert "***" in row  # the venue's words are kept, the key masked
    refused = await client.execute(targets[0].id, Action(ActionKind.STOP))
    assert refused.kind is OutcomeKind.REJECTED
    conflict = await client.execute(stopped.id, Action(ActionKind.STOP))
    assert conflict.kind is OutcomeKind.ALREADY
    assert "***" in conflict.message
    set_knobs(sim, API, revoked_keys=4)
    with pytest.raises(FeedError) as info:
        await client.list_targets()
    with pytest.raises(FeedError) as one:
        await client.read_target("no-such-client")
    texts = [row, refused.message, conflict.message, str(info.value), str(one.value)]
    texts += [r.getMessage() for r in caplog.records]
    assert_no_key(sim, *texts)


async def test_echoed_key_never_reaches_the_feed_health_or_a_log_line(
    sim: SimServer, sink: RecordingSink, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    set_knobs(sim, API, echo_secret=True, revoked_keys=1)
    client = FiftyFiveClient(settings_for(sim, API))
    task = asyncio.create_task(client.run_feed(sink))

    def refused(s: RecordingSink) -> bool:
        return any("refused the API key" in h[2] for h in s.healths) and len(s.targets) == 3

    # The stream's refusal is only logged (with REST down, the poller's words are shown).
    stream_refused = asyncio.Event()
    watcher = _Watch("subscription", stream_refused)
    logging.getLogger().addHandler(watcher)
    try:
        await sink.wait_for(refused)
        async with asyncio.timeout(10):
            await stream_refused.wait()
    finally:
        logging.getLogger().removeHandler(watcher)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await client.aclose()
    assert sink.healths[-1][1] is FeedStatus.DOWN
    assert "key #1: " in sink.healths[-1][2]
    stream = next(r.getMessage() for r in caplog.records if "subscription" in r.getMessage())
    assert "Invalid API key (apiKey ***)" in stream
    assert_no_key(sim, *(h[2] for h in sink.healths), *(r.getMessage() for r in caplog.records))


class _Watch(logging.Handler):
    """Sets ``event`` when a log line containing ``words`` is emitted (in the loop's thread)."""

    def __init__(self, words: str, event: asyncio.Event) -> None:
        super().__init__(logging.DEBUG)
        self.words = words
        self.event = event

    def emit(self, record: logging.LogRecord) -> None:
        if self.words in record.getMessage():
            self.event.set()


# ----- 4. Retry-After --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("retry_after", "words"),
    [
        ("3600", "asks to wait 1 h"),
        ("99999999", "asks to wait 1157 days"),
        ("inf", "asks to wait forever"),
        ("1e309", "asks to wait forever"),
        ("Fri, 31 Dec 9999 23:59:59 GMT", "asks to wait forever"),
    ],
)
async def test_a_retry_after_beyond_the_cap_fails_the_call_without_waiting(
    sim: SimServer, make_client: Maker, retry_after: str, words: str
) -> None:
    client = make_client()
    targets = await client.list_targets()
    engine = next(t.id for t in targets if t.raw_status == "live")
    set_knobs(sim, API, control_429=1, retry_after=retry_after)
    outcome = await client.execute(engine, Action(ActionKind.STOP))
    assert (outcome.kind, outcome.http_status) == (OutcomeKind.FAILED, 429)
    assert words in outcome.message
    assert "not waiting longer than 30 s" in outcome.message
    counters = sim_counters(sim, API)
    assert counters.get("control_stop") is None  # refused once, never re-sent
    assert counters["429"] == 1


@pytest.mark.parametrize("sim_options", [FAST])
async def test_a_short_retry_after_is_waited_and_the_call_lands(
    sim: SimServer, make_client: Maker
) -> None:
    client = make_client()
    targets = await client.list_targets()
    engine = next(t.id for t in targets if t.raw_status == "live")
    set_knobs(sim, API, control_429=1, retry_after="0.05")
    outcome = await client.execute(engine, Action(ActionKind.STOP))
    assert outcome.kind is OutcomeKind.APPLIED
    assert sim_counters(sim, API)["control_stop"] == 1


async def test_a_status_read_told_to_wait_an_hour_fails_that_engine_only(
    sim: SimServer, make_client: Maker
) -> None:
    client = make_client(retry_after_cap_s=0.5)
    set_knobs(sim, API, list_429=1, retry_after="3600")
    targets = await client.list_targets()
    assert len(targets) == 3
    [row] = client.skipped_rows
    assert "asks to wait 1 h" in row
    assert "not waiting longer than 0.5 s" in row


# ----- 5. answers of the wrong shape --------------------------------------------------------------
@pytest.mark.parametrize("body", ["{}", "EMPTY", "null", "[]", '{"client": 5}', '"live"'])
async def test_status_answers_without_the_documented_shape_are_unreadable(
    sim: SimServer, make_client: Maker, body: str
) -> None:
    client = make_client()
    set_knobs(sim, API, list_body=body)
    with pytest.raises(Unreadable) as info:
        await client.list_targets()
    assert "4 of 4 engines could not be read" in str(info.value)
    assert "not the documented status answer" in str(info.value)


async def test_deep_nesting_is_unreadable_and_a_huge_answer_is_not_read(
    sim: SimServer, make_client: Maker
) -> None:
    client = make_client(max_body_bytes=1_048_576)
    set_knobs(sim, API, deep_nesting=100_000)
    with pytest.raises(Unreadable, match=r"malformed JSON from venue .*(recursion|nested)"):
        await client.list_targets()
    set_knobs(sim, API, deep_nesting=0, huge_list_mb=2.0)
    with pytest.raises(FeedError, match="max_body_bytes"):
        await client.list_targets()


# ----- 6. one bad row, and names with terminal escapes ------------------------------------------
async def test_one_engine_with_an_impossible_field_fails_only_itself(
    sim: SimServer, make_client: Maker, tmp_path: Path
) -> None:
    client = make_client()
    set_knobs(sim, API, bad_row=True)
    targets = await client.list_targets()
    [row] = client.skipped_rows
    assert row.startswith("key #4: ")
    assert "manualStopped" in row
    assert "not the documented status answer" in row
    # The engine of the key whose answers cannot be read is listed UNKNOWN by its
    # position, never read: a kill still sends it a stop (which needs no read).
    [unread] = [t for t in targets if t.id == "key #4"]
    assert (len(targets), unread.state, unread.raw_status) == (4, State.UNKNOWN, "unread")
    assert "has not been read since the console started" in str(unread.attrs["warning"])
    engines = world(sim).world.engines
    async with session_of(sim, tmp_path) as session:
        await session.refresh()
        kp = build_kill_plan(session.store, session.clients)
        assert dict(kp.skipped) == {API: (row,)}
        assert (API, "key #4") in {(i.venue, i.target_id) for i in kp.plan.items}
        report = await session.dispatcher.run(kp.plan)
        assert not report.all_verified
        fourth = report.results[(API, "key #4")]
        assert fourth.outcome.kind is OutcomeKind.UNCERTAIN, fourth.outcome.message  # its
        assert not fourth.halted  # answer carries the impossible field too: not taken as done
        others = [r for k, r in report.results.items() if k != (API, "key #4")]
        assert others and all(r.verified for r in others), report.summary()
    assert all(e.manual_stopped for e in engines)


async def test_names_with_terminal_escapes_are_kept_as_data(
    sim: SimServer, make_client: Maker
) -> None:
    set_knobs(sim, API, escape_names=True)
    targets = await make_client().list_targets()
    names = {e.client: e.name for e in world(sim).world.engines}
    for target in targets:
        assert target.name.startswith("\x1b[2J\x1b]0;pwned\x07")
        assert printable(target.name) == names[target.id]
    admin = sim_admin(sim, API, "engines")
    assert {e["clientName"] for e in admin} == set(names.values())


def test_a_settings_object_never_prints_the_keys(sim: SimServer) -> None:
    settings: VenueSettings = settings_for(sim, API)
    settings = replace(settings, credentials={"api_keys": Secret(",".join(keys(sim)))})
    assert_no_key(sim, repr(settings), str(settings.credentials))
