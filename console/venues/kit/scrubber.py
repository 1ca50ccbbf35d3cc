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
:class:`~console.core.scrub.Scrubber`; this only fixes the one way a venue applies it.
"""

from __future__ import annotations

from console.core.model import Outcome
from console.core.ports import FeedError, Incomplete, Unreadable, describe
from console.core.scrub import Scrubber, scrub_outcome
from console.venues.kit.http import CallError


class VenueScrubber(Scrubber):
    """core's Scrubber, plus the two venue shapes that carry text: outcomes and errors."""

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
            transient = isinstance(exc, CallError) and exc.transient
            return FeedError(self.scrub(describe(exc)), transient=transient)
        text = str(exc)
        clean = self.scrub(text)
        if clean == text:
            return exc
        if isinstance(exc, Incomplete):
            return Incomplete(clean, exc.partial)
        if type(exc) in (FeedError, Unreadable):
            return type(exc)(clean, transient=exc.transient)
        exc.args = (clean,)  # a venue's own subclass keeps its kind and its fields
        if isinstance(getattr(exc, "message", None), str):
            exc.message = clean  # type: ignore[attr-defined]
        return exc
