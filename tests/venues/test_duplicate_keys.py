"""A JSON object that names a key twice is never read as "the last one wins" (issue 11:
PipAI's ``{"data": [22 strategies], …, "data": []}`` was read as no strategies).

The kit's exact reader refuses any repeated key; the list pages' fast readers screen the
keys a kill decides by with byte counts (``screen_duplicate_keys``), and these tests hold
the screen to never letting a repeat of those keys through, however it is spelled.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from console.venues.kit.feeds import Unreadable
from console.venues.kit.http import Reply
from console.venues.kit.json_screen import parse_json
from console.venues.pipai.mapping import read_page
from console.venues.x3algo.mapping import parse_page


def strategy(n: int, status: str = "deployed") -> dict[str, object]:
    return {"id": f"strat_{n:04d}", "name": f"s{n}", "status": status, "params": {"k": n},
            "stats": {"open_positions": 0}}  # fmt: skip


def algorithm(n: int, status: str = "active") -> dict[str, object]:
    return {"id": f"{n:024d}", "name": f"a{n}", "status": status, "active": status == "active",
            "lastExecution": {"status": "ok"}}  # fmt: skip


class Answer(BaseModel):
    status: str


def test_parse_json_refuses_a_key_named_twice_at_any_depth() -> None:
    with pytest.raises(ValueError, match="key 'x' appears twice in one object"):
        parse_json(b'{"a": [{"x": 1, "y": 2, "x": 3}]}')
    assert parse_json(b'{"a": [{"x": 1}, {"x": 3}]}') == {"a": [{"x": 1}, {"x": 3}]}


def test_a_single_answer_naming_a_key_twice_is_malformed() -> None:
    reply = Reply(200, {}, b'{"status": "stopped", "status": "active"}', 1.0)
    with pytest.raises(ValueError, match="'status' appears twice"):
        reply.validated(Answer)


@settings(max_examples=200, deadline=None)
@given(
    rows=st.integers(min_value=1, max_value=30),
    which=st.integers(min_value=0, max_value=29),
    key=st.sampled_from(["id", "status"]),
    escaped=st.booleans(),
)
def test_a_row_repeating_id_or_status_makes_the_page_unreadable(
    rows: int, which: int, key: str, escaped: bool
) -> None:
    """However the repeat is spelled (``"status"`` or ``"st\\u0061tus"``), on whichever
    row, and for both venues' fast readers."""
    spelled = key.replace("t", "\\u0074", 1) if escaped else key
    for venue in ("pipai", "x3algo"):
        data = [strategy(n) if venue == "pipai" else algorithm(n) for n in range(rows)]
        text = [json.dumps(row) for row in data]
        i = which % rows
        text[i] = text[i][:-1] + f', "{spelled}": "other"}}'
        if venue == "pipai":
            body = ('{"data": [' + ", ".join(text) + '], "next_cursor": null}').encode()
            with pytest.raises(Unreadable, match=f"'{key}' appears twice"):
                read_page("pipai", body, 0.0)
        else:
            body = ('{"data": [' + ", ".join(text) + "]}").encode()
            with pytest.raises(Unreadable, match=f"'{key}' appears twice"):
                parse_page(body, 1, str)


def test_a_page_without_repeats_reads_whole_even_when_values_spell_the_keys() -> None:
    """A name that spells ``"status"`` makes the counts differ: the exact check then
    finds nothing repeated, and the page reads as it is."""
    rows = [strategy(0), {**strategy(1), "name": "status"}, {**strategy(2), "name": "id"}]
    page = read_page("pipai", json.dumps({"data": rows, "next_cursor": None}).encode(), 0.0)
    assert [t.id for t in page.targets] == ["strat_0000", "strat_0001", "strat_0002"]
    listed = parse_page(json.dumps({"data": [algorithm(0), algorithm(1)]}).encode(), 1, str)
    assert [r["id"] for r in listed.rows] == [f"{0:024d}", f"{1:024d}"]


def test_a_long_repeated_key_is_not_quoted_so_no_part_of_a_secret_gets_out() -> None:
    from console.venues.kit.json_screen import parse_json

    secret = "c5cba58b-27bd-4add-b6a1-9f3e2d1c0b7a"
    key = f"invalid key used: {secret}"
    body = ('{"' + key + '": 1, "' + key + '": 2}').encode()
    try:
        parse_json(body)
    except ValueError as exc:
        said = str(exc)
    else:
        raise AssertionError("a repeated key must be refused")
    assert "appears twice" in said and "of 54 characters" in said
    assert secret[:8] not in said


_KEYS = st.sampled_from(["id", "status", "data", "a", "", "st\\u0061tus", "x y", "é"])
_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.sampled_from(['"status"', '":"', "", "\\"])
)


def _value(depth: int) -> st.SearchStrategy[str]:
    scalar = _SCALARS.map(lambda v: json.dumps(v, ensure_ascii=False))
    if depth == 0:
        return scalar
    inner = _value(depth - 1)
    obj = st.lists(st.tuples(_KEYS, inner), max_size=4).map(
        lambda pairs: "{" + ", ".join(f'"{k}" : {v}' for k, v in pairs) + "}"
    )  # keys written as they are: a list may name one twice, or spell one two ways
    arr = st.lists(inner, max_size=3).map(lambda items: "[" + ",".join(items) + "]")
    return st.one_of(scalar, obj, arr)


@settings(max_examples=400, deadline=None)
@given(text=_value(3))
def test_the_quick_screen_of_an_answer_decides_as_the_exact_parse(text: str) -> None:
    """``check_unique_keys`` passes an answer whose keys are all distinct without parsing
    it; on any JSON — keys repeated in one object or in two, spelled with an escape,
    quotes and colons inside values — it refuses exactly what the exact parse refuses."""
    from console.venues.kit.json_screen import DuplicateKey, _loads_unique, check_unique_keys

    content = text.encode()
    try:
        _loads_unique(content)
        exact = None
    except DuplicateKey as exc:
        exact = str(exc)
    try:
        check_unique_keys(content)
        quick = None
    except DuplicateKey as exc:
        quick = str(exc)
    assert quick == exact
