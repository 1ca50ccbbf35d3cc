"""How many requests one FinRadar list read makes, and when a short page ends it.

Found by running the console against an independent FinRadar: every read (the 2 s poll,
each re-read) asked one page more after a short one, 2 requests a poll for a small
account (~60 a minute), which a venue limited to 60 a minute answered with 429s during a
kill. A short page is no proof of the end by itself (a venue may serve fewer rows a page
than ``limit`` asks: docs/venues/finradar.md, "Bounds"); the venue's own answer can be:

* ``meta.total`` reached (ours; FinRadar's docs show no total): one request for a list
  of one page, the same total on every page;
* ``meta.has_more: false`` (undocumented; the venue saying there is no more page): the
  read ends there when the answer gives no total;
* otherwise (no total and no such word, a word that is not a JSON boolean, a total the
  rows have not reached, ``has_more: true`` past the total) the read goes on.

A venue seen capping its pages (a short page, then a page of new rows) has pages of
that size counted as full on later reads of the client: such a page followed by the
same rows is a venue ignoring ``offset`` (incomplete), never "a venue that does not page"
(whole). Pages smaller than the cap still read on: a cap in rows is the venue's to change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from console.sim.server import SimServer
from console.venues.finradar.client import FinRadarClient
from console.venues.kit.feeds import Incomplete
from tests.support import set_knobs, settings_for, sim_counters
from tests.venues.test_finradar_wire import make_client, row

API = "finradar"


@pytest.fixture
def sim_options() -> dict[str, Any]:
    return {"vendors": (API,), "knobs": {API: {"rate_scale": 0.01}}}


def lists(sim: SimServer) -> int:
    return sim_counters(sim, API).get("list", 0)


def ids(count: int) -> list[dict[str, Any]]:
    return [row(f"tgt_{i:012d}", "ACTIVE") for i in range(count)]


def answer(rows: list[dict[str, Any]], **meta: Any) -> httpx.Response:
    return httpx.Response(200, json={"targets": rows, "meta": {"slots_available": 1, **meta}})


def scripted(page: Callable[[int], httpx.Response]) -> tuple[FinRadarClient, list[int]]:
    """A client on a scripted venue answering each offset with ``page(offset)``, and the
    offsets it was asked for, in order."""
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        offset = int(request.url.params["offset"])
        calls.append(offset)
        return page(offset)

    return make_client(handler), calls


# ----- against the simulator -------------------------------------------------------------------
async def test_a_small_list_whose_total_is_reached_is_one_request(sim: SimServer) -> None:
    """12 targets, one short page (limit 200) whose meta.total is 12: nothing more to ask,
    for the poll's read and for a re-read of one target alike."""
    client = FinRadarClient(settings_for(sim, API))
    try:
        for _ in range(3):  # every poll, not only the first
            before = lists(sim)
            targets = await client.list_targets()
            assert len(targets) == 12
            assert lists(sim) - before == 1
        before = lists(sim)
        assert await client.read_target(targets[0].id) is not None
        assert lists(sim) - before == 1
    finally:
        await client.aclose()


@pytest.mark.parametrize("documented", [False, True], ids=["total", "no-total"])
async def test_a_venue_capping_its_pages_still_has_every_row_read(
    sim: SimServer, documented: bool
) -> None:
    """page_cap 5 (whatever limit asks): every read of the client, before and after it
    has seen the cap, lists all 12 targets — 5 + 5 + 2 rows, and without a total the
    empty page past them (a page below the cap is not taken for the end)."""
    client = FinRadarClient(settings_for(sim, API))
    try:
        whole = {t.id for t in await client.list_targets()}
        set_knobs(sim, API, page_cap=5, documented_meta=documented)
        for _ in range(3):
            before = lists(sim)
            assert {t.id for t in await client.list_targets()} == whole
            assert lists(sim) - before == (4 if documented else 3)
    finally:
        await client.aclose()


# ----- scripted venues ---------------------------------------------------------------------------
async def test_has_more_false_without_a_total_ends_the_read_at_once() -> None:
    rows = ids(3)
    client, calls = scripted(lambda offset: answer(rows[offset:], has_more=False))
    assert len(await client.list_targets()) == 3
    assert calls == [0]
    await client.aclose()


async def test_has_more_false_on_a_capped_page_without_a_total_is_believed_page_by_page() -> None:
    """A venue serving 2 rows a page, saying has_more true until its last page."""
    rows = ids(5)
    client, calls = scripted(
        lambda offset: answer(rows[offset : offset + 2], has_more=offset + 2 < len(rows))
    )
    assert len(await client.list_targets()) == 5
    assert calls == [0, 2, 4]
    await client.aclose()


@pytest.mark.parametrize(
    "meta",
    [{}, {"has_more": None}, {"has_more": "false"}, {"has_more": 0}, {"has_more": True}],
    ids=["absent", "null", "text", "zero", "true"],
)
async def test_without_a_total_or_a_plain_has_more_false_a_short_page_reads_on(
    meta: dict[str, Any],
) -> None:
    """No total and no JSON ``false``: the short page may be the venue's cap; the empty
    page at the next offset is the end (and an odd has_more never makes it unreadable)."""
    rows = ids(3)
    client, calls = scripted(lambda offset: answer(rows[offset:], **meta))
    assert len(await client.list_targets()) == 3
    assert calls == [0, 3]
    await client.aclose()


async def test_has_more_false_while_the_total_counts_more_reads_on() -> None:
    """The two words disagree: the total (more rows) wins, the read goes on to it."""
    rows = ids(3)
    client, calls = scripted(
        lambda offset: answer(rows[offset : offset + 1], total=3, has_more=False)
    )
    assert len(await client.list_targets()) == 3
    assert calls == [0, 1, 2]
    await client.aclose()


async def test_has_more_true_past_the_total_reads_on_and_more_rows_are_never_whole() -> None:
    """total 1 and has_more true: the venue contradicts itself; the next page is read,
    and rows beyond the total make the read incomplete, not a list of one."""
    rows = ids(2)
    client, calls = scripted(
        lambda offset: answer(rows[offset : offset + 1], total=1, has_more=True)
    )
    with pytest.raises(Incomplete, match="holds 1 targets but list 2 rows") as caught:
        await client.list_targets()
    assert len(caught.value.partial) == 2
    assert calls == [0, 1, 2]
    await client.aclose()


async def test_has_more_true_past_the_total_then_an_empty_page_is_whole() -> None:
    client, calls = scripted(lambda offset: answer(ids(1)[offset:], total=1, has_more=True))
    assert len(await client.list_targets()) == 1
    assert calls == [0, 1]
    await client.aclose()


async def test_a_page_of_a_learned_cap_then_the_same_rows_is_incomplete_not_whole() -> None:
    """No total. The venue serves 3 rows a page: the first read sees a short page
    followed by new rows (a cap) and reads all 7. Then it starts ignoring offset: a
    3-row page followed by the same rows was taken for "a venue that does not page" and
    called whole (3 of 7 targets); the client has seen 3 is its cap, so it is not."""
    rows = ids(7)
    calls: list[int] = []
    ignore_offset = False

    def handler(request: httpx.Request) -> httpx.Response:
        offset = 0 if ignore_offset else int(request.url.params["offset"])
        calls.append(offset)
        return answer(rows[offset : offset + 3])

    client = make_client(handler, options={"page_size": 5})
    assert len(await client.list_targets()) == 7
    assert calls == [0, 3, 6, 7]
    ignore_offset = True
    with pytest.raises(Incomplete, match="ignores offset") as caught:
        await client.list_targets()
    assert len(caught.value.partial) == 3
    await client.aclose()


async def test_a_venue_that_does_not_page_is_not_taken_for_a_capping_one() -> None:
    """Ignoring offset while a target is created between two page reads: the second
    page repeats rows, so no cap is learned, and the list stays whole read after read."""
    rows = ids(3)
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(int(request.url.params["offset"]))
        return answer(rows[1:] if len(calls) == 1 else rows)  # tgt_0 created after call 1

    client = make_client(handler, options={"page_size": 5})
    for _ in range(2):
        assert len(await client.list_targets()) == 3
    assert calls == [0, 2, 5, 0, 3]
    await client.aclose()
