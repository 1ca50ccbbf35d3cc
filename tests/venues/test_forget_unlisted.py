"""A venue whose ids churn does not grow a client's notes without bound.

x3algo's client keeps each listed algorithm's name (for its messages), FinRadar's each
target's status and ticker (to tell *already* from *applied*); both kept every id ever
listed. A venue listing new ids on every read (broken, or hostile) grew them by every
read's worth, for as long as the console ran. Now a whole list read forgets the ids it
no longer holds, once the notes hold more than twice the list (and 1,000 more).
"""

from __future__ import annotations

import httpx
import pytest

from console.venues.finradar.client import FinRadarClient
from console.venues.kit.base import Secret, VenueSettings
from console.venues.kit.feeds import Incomplete
from console.venues.kit.paging import forget_unlisted
from tests.venues.loopback import LoopbackVenue
from tests.venues.test_x3algo_unit import FakeVenue, algo, make_client


def test_notes_are_kept_up_to_the_bound_then_cut_to_the_list() -> None:
    notes = {f"id{i}": i for i in range(1004)}
    forget_unlisted(notes, {"id0", "id1"})
    assert len(notes) == 1004  # exactly at the bound: kept
    notes["id9999"] = 0
    forget_unlisted(notes, {"id0", "id1"})
    assert notes == {"id0": 0, "id1": 1}


async def test_x3algo_listing_new_ids_on_every_read_keeps_its_names_bounded() -> None:
    venue = FakeVenue()
    reads = [0]

    def page(request: httpx.Request) -> httpx.Response:
        reads[0] += 1
        rows = [
            {**algo("active"), "id": f"{reads[0]:06d}{i:018d}"} for i in range(90)
        ]  # a short page: the end
        return httpx.Response(200, json={"data": rows})

    venue.routes[("GET", "/api/trading/algorithms")] = page
    client = make_client(venue)
    try:
        for _ in range(40):  # 3,600 ids listed, 90 at a time
            targets = await client.list_targets()
            assert len(targets) == 90
        assert len(client._names) <= 2 * 90 + 1000
        assert {t.id for t in targets} <= client._names.keys()  # the latest read's names
    finally:
        await client.aclose()


async def test_finradar_listing_new_ids_on_every_read_keeps_what_it_saw_bounded() -> None:
    reads = [0]

    def targets(request: httpx.Request) -> httpx.Response:
        reads[0] += 1
        rows = [{"target_id": f"tgt_{reads[0]:05d}_{i:03d}", "ticker": "NVDA", "status": "ACTIVE"}
                for i in range(90)]  # fmt: skip
        return httpx.Response(200, json={"targets": rows, "meta": {"total": 90}})

    settings = VenueSettings(name="finradar", api="finradar", base_url="http://finradar.test",
                             credentials={"api_key": Secret("k-123")}, pacing=False)  # fmt: skip
    client = FinRadarClient(settings, transport=LoopbackVenue(targets))
    try:
        for _ in range(40):  # 3,600 ids listed, 90 at a time
            listed = await client.list_targets()
            assert len(listed) == 90
        assert len(client._seen) <= 2 * 90 + 1000
        assert {t.id for t in listed} <= client._seen.keys()
    finally:
        await client.aclose()


async def test_reads_that_stop_part_way_keep_the_names_bounded_and_the_unreached_kept() -> None:
    """An endlessly incomplete x3algo (more pages than a read may take, new ids on every
    read) is bounded too; a read that stops part-way after a whole one keeps the names of
    the algorithms it did not reach."""
    venue = FakeVenue()
    reads = [0]
    pages = {"total": 10}

    def page(request: httpx.Request) -> httpx.Response:
        n = int(request.url.params["page"])
        if n == 1:
            reads[0] += 1
        rows = [{**algo("active"), "id": f"{reads[0]:06d}{n:04d}{i:014d}"} for i in range(100)]
        meta = {
            "page": n,
            "limit": 100,
            "total": 100 * pages["total"],
            "totalPages": pages["total"],
        }
        return httpx.Response(200, json={"data": rows, "pagination": meta})

    venue.routes[("GET", "/api/trading/algorithms")] = page
    client = make_client(venue, max_pages=2)
    try:
        for _ in range(40):  # 8,000 ids read, 200 a read, never the whole list
            with pytest.raises(Incomplete):
                await client.list_targets()
        assert len(client._names) <= 2 * 200 + 1000
    finally:
        await client.aclose()

    venue, reads[0], pages["total"] = FakeVenue(), 0, 15
    venue.routes[("GET", "/api/trading/algorithms")] = page
    client = make_client(venue, max_pages=20)
    try:
        whole = {t.id for t in await client.list_targets()}  # 1,500 algorithms, whole
        pages["total"] = 30  # now more pages than a read may take: it stops part-way
        with pytest.raises(Incomplete):
            await client.list_targets()
        assert whole <= client._names.keys()  # the ones it did not reach are still named
    finally:
        await client.aclose()
