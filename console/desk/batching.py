"""The state batches of one hub tick, cut to fit a NATS message.

A tick's changes go out as :class:`~console.desk.messages.StateBatch` JSON on
``desk.P.state``. A resync (the hub's start, a NATS reconnect) sends every target at
once, which for a large profile is megabytes, past the server's ``max_payload`` (1 MB by
default): the batch is cut into several, each under ``limit`` bytes and with its own
``seq``, so a console applies them one after the other like any other batches. Each
target is encoded once (the same bytes go to the bucket) and spliced in, never encoded
again for the batch.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

from console.desk import messages
from console.desk.messages import pack

LIMIT = 256 * 1024
"""Bytes per batch message: well under the default max_payload of 1 MB."""


def state_batches(
    hub_id: str,
    first_seq: int,
    ts: float,
    targets: Sequence[bytes],
    gone: Sequence[tuple[str, str]],
    health: Sequence[messages.HealthMsg],
    limit: int = LIMIT,
) -> Iterator[bytes]:
    """Batches numbered from ``first_seq``: the targets (each an encoded TargetMsg) cut to
    fit, ``gone`` and ``health`` in the last one (alone when they would not fit beside
    the last targets), each as it goes on the wire (:func:`~console.desk.messages.pack`:
    compressed past 64 KB, so a venue's 50,000 gone targets still fit a message).
    Always at least one batch."""
    seq = first_seq
    tail = (
        f'"gone":{json.dumps([list(g) for g in gone])},'
        f'"health":[{",".join(h.model_dump_json() for h in health)}]}}'
    ).encode()

    def head(n: int) -> bytes:
        return f'{{"hub_id":{json.dumps(hub_id)},"seq":{n},"ts":{ts!r},"targets":['.encode()

    part: list[bytes] = []
    size = 0
    for target in targets:
        if part and size + len(target) + 1 > limit:
            yield pack(head(seq) + b",".join(part) + b'],"gone":[],"health":[]}')
            seq, part, size = seq + 1, [], 0
        part.append(target)
        size += len(target) + 1
    if part and size + len(tail) > limit:  # the tail (a venue's gone targets) apart
        yield pack(head(seq) + b",".join(part) + b'],"gone":[],"health":[]}')
        seq, part = seq + 1, []
    yield pack(head(seq) + b",".join(part) + b"]," + tail)
