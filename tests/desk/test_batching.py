"""A tick's state batch is cut to fit a NATS message, every part a valid StateBatch."""

from __future__ import annotations

from console.core.model import State, Target, TargetKind
from console.core.ports import FeedStatus
from console.desk import messages
from console.desk.batching import state_batches


def target(i: int) -> bytes:
    t = Target("x3algo", TargetKind.ALGORITHM, f"a/{i}", f"Algo {i}", State.RUNNING, "active",
               {"pnl": float(i), "symbols": ("BTC", "ETH")})  # fmt: skip
    return messages.TargetMsg.of(t).encode()


def test_a_large_batch_is_cut_into_numbered_parts_under_the_limit() -> None:
    health = [messages.HealthMsg(venue="x3algo", status=FeedStatus.POLLING)]
    parts = list(state_batches("h1", 7, 1.5, [target(i) for i in range(500)],
                               [("x3algo", "gone/1")], health, limit=4096))  # fmt: skip
    batches = [messages.StateBatch.decode(b) for b in parts]
    assert len(batches) > 1 and all(len(b) <= 4096 + 200 for b in parts)
    assert [b.seq for b in batches] == list(range(7, 7 + len(batches)))
    ids = [t.id for b in batches for t in b.targets]
    assert ids == [f"a/{i}" for i in range(500)]
    assert batches[-1].gone == [("x3algo", "gone/1")] and batches[-1].health == health
    assert all(b.gone == [] and b.health == [] for b in batches[:-1])
    assert batches[0].targets[3].target().attrs["symbols"] == ("BTC", "ETH")


def test_an_empty_tick_is_one_batch() -> None:
    [only] = [messages.StateBatch.decode(b) for b in state_batches("h1", 1, 0.0, [], [], [])]
    assert only.seq == 1 and only.targets == [] and only.hub_id == "h1"


def test_a_long_gone_list_goes_apart_from_the_targets_and_compressed() -> None:
    gone = [("x3algo", f"gone/{i:06d}") for i in range(50_000)]  # a venue emptied
    parts = list(state_batches("h1", 1, 0.0, [target(i) for i in range(10)], gone, [],
                               limit=4096))  # fmt: skip
    batches = [messages.StateBatch.decode(b) for b in parts]
    assert [len(b.targets) for b in batches] == [10, 0]
    assert len(batches[1].gone) == 50_000
    assert parts[1][:1] == b"z" and len(parts[1]) < 1024 * 1024  # past max_payload as JSON
