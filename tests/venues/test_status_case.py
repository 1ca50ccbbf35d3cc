"""A status word reads the same whatever its case and surrounding blanks.

The vendors' documents spell their status words in lower case (FinRadar's in upper
case); an implementation of the same API that capitalises them (``"Active"``,
``"STOPPED"``, ``" paused "``) meant the same state, but the console read every such
word as UNKNOWN: a kill still stopped those targets, and could then never verify them
halted. FinRadar's reading already folded the case; x3algo's, PipAI's and 55-tech's
now do too (the word shown stays the venue's own).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.core.model import State
from console.venues.fiftyfive.wire import STATES as FIFTYFIVE
from console.venues.fiftyfive.wire import state_of as fiftyfive_state
from console.venues.pipai.mapping import STATE_BY_STATUS as PIPAI
from console.venues.pipai.mapping import event_kind
from console.venues.pipai.mapping import state_for as pipai_state
from console.venues.x3algo.mapping import contradicts
from console.venues.x3algo.wire import STATES as X3ALGO
from console.venues.x3algo.wire import state_of as x3algo_state

READINGS = [(X3ALGO, x3algo_state), (PIPAI, pipai_state), (FIFTYFIVE, fiftyfive_state)]


def spelled(word: str, cases: list[bool], pad: str) -> str:
    """``word`` with each letter upper or lower case as ``cases`` says, padded."""
    letters = [
        c.upper() if up else c for c, up in zip(word, cases + [False] * len(word), strict=False)
    ]
    return pad + "".join(letters) + pad


@settings(max_examples=200, deadline=None)
@given(which=st.integers(0, 2), pick=st.integers(0, 20), cases=st.lists(st.booleans(), max_size=20),
       pad=st.sampled_from(["", " ", "\t", "  "]))  # fmt: skip
def test_a_known_word_in_any_case_reads_as_its_state(
    which: int, pick: int, cases: list[bool], pad: str
) -> None:
    states, read = READINGS[which]
    word = sorted(states)[pick % len(states)]
    assert read(spelled(word, cases, pad)) is states[word]


@pytest.mark.parametrize("read", [r for _, r in READINGS])
def test_a_word_nobody_listed_is_still_unknown(read: object) -> None:
    assert read("archived") is State.UNKNOWN  # type: ignore[operator]
    assert read("") is State.UNKNOWN  # type: ignore[operator]


def test_x3algo_still_sees_its_two_words_disagree_whatever_their_case() -> None:
    assert contradicts("STOPPED", True) and contradicts(" Active", False)
    assert not contradicts("Active", True) and not contradicts("archived", True)


def test_pipai_event_types_in_any_case() -> None:
    assert event_kind("Strategy.Paused") == "paused" and event_kind("DEPLOYED") == "deployed"
