"""Hypothesis machinery shared by the venues' property tests (``test_*_props.py``).

Why this module exists: every venue's property test feeds its client what a hostile venue
might send, mostly documented bodies bent out of shape (keys dropped, values swapped for
junk, raw JSON that ``json.dumps`` cannot write such as ``1e400``), and each of them once
carried its own copy of the bending, the example budget and the answer headers. One copy
lives here, so a fix or a new kind of junk reaches every venue at once; a test states only
what is its own: the keys its junk nests under, its raw marks, how far it bends a body.

The budget is issue 11's acceptance: at least 2,000 examples per venue when ``CI`` is
set, shared among that venue's hostile properties (:func:`venue_props`; 300 per property
locally, so a run stays quick). Each property once took 2,000 on its own: the venues'
property tests were then a third of the suite's time on two cores.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from console.venues.kit.feeds import FeedError

T = TypeVar("T")

IN_CI = bool(os.environ.get("CI"))
CI_EXAMPLES = 2000  # per venue, the acceptance
LOCAL_EXAMPLES = 300  # per property, outside CI
PROPS = settings(
    max_examples=CI_EXAMPLES if IN_CI else LOCAL_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def venue_props(properties: int) -> settings:
    """The settings of one of a venue's ``properties`` hostile properties: together
    they draw at least :data:`CI_EXAMPLES` examples in CI."""
    share = -(-CI_EXAMPLES // properties)  # rounded up
    return settings(PROPS, max_examples=share if IN_CI else LOCAL_EXAMPLES)


# Raw JSON spliced in where a marker string stands: numbers Python cannot make.
RAW: Mapping[str, str] = {
    "__inf__": "1e400",
    "__neg_inf__": "-1e400",
    "__long_int__": "1" + "0" * 5000,  # beyond Python's int-from-text limit
    "__big_int__": "9" * 40,
    "__deep__": "[" * 3000 + "]" * 3000,
    "__deep_open__": "{" + '"a":[' * 2000,
}
# Bodies no valid answer is, whatever the venue: empty, the wrong JSON type, too deep, not UTF-8.
FIXED: tuple[bytes, ...] = (b"", b"{}", b"null", b"[]", b'""', b"0", b"[" * 100_000, b"\xff\xfe")
# Retry-After values a venue was seen to send, or could: none of them may hang a call.
WAITS: tuple[str, ...] = (
    *("0", "1", "3600", "inf", "-1", "nan", "1e309"),
    *("Fri, 31 Dec 9999 23:59:59 GMT", "soon"),
)


def statuses(*named: int) -> st.SearchStrategy[int]:
    """The statuses a venue documents (drawn often), or any status at all."""
    return st.sampled_from(named) | st.integers(100, 599)


def retry_afters(*more: str) -> st.SearchStrategy[str | None]:
    """No Retry-After, or one of :data:`WAITS` (and ``more``)."""
    return st.none() | st.sampled_from([*WAITS, *more])


def headers_for(retry_after: str | None) -> dict[str, str]:
    """The answer's headers: a Retry-After when there is one (read case-insensitively)."""
    return {} if retry_after is None else {"retry-after": retry_after}


def caught(call: Callable[[], T]) -> tuple[T | None, FeedError | None]:
    """What ``call`` returned, or the FeedError it raised (anything else escapes: the
    property fails on it)."""
    try:
        return call(), None
    except FeedError as exc:
        return None, exc


def scalars(*more: st.SearchStrategy[Any], raw: Mapping[str, str] = RAW) -> st.SearchStrategy[Any]:
    """A JSON scalar of any type, a venue's own hostile values (``more``), or a raw mark."""
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=8),
        *more,
        st.sampled_from(sorted(raw)),
    )


def nested(
    leaves: st.SearchStrategy[Any], keys: Sequence[str], *, max_leaves: int
) -> st.SearchStrategy[Any]:
    """``leaves``, or lists and dicts of them nested a few deep (dict keys from ``keys``:
    the venue's own, so a row can be given a plausible key holding the wrong thing)."""
    return st.recursive(
        leaves,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(keys), inner, max_size=3)
        ),
        max_leaves=max_leaves,
    )


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place in a JSON value (dict keys and list indexes)."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, (*prefix, index))


def mutate(value: Any, path: tuple[Any, ...], how: str, new: Any) -> Any:
    """A copy of ``value`` with the place at ``path`` dropped (``how="drop"``) or
    replaced by ``new`` (``how="replace"``); ``value`` itself is left as it was."""
    if not path:
        return new if how == "replace" else value
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        copy = dict(value)
        if not rest and how == "drop":
            copy.pop(head, None)
        else:
            copy[head] = mutate(value[head], rest, how, new)
        return copy
    copy_list = list(value)
    if not rest and how == "drop":
        del copy_list[head]
    else:
        copy_list[head] = mutate(value[head], rest, how, new)
    return copy_list


@dataclass(frozen=True)
class Mutations:
    """How one venue's property test bends bodies: the junk it puts in, the raw marks
    :meth:`render` splices in, and how many places one example bends at the most."""

    junk: st.SearchStrategy[Any]
    raw: Mapping[str, str] = field(default_factory=lambda: RAW)
    most: int = 4

    def render(self, value: Any) -> bytes:
        """``value`` as JSON bytes, each raw mark (a string) replaced by its raw JSON."""
        text = json.dumps(value)
        for mark, raw in self.raw.items():
            text = text.replace(f'"{mark}"', raw)
        return text.encode()

    def mutated(self, base: Any) -> st.SearchStrategy[bytes]:
        """``base`` with a few places dropped or replaced by junk, rendered to bytes."""
        return _mutated(self, base)


@st.composite
def _mutated(draw: st.DrawFn, how: Mutations, base: Any) -> bytes:
    value = base
    for _ in range(draw(st.integers(0, how.most))):
        path = draw(st.sampled_from(list(paths(value))))
        kind = draw(st.sampled_from(["drop", "replace"]))
        value = mutate(value, path, kind, draw(how.junk))
    return how.render(value)
