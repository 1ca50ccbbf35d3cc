"""One way for a venue to keep its credentials out of every text it writes.

Each venue holds one :class:`VenueScrubber`, built from the secrets it was given (and
taught the ones it mints later, :meth:`~console.core.scrub.Scrubber.add`). Whatever the
venue writes passes it, by kind:

* a line of text (a health detail, a skipped-row note, a log line): :meth:`scrub`;
* an :class:`~console.core.model.Outcome`: :meth:`outcome` (message, warning, vendor code);
* a feed error: :meth:`error` (the same kind back — an :class:`Incomplete` keeps what it
  read, an :class:`Unreadable` stays unreadable — or, for an error that is not venue
  trouble we know of, a plain :class:`FeedError` describing it).

The masking itself (secret values and credential-shaped places) is core's
:class:`~console.core.scrub.Scrubber`; this only fixes the one way a venue applies it,
and finds the secret values faster: core's pattern is one alternation of every value
(longest first), which the ``re`` module tries value by value at each character — a
55-tech profile's 136 keys (272 forms) cost ~20 µs per outcome of a kill. Here the same
values are one trie (:func:`trie_pattern`): the same matches, a few µs.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable

from console.core.model import Outcome
from console.core.ports import FeedError, Incomplete, Unreadable, describe
from console.core.scrub import Scrubber, scrub_outcome

_Trie = dict[str, "_Trie"]
_TRIE_MAX_LEN = 256  # longer values (a token) keep core's alternation: building and
# compiling the trie's pattern recurses once per character and per nested group


def trie_pattern(values: Iterable[str]) -> re.Pattern[str]:
    """A pattern that matches exactly what ``"|".join(values, longest first)`` matches —
    at each position the longest value found there — as a trie: one branch per next
    character instead of one try per value."""
    root: _Trie = {}
    for value in values:
        node = root
        for char in value:
            node = node.setdefault(char, {})
        node[""] = {}  # a value ends here

    def build(node: _Trie) -> str:
        ends = "" in node
        branches = []
        for char, child in node.items():
            if char:
                branches.append(re.escape(char) + build(child))
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if ends else body  # greedy: the longer value first

    return re.compile(build(root))


class VenueScrubber(Scrubber):
    """core's Scrubber, plus the two venue shapes that carry text: outcomes and errors."""

    def add(self, *secrets: str) -> None:
        """Learn more values to mask (core's rules), found with :func:`trie_pattern`."""
        super().add(*secrets)
        with self._lock:
            values = self._values
            if values and max(map(len, values)) <= _TRIE_MAX_LEN:
                # (too deep to build or compile: core's pattern stays, the same matches)
                with contextlib.suppress(RecursionError, re.error):
                    self._pattern = trie_pattern(values)

    def outcome(self, outcome: Outcome) -> Outcome:
        """``outcome`` with its message, warning and vendor code scrubbed (the same object
        back when nothing changed)."""
        return scrub_outcome(outcome, self.scrub)

    def error(self, exc: BaseException) -> FeedError:
        """``exc`` as a feed error of the same kind with scrubbed words.

        A FeedError's own text is kept as said (no kind prefix added); any other
        exception is described (:func:`~console.core.ports.describe`) first. The error
        is touched only when scrubbing changed its text (a venue's own FeedError
        subclass is scrubbed in place, so it keeps its kind and fields).
        """
        if not isinstance(exc, FeedError):
            return FeedError(self.scrub(describe(exc)))
        text = str(exc)
        clean = self.scrub(text)
        if clean == text:
            return exc
        if isinstance(exc, Incomplete):
            return Incomplete(clean, exc.partial)
        if type(exc) in (FeedError, Unreadable):
            return type(exc)(clean)
        exc.args = (clean,)  # a venue's own subclass keeps its kind and its fields
        if isinstance(getattr(exc, "message", None), str):
            exc.message = clean  # type: ignore[attr-defined]
        return exc
