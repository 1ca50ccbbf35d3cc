"""FinRadar's list read against a list that contradicts itself or moves, over loopback
(issue 11: the hostile tester's fr_empty_total, fr_dupid, fr_short_page, fr_shift).

Each test sets one of the simulator's paging knobs (console/sim/finradar/hostile.py) and
proves the read is never a silently shorter or cleaner list: no rows while ``meta.total``
counts some is unreadable; an id listed twice is named and never reads stopped while a
copy runs; a venue serving fewer rows than asked is read to ``meta.total``; a list that
moves between page reads is re-read, then incomplete. The last tests script a venue
(tests/venues/loopback.py) for what the simulator does not do: a list that settles on a
second read, a count that disagrees with the rows, no ``meta.total`` at all.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from console.core.model import Action, ActionKind, OutcomeKind, State
from console.sim.server import SimServer
from console.venues.finradar.client import FinRadarClient
from console.venues.kit.feeds import Incomplete, Unreadable
from tests.support import set_knobs, settings_for, sim_admin, sim_counters
from tests.venues import sim_clients
from tests.venues.test_finradar_wire import make_client, row

API = "finradar"
STOP = Action(ActionKind.STOP)


@pytest.fixture
def sim_options() -> dict[str, Any]:
    return {"vendors": (API,), "knobs": {API: {"rate_scale": 0.01}}}


client = sim_clients.finradar_client


def newest_first(sim: SimServer) -> list[str]:
    world = sim.vendors[API].world  # type: ignore[attr-defined]
    return [s.target_id for s in world.primary.newest_first()]


# ----- fr_empty_total: no rows, while meta.total counts 12 ------------------------------------
async def test_no_rows_while_the_total_counts_some_is_unreadable_never_no_targets(
    sim: SimServer, client: FinRadarClient
) -> None:
    set_knobs(sim, API, empty_total=True)
    with pytest.raises(Unreadable, match="holds 12 targets but lists none"):
        await client.list_targets()
    with pytest.raises(Unreadable):
        await client.read_target(newest_first(sim)[0])


# ----- fr_dupid: one id on two rows ------------------------------------------------------------
async def test_an_id_listed_twice_is_named_and_never_reads_stopped_while_a_copy_runs(
    sim: SimServer, client: FinRadarClient
) -> None:
    set_knobs(sim, API, duplicate_id=True)
    targets = {t.id: t for t in await client.list_targets()}
    assert len(targets) == 12  # the id stays one target: one stop addresses it
    [note] = client.skipped_rows
    twin_id = note.split(": ", 1)[0]
    assert "lists this id on 2 rows" in note
    assert targets[twin_id].state is State.RUNNING
    outcome = await client.execute(twin_id, STOP)
    assert outcome.kind is OutcomeKind.APPLIED  # the venue's answer to the call, as it is
    assert sim_admin(sim, API, "target", target_id=twin_id)["status"] == "STOPPED"
    again = await client.read_target(twin_id)
    assert again is not None and again.state is State.RUNNING  # its twin is still ACTIVE
    listed = {t.id: t for t in await client.list_targets()}
    assert listed[twin_id].raw_status == "ACTIVE"
    assert client.skipped_rows == [note]


# ----- fr_short_page: fewer rows a page than asked --------------------------------------------
async def test_a_venue_serving_short_pages_is_read_to_its_total(
    sim: SimServer, client: FinRadarClient
) -> None:
    set_knobs(sim, API, page_cap=5)
    before = sim_counters(sim, API).get("list", 0)
    targets = await client.list_targets()
    assert sorted(t.id for t in targets) == sorted(newest_first(sim))
    assert sim_counters(sim, API)["list"] - before == 3  # 5 + 5 + 2 rows, asked 200 each
    assert sum(t.state is State.RUNNING for t in targets) == 5


# ----- fr_shift: a row vanishes between two page reads -----------------------------------------
async def test_a_list_that_moves_between_pages_is_re_read_then_incomplete(
    sim: SimServer,
) -> None:
    client = FinRadarClient(settings_for(sim, API, options={"page_size": 5}))
    ids = newest_first(sim)
    set_knobs(sim, API, vanish_mid_read=True)
    before = sim_counters(sim, API).get("list", 0)
    with pytest.raises(Incomplete, match="changed while it was read, 3 reads") as caught:
        await client.list_targets()
    assert "total went from 12 to 11" in str(caught.value)
    assert sim_counters(sim, API)["list"] - before == 9  # three whole reads of three pages
    read = {t.id for t in caught.value.partial}
    assert read == set(ids) - {ids[5]}  # every row reached is kept, to be halted
    with pytest.raises(Incomplete):  # never "not found": the list is not known whole
        await client.read_target(ids[5])
    await client.aclose()


# ----- scripted venues --------------------------------------------------------------------------
def page(rows: list[dict[str, Any]], total: int | None) -> httpx.Response:
    meta: dict[str, Any] = {"slots_available": 1}
    if total is not None:
        meta["total"] = total
    return httpx.Response(200, json={"targets": rows, "meta": meta})


async def test_a_list_that_moved_once_is_whole_on_the_second_read() -> None:
    rows = [row(f"tgt_{i:012d}", "ACTIVE") for i in range(5)]
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        calls.append(offset)
        shown = rows[1:] if len(calls) == 2 else rows  # the first read's page 2 shifted
        return page(shown[offset : offset + 2], len(shown))

    client = make_client(handler, options={"page_size": 2})
    targets = await client.list_targets()
    assert [t.id for t in targets] == [r["target_id"] for r in rows]
    assert calls == [0, 2, 0, 2, 4]
    await client.aclose()


async def test_fewer_rows_than_the_total_is_incomplete_with_what_was_read() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        first = request.url.params["offset"] == "0"
        return page([row("tgt_a", "ACTIVE")] if first else [], 4)

    client = make_client(handler)
    with pytest.raises(Incomplete, match="holds 4 targets but list 1 rows") as caught:
        await client.list_targets()
    assert [t.id for t in caught.value.partial] == ["tgt_a"]
    await client.aclose()


async def test_without_a_total_a_venue_that_does_not_page_is_read_whole() -> None:
    """meta.total is not in FinRadar's docs. A short page, then the same rows at the next
    offset: a venue that ignores offset and sends everything; what it sent is whole."""
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(int(request.url.params["offset"]))
        return page([row("tgt_a", "ACTIVE")], None)

    client = make_client(handler, options={"page_size": 2})
    assert [t.id for t in await client.list_targets()] == ["tgt_a"]
    assert calls == [0, 1]
    await client.aclose()


async def test_without_a_total_a_short_page_is_not_the_end_until_an_empty_one() -> None:
    """A venue serving 3 rows a page whatever limit asks (its own cap) and no total: the
    short first page was taken as the whole list, 7 of 10 targets never listed."""
    rows = [row(f"tgt_{i:012d}", "ACTIVE") for i in range(10)]
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        calls.append(offset)
        return page(rows[offset : offset + 3], None)

    client = make_client(handler, options={"page_size": 5})
    assert len(await client.list_targets()) == 10
    assert calls == [0, 3, 6, 9, 10]
    await client.aclose()
