"""A hub's plan sends each call only once its intent is in the journal stream: the first
intents go before the first call, the rest behind the gate while calls are on their way
(console.desk.intent_gate). A stream that stops storing them leaves the calls not yet
through *failed, not sent* — no venue hears of a call the desk's record does not hold."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from nats.aio.client import Client as NATS

from console.core.journal_rows import Entry
from console.core.kill import build_kill_plan
from console.desk import intent_gate, messages, subjects
from console.desk.local_server import LocalNats
from console.sim.server import SimServer
from tests.desk.support import PROFILE, batch_report, connect, request, running_hub
from tests.support import sim_counters

FIRST = 3  # intents stored before the first call (a small plan still has a rest)


async def test_the_rest_of_the_intents_follow_the_first_calls_and_every_call_goes(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(intent_gate, "FIRST_PER_VENUE", FIRST)
    async with running_hub(nats_server, sim, tmp_path) as desk:
        alice = await connect(nats_server, "alice")
        try:
            before = sim_counters(sim, "x3algo")
            kill = build_kill_plan(desk.session.store, desk.session.clients, reason="drill")
            assert len(kill.plan) > FIRST
            body = messages.KillRequest(plan=messages.PlanMsg.of(kill.plan), host="h")
            reply = await request(alice, "alice", subjects.Verb.KILL, body)
            report = await batch_report(alice, reply.batch_id or "")
            assert all(r.verified for r in report.results), report.summary
            stopped = sim_counters(sim, "x3algo").get("stopped", 0) - before.get("stopped", 0)
            assert stopped == len(kill.plan)
            await desk.hub.mirror_journal()
            stream = await stream_rows(alice, reply.batch_id or "")
            assert len([e for e in stream if e.kind == "intent"]) == len(kill.plan)
        finally:
            await alice.close()


async def test_every_venues_first_calls_are_in_the_first_rows_stored(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(intent_gate, "FIRST_PER_VENUE", FIRST)
    apis = ("x3algo", "pipai")
    async with running_hub(nats_server, sim, tmp_path, apis) as desk:
        mirror = desk.hub.mirror
        publish = mirror._publish
        chunks: list[list[Entry]] = []

        async def spy(entries: list[Entry]) -> bool:
            chunks.append(entries)
            return await publish(entries)

        monkeypatch.setattr(mirror, "_publish", spy)
        alice = await connect(nats_server, "alice")
        try:
            kill = build_kill_plan(desk.session.store, desk.session.clients, reason="drill")
            assert {i.venue for i in kill.plan.items} == set(apis)
            body = messages.KillRequest(plan=messages.PlanMsg.of(kill.plan), host="h")
            reply = await request(alice, "alice", subjects.Verb.KILL, body)
            report = await batch_report(alice, reply.batch_id or "")
            assert all(r.verified for r in report.results), report.summary
            first = next(c for c in chunks if any(e.batch_id == reply.batch_id for e in c))
            wave = Counter(e.venue for e in first if e.kind == "intent")
            assert wave == dict.fromkeys(apis, FIRST)  # side by side, not one venue's calls
            await desk.hub.mirror_journal()
            stream = await stream_rows(alice, reply.batch_id or "")
            assert len([e for e in stream if e.kind == "intent"]) == len(kill.plan)
        finally:
            await alice.close()


async def test_intents_the_stream_does_not_store_block_their_calls(
    nats_server: LocalNats, sim: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(intent_gate, "FIRST_PER_VENUE", FIRST)
    async with running_hub(nats_server, sim, tmp_path) as desk:
        mirror = desk.hub.mirror
        publish = mirror._publish
        chunks: list[int] = []

        async def first_chunk_only(entries: list[Entry]) -> bool:
            chunks.append(len(entries))
            if len(chunks) > 1 and any(e.kind == "intent" for e in entries):
                return False  # the stream stores nothing more (refused without an answer)
            return await publish(entries)

        monkeypatch.setattr(mirror, "_publish", first_chunk_only)
        alice = await connect(nats_server, "alice")
        try:
            before = sim_counters(sim, "x3algo")
            kill = build_kill_plan(desk.session.store, desk.session.clients, reason="drill")
            body = messages.KillRequest(plan=messages.PlanMsg.of(kill.plan), host="h")
            reply = await request(alice, "alice", subjects.Verb.KILL, body)
            report = await batch_report(alice, reply.batch_id or "")
            stored = {e.target_id for e in await stream_rows(alice, reply.batch_id or "")
                      if e.kind == "intent"}  # fmt: skip
            assert len(stored) == FIRST
            sent = {r.item.target_id for r in report.results if r.outcome.kind.value != "failed"}
            assert sent == stored  # a call went only where its intent was stored
            stopped = sim_counters(sim, "x3algo").get("stopped", 0) - before.get("stopped", 0)
            assert stopped == FIRST
            for result in report.results:
                if result.item.target_id not in stored:
                    assert result.outcome.message.startswith(
                        "not sent: the desk's journal stream did not store its intent"
                    ), result.outcome.message
            assert desk.session.journal.interrupted() == []  # each intent has its outcome
        finally:
            await alice.close()


async def stream_rows(nc: NATS, batch_id: str) -> list[Entry]:
    """The journal stream's rows of ``batch_id`` (as a console reads them)."""
    js = nc.jetstream()
    info = await js.stream_info(subjects.journal_stream(PROFILE))
    sub = await js.subscribe(subjects.journal_subject(PROFILE), ordered_consumer=True)
    rows: list[Entry] = []
    try:
        for _ in range(info.state.messages):
            msg = await sub.next_msg(timeout=10)
            row = messages.JournalRowMsg.decode(msg.data).entry()
            if row.batch_id == batch_id:
                rows.append(row)
    finally:
        await sub.unsubscribe()
    return rows
