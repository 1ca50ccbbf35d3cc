"""A journal row on the wire (``JournalRowMsg``) carries exactly the journal's own row
(``Entry``): the protocol spells the columns out as a message, so a column added to the
journal must be added there too — this fails until it is."""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

from pydantic import TypeAdapter

from console.core.journal_rows import Entry
from console.core.model import Action, ActionKind, Outcome, OutcomeKind, State, TargetKind
from console.core.plan import ItemResult, Plan, PlanItem
from console.desk import messages


def test_the_wire_row_has_the_journal_rows_columns_in_order() -> None:
    assert list(messages.JournalRowMsg.model_fields) == [f.name for f in dataclasses.fields(Entry)]


def test_a_row_goes_over_the_wire_and_back_unchanged() -> None:
    row = Entry(7, 1_700_000_000_000, "note", "op", None, "guard:pnl", "desk-1", None, "prod",
                "x3algo", "a1", "RSI", "alert", "{}", "values: pnl -5", None, None, None,
                "values", None, "ab" * 32)  # fmt: skip
    assert messages.JournalRowMsg.decode(messages.JournalRowMsg.of(row).encode()).entry() == row


def test_the_hubs_cheap_encodings_are_the_messages_own_bytes() -> None:
    """The hub encodes journal rows and results without building their models (a kill
    sends thousands); a reader must get exactly what the models would have sent."""
    row = Entry(7, 1_700_000_000_000, "outcome", "op", "b1", "alice", "desk-1 é", None, "prod",
                "x3algo", "a1", "RSI \"quoted\"", "stop", '{"flatten": true}', None, "applied",
                200, 12.5, "stopped", "stopped", "ab" * 32)  # fmt: skip
    assert messages.JournalRowMsg.encode_entry(row) == messages.JournalRowMsg.of(row).encode()
    item = PlanItem("x3algo", "a1", "RSI é", TargetKind.ALGORITHM,
                    Action(ActionKind.STOP, MappingProxyType({"flatten": True}), "why"),
                    State.RUNNING, 12.5)  # fmt: skip
    results = [
        ItemResult(item, Outcome(OutcomeKind.APPLIED, "stopped", 200, 3.5, State.STOPPED)),
        ItemResult(item, Outcome(OutcomeKind.UNCERTAIN, "no answer", None, None, None,
                                 "E1", "check it", State.PAUSED), State.STOPPED, True, True),
    ]  # fmt: skip
    as_models = TypeAdapter(list[messages.ResultMsg]).dump_json(
        [messages.ResultMsg.of(r) for r in results]
    )
    assert messages.results_json(results) == as_models  # the wire's schema is ResultMsg's
    event = messages.BatchEvent(batch_id="b1", seq=3, kind="results", results=results)
    assert messages.BatchEvent.results_event("b1", 3, results) == event.encode()
    many = results * 200  # past 64 KB: compressed, still the same bytes
    event = messages.BatchEvent(batch_id="b1", seq=4, kind="results", results=many)
    assert messages.BatchEvent.results_event("b1", 4, many) == event.encode()
    decoded = messages.BatchEvent.decode(messages.BatchEvent.results_event("b1", 4, many))
    assert decoded.results == many
    assert all(type(r.item.action.options) is MappingProxyType for r in decoded.results)


def test_a_plan_on_the_wire_is_its_items_models_bytes_and_comes_back_as_core_items() -> None:
    """A plan's items go and come back as the core's own ``PlanItem`` (no model built per
    item on the kill's path); the wire is :class:`messages.PlanItemMsg`'s all the same."""
    items = tuple(
        PlanItem("x3algo", f"a{i}", "RSI é", TargetKind.ALGORITHM,
                 Action(ActionKind.PAUSE, MappingProxyType({"close_positions": True}), "why"),
                 State.RUNNING, 12.5)
        for i in range(3)
    )  # fmt: skip
    plan = Plan(items, "KILL", "kill", ("positions stay open",), 1.5, True, ("x3algo",))
    wire = messages.PlanMsg.of(plan).model_dump_json(fallback=messages._frozen_mapping,
                                                     warnings=False)  # fmt: skip
    as_models = TypeAdapter(list[messages.PlanItemMsg]).dump_json(
        [messages.PlanItemMsg.of(i) for i in items]
    )
    assert wire.startswith('{"items":' + as_models.decode() + ',"title":"KILL"')
    sent = messages.KillRequest(plan=messages.PlanMsg.of(plan), host="h").encode()
    got = messages.KillRequest.decode(sent).plan.plan()
    assert got == plan
    assert all(type(i) is PlanItem and type(i.action.options) is MappingProxyType
               for i in got.items)  # fmt: skip
