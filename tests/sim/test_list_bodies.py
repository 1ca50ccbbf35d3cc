"""The simulator's fast list bodies are byte for byte what it wrote before them.

x3algo's list pages are joined from each row's kept encoding, and Joyride's instrument
list from each instrument's text (both cheaper for the console's shared cores): a reader
must see exactly what ``JSONResponse`` / ``json.dumps`` of the rows would have written,
before and after the world moves."""

from __future__ import annotations

import json
import random

import pytest

from console.sim.joyride.api import JoyrideSim
from console.sim.server import SimServer
from console.sim.x3algo.api import X3AlgoSim


def _response_json(content: object) -> bytes:  # as Starlette writes it, independently
    return json.dumps(
        content, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode("utf-8")


def test_x3algo_pages_are_what_jsonresponse_writes_as_rows_change() -> None:
    sim = SimServer(seed=3, motion=False, scale=2)
    x3 = sim.vendors["x3algo"]
    assert isinstance(x3, X3AlgoSim)
    algos, rng = x3.world.by_created, random.Random(1)
    algos[0].name = 'Crème "brûlée" \\ \u2028 — 🚀'  # escapes and non-ASCII, as JSON has them
    algos[1].gross_loss = float("nan")  # not JSON: refused as JSONResponse refuses it
    for moment in range(3):
        for algo in algos:
            if rng.random() < 0.3:
                algo.record_trade(rng, 1.7e9 + moment, x3.ctx.clock)
        with pytest.raises(ValueError):
            x3._encoded_page(algos[:2], {})
        for start in range(2, len(algos), 37):
            rows = algos[start : start + 37]
            pagination = {"page": 1, "limit": 37, "total": len(algos), "totalPages": 3}
            wanted = {"data": [x3._summary(a) for a in rows], "pagination": pagination}
            assert x3._encoded_page(rows, pagination).body == _response_json(wanted)
        first = {"data": [x3._summary(algos[0])], "pagination": {}}
        assert x3._encoded_page(algos[:1], {}).body == _response_json(first)


def test_joyride_listing_is_json_dumps_of_the_public_rows() -> None:
    joyride = SimServer(seed=5, motion=False, scale=3).vendors["joyride"]
    assert isinstance(joyride, JoyrideSim)
    world = joyride.world
    rows = [inst.public() for e in world.expirations() for inst in world.by_expiration[e]]
    assert world.listing(0.0) == json.dumps(rows, separators=(",", ":")).encode()
