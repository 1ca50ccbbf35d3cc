"""One scrubber for every venue: no credential ever leaves in text we write.

Venues echo what they were sent. An error detail quoting the ``X-API-Key`` header, a
token in a URL, a signature in a log line: any of it would reach the outcome, the
journal, the feed's health text and the screen. Every piece of venue text passes
through :meth:`Scrubber.scrub` before it is kept, and the journal scrubs again on the
way in (the last line of defence).

Three nets, all needed:

* **the values themselves** — every secret this process holds (and the derived forms a
  venue may echo: URL-encoded, base64 of ``user:password`` for Basic auth), replaced by
  ``***`` wherever they appear, whatever the venue wrapped them in;
* **the places secrets live** — ``X-API-Key: …``, ``Authorization: Bearer …``,
  ``token=…``, ``"signature": "…"``, ``Cookie: …`` and their kin — whose values are
  masked even when they are not ours (a refresh token the venue just minted, a
  signature computed from our secret) — but not words after a name that only *ends*
  in a credential word: ``INVALID_SIGNATURE: "Request signature did not match"`` is
  an error code and the vendor's message, kept (a credential holds no blank);
* **the ends of the values** — any run of six or more characters that begins or ends
  a secret as it is sent (as given or URL-encoded: ``sk_live_9f…``, ``…c5b4a3``),
  masked whole, the longest run at each place.

Why the ends: vendors quote the first or last characters of a key "for identification"
(``invalid signature for key sk_live_9f…``), and an independent vendor implementation
did exactly that with PipAI's secret — the prefix reached the outcome unmasked, since
only whole values were recognised. A piece of a secret is part of the secret. What is
deliberately *not* masked: a run from the middle of a value. Vendors quote heads and
tails, not middles; and every six-character window of every secret (a 40-character
secret has 35) would mask ordinary words and numbers that happen to occur in one, and
make the search of every text cost more. Nor the ends of a base64 form (ours, for
Basic auth: no vendor quotes a piece of it; ``base64(user:password)`` itself is held
as given), nor those of a URL held whole (an alert's Apprise URL): its head is a scheme
every link shares (``https://``), and the parts of it that are credentials are held as
values of their own; nor those of an e-mail address (x3algo's login): its head is a
name and its tail a domain, words a venue's text uses for other things (the simulator's
``trader.…@demo.x3algo.test`` masked "trader" and "x3algo.test" wherever they stood),
and an address is no key to be guessed from a piece — it stays masked whole.

The ends are masked last, after the places: a secret that begins with a word a place
is recognised by (``secret…``, ``password…``) must not hide that word from them.

Also here: :func:`printable`, which strips terminal control sequences from venue text
before a terminal shows it (a target named ``\\x1b]0;pwned\\x07`` must not retitle the
operator's terminal, nor clear the screen in the middle of a kill report).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import re
import threading
import unicodedata
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace

from console.core.model import Outcome

MASK = "***"

# Shortest credential value we mask by value: shorter ones ("1", "ab") would shred
# ordinary text, and are caught by the key-based patterns where they matter.
_MIN_SECRET_LEN = 6
# Shortest piece of a value (its head or its tail) masked on its own: the same six, so
# that every value held starts with a head the one search for heads and tails finds.
_MIN_FRAGMENT_LEN = _MIN_SECRET_LEN
_ENDS_SEARCHED_ONE_BY_ONE = 8  # more: one regular expression (Scrubber.holds_a_secret)

_KEY_NAMES = (
    r"x[-_]?api[-_]?key|api[-_]?key|api[-_]?secret|apikey|access[-_]?token|refresh[-_]?token"
    r"|id[-_]?token|auth[-_]?token|admin[-_]?token|token|secret|password|passwd|pwd"
    r"|signature|x[-_]?signature|x[-_]?pipai[-_]?signature|sig|session[-_]?id|client[-_]?secret"
)
# "key": "value" / 'key': 'value' (JSON and Python reprs)
_QUOTED = re.compile(
    rf"""(?P<pre>["']?(?:{_KEY_NAMES})["']?\s*[:=]\s*)(?P<q>["'])(?P<val>[^"']*)(?P=q)""",
    re.IGNORECASE,
)
# key=value, key: value (headers, query strings, log lines) up to a delimiter
_BARE = re.compile(
    rf"""(?P<pre>\b(?:{_KEY_NAMES})\b\s*[:=]\s*)(?P<val>(?!\*\*\*)[^\s"',;&)}}\]]+)""",
    re.IGNORECASE,
)
_AUTH = re.compile(r"(?P<pre>\b(?:bearer|basic|token)\s+)(?P<val>[A-Za-z0-9._~+/=-]{6,})", re.I)
_COOKIE = re.compile(r"(?P<pre>\b(?:set-)?cookie\s*[:=]\s*)(?P<val>[^\r\n]+)", re.IGNORECASE)


def _mask(match: re.Match[str]) -> str:
    quote = match.groupdict().get("q") or ""
    return f"{match.group('pre')}{quote}{MASK}{quote}"


def _mask_quoted(match: re.Match[str]) -> str:
    """:func:`_mask`, but for a name that only *ends* in a credential word and holds
    words, not a value: an error code and its message (PipAI's ``INVALID_SIGNATURE:
    "Request signature did not match expected value"``, a FinRadar ``INVALID_API_KEY:
    "…"``) is the vendor's words — masked, the operator lost the very words saying what
    was refused. A credential holds no blank; a name that *is* a credential word
    (``"signature": "…"``) is masked whatever its value."""
    start, text = match.start(), match.string
    inside_a_name = start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_")
    if inside_a_name and match.group("pre")[:1] not in "\"'" and " " in match.group("val").strip():
        return match.group(0)
    return _mask(match)


_Trie = dict[str, "_Trie"]
_TRIE_MAX_LEN = 256  # longer values (a token) keep the alternation: building and
# compiling the trie's pattern recurses once per character and per nested group


def alternation_pattern(values: Iterable[str]) -> re.Pattern[str]:
    """Every value, longest first (a secret containing another is masked whole)."""
    ordered = sorted(values, key=len, reverse=True)
    return re.compile("|".join(re.escape(v) for v in ordered))


def trie_pattern(values: Iterable[str]) -> re.Pattern[str]:
    """A pattern that matches exactly what :func:`alternation_pattern` matches — at each
    position the longest value found there — as a trie: one branch per next character
    instead of one try per value (``re`` tries an alternation value by value at each
    character: a 55-tech profile's 136 keys, 272 forms, cost ~20 µs a text; this, a few)."""
    root: _Trie = {}
    for value in values:
        node = root
        for char in value:
            node = node.setdefault(char, {})
        node[""] = {}  # a value ends here

    def build(node: _Trie) -> str:
        ends = "" in node
        branches = [re.escape(char) + build(child) for char, child in node.items() if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if ends else body  # greedy: the longer value first

    return re.compile(build(root))


@functools.lru_cache(maxsize=64)
def values_pattern(values: frozenset[str]) -> re.Pattern[str]:
    """The trie when it can be built, else the alternation (the same matches). Kept for
    the same values: every client of a venue, each session's scrubber and the tests'
    thousands of clients mask the same few secrets, and a trie of a 55-tech profile's
    272 forms takes ~2 ms to build."""
    if max(map(len, values)) <= _TRIE_MAX_LEN:
        with contextlib.suppress(RecursionError, re.error):
            return trie_pattern(values)
    return alternation_pattern(values)


@dataclass(frozen=True, slots=True)
class _Held:
    """What a scrubber masks by value, replaced whole when a value is added: a reader in
    another thread sees the values before or after, never half of each."""

    values: re.Pattern[str]
    """Every value, whole."""
    ends: re.Pattern[str]
    """Every value's first six characters and the last six of each value whose pieces
    are masked (:data:`_MIN_FRAGMENT_LEN`): a text in which this finds nothing holds no
    value and no piece of one."""
    listed: tuple[str, ...]
    """What :meth:`Scrubber.holds_a_secret` looks for: the heads and tails of the values
    whose pieces are masked, and the other values whole (a longer string, found faster)."""
    heads: Mapping[str, tuple[str, ...]]
    """First six characters -> the values (whose pieces are masked) starting with them."""
    tails: Mapping[str, tuple[str, ...]]
    """Last six characters -> the values (whose pieces are masked) ending with them."""

    @classmethod
    def of(cls, values: frozenset[str], pieced: frozenset[str]) -> _Held:
        """``values`` masked whole; the heads and tails of those in ``pieced`` too."""
        n = _MIN_FRAGMENT_LEN
        heads: dict[str, tuple[str, ...]] = {}
        tails: dict[str, tuple[str, ...]] = {}
        for value in sorted(pieced):
            if len(value) > n:  # (a value of six is all head: masked whole already)
                heads[value[:n]] = (*heads.get(value[:n], ()), value)
                tails[value[-n:]] = (*tails.get(value[-n:], ()), value)
        ends = frozenset({value[:n] for value in values} | tails.keys())
        whole = {v for v in values if not (v in pieced and len(v) > n)}
        listed = (*heads, *tails.keys() - heads.keys(), *whole)
        return cls(values_pattern(values), values_pattern(ends), listed, heads, tails)

    def mask_pieces(self, text: str) -> str:
        """``text`` with every run of six or more characters that begins or ends a value
        masked (a run that is both, or runs that overlap: one mask for them all)."""
        search, n = self.ends.search, _MIN_FRAGMENT_LEN
        spans: list[tuple[int, int]] = []
        found = search(text)
        while found is not None:  # every place an end starts, overlapping ones too
            at, six = found.start(), found.group()
            for value in self.heads.get(six, ()):
                spans.append((at, _head_end(text, at, value)))
            for value in self.tails.get(six, ()):
                spans.append((_tail_start(text, at + n, value), at + n))
            found = search(text, at + 1)
        if not spans:
            return text
        merged: list[list[int]] = []
        for start, stop in sorted(spans):
            if merged and start < merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], stop)
            else:
                merged.append([start, stop])
        pieces: list[str] = []
        done = 0
        for start, stop in merged:
            pieces += (text[done:start], MASK)
            done = stop
        pieces.append(text[done:])
        return "".join(pieces)


def _head_end(text: str, at: int, value: str) -> int:
    """Where the longest head of ``value`` found at ``at`` in ``text`` ends (six known)."""
    end, stop = at + _MIN_FRAGMENT_LEN, min(len(text), at + len(value))
    while end < stop and text[end] == value[end - at]:
        end += 1
    return end


def _tail_start(text: str, end: int, value: str) -> int:
    """Where the longest tail of ``value`` ending at ``end`` in ``text`` starts (six
    known)."""
    start, stop = end - _MIN_FRAGMENT_LEN, max(0, end - len(value))
    while start > stop and text[start - 1] == value[start - 1 - end]:
        start -= 1
    return start


class Scrubber:
    """Masks known secret values, anything in a credential-shaped place, and any run of
    six or more characters that begins or ends a known value (see the module)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._pieced: set[str] = set()  # the values whose heads and tails are masked too
        self._held: _Held | None = None
        self.add(*secrets)

    def add(self, *secrets: str) -> None:
        """Learn more values to mask (a token minted at login, a session cookie): whole,
        and their heads and tails."""
        forms: set[str] = set()
        pieced: set[str] = set()
        for secret in secrets:
            if not secret or len(secret) < _MIN_SECRET_LEN:
                continue
            as_sent = {
                secret,
                urllib.parse.quote(secret, safe=""),
                urllib.parse.quote_plus(secret),
            }
            forms |= as_sent
            forms.add(base64.b64encode(secret.encode()).decode().rstrip("="))
            if "://" not in secret and "@" not in secret:  # (see the module)
                pieced |= as_sent
        with self._lock:
            before = len(self._values), len(self._pieced)
            self._values |= {f for f in forms if len(f) >= _MIN_SECRET_LEN}
            self._pieced |= {f for f in pieced if len(f) >= _MIN_SECRET_LEN}
            if (len(self._values), len(self._pieced)) != before:
                self._held = _Held.of(frozenset(self._values), frozenset(self._pieced))

    def add_basic(self, user: str, password: str) -> None:
        """Mask the Basic-auth form of a user and password (``base64(user:password)``)."""
        self.add(password, base64.b64encode(f"{user}:{password}".encode()).decode())

    def scrub(self, text: str) -> str:
        """``text`` with every known secret, credential-shaped value and head or tail of a
        known secret masked — in that order (see the module)."""
        if not text:
            return text
        held = self._held
        if held is None:
            return self.scrub_places(text)
        if held.ends.search(text) is None:
            # No held value, nor a head or tail of one, in it (nearly every outcome of a
            # kill): that one search is all, unless masking a place changed the text.
            placed = self.scrub_places(text)
            return placed if placed is text else held.mask_pieces(placed)
        return held.mask_pieces(self.scrub_places(held.values.sub(MASK, text)))

    def scrub_places(self, text: str) -> str:
        """``text`` with every value in a credential-shaped place masked
        (:func:`scrub_shapes`; a venue's scrubber may mask more places)."""
        return scrub_shapes(text)

    def holds_a_secret(self, text: str) -> bool:
        """Whether a known secret value (any of its forms), or a head or tail of one, may
        be in ``text`` (True also for an end that masks nothing, a URL's head: then
        :meth:`scrub` gives back ``text`` itself). For 2.3 MB of 50,000 target names
        joined: a substring search for each six-character end (~1.3 ms each) and each
        value held only whole (PipAI's key and secret: ~5.5 ms, against ~1.3 ms for
        their whole values alone); past :data:`_ENDS_SEARCHED_ONE_BY_ONE` of them, one
        search of them all (~10–30 ms; a 55-tech profile's 136 keys: ~26 ms, against
        ~75 ms for their 272 values one by one)."""
        held = self._held
        if held is None:
            return False
        if len(held.listed) <= _ENDS_SEARCHED_ONE_BY_ONE:
            return any(end in text for end in held.listed)
        return held.ends.search(text) is not None

    def __call__(self, text: str) -> str:
        return self.scrub(text)

    def __repr__(self) -> str:
        return f"Scrubber({len(self._values)} values)"


def scrub_outcome(outcome: Outcome, scrub: Callable[[str], str]) -> Outcome:
    """``outcome`` with its message, warning and vendor code through ``scrub`` (the same
    object back when nothing changed: a kill's thousands of clean answers cost nothing)."""
    message = scrub(outcome.message)
    warning = scrub(outcome.warning) if outcome.warning else outcome.warning
    code = scrub(outcome.vendor_code) if outcome.vendor_code else outcome.vendor_code
    if (message, warning, code) == (outcome.message, outcome.warning, outcome.vendor_code):
        return outcome
    return replace(outcome, message=message, warning=warning, vendor_code=code)


# Every shape holds one of these words, in any case: each key name of _QUOTED and _BARE
# contains one of the first seven, _AUTH needs bearer, basic or token, _COOKIE cookie.
_STEMS = ("key", "secret", "token", "pass", "pwd", "sig", "session", "bearer", "basic", "cookie")
# The four non-ASCII letters re.IGNORECASE matches to ASCII ones (the re module's docs:
# "İ", "ı", "ſ" and the Kelvin sign), each folded to that letter, one character for one.
_TO_ASCII = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})


_STEM = re.compile("|".join(_STEMS))
"""Any of :data:`_STEMS`, searched for in folded text: one pass in C rather than a
Python-level try of each word (0.4–0.6 µs less for an outcome's message)."""


def _may_hold_a_credential(text: str) -> bool:
    """False only when no shape can match ``text``: none of :data:`_STEMS` in it, in any
    case re.IGNORECASE would match (about 1 µs for an outcome, against 20–30 µs for
    the four searches)."""
    folded = text.lower()
    if not text.isascii() and (
        "\u0130" in text or "\u0131" in text or "\u017f" in text or "\u212a" in text
    ):
        folded = text.translate(_TO_ASCII).lower()
    return _STEM.search(folded) is not None


_CLEAN: set[str] = set()
"""Texts seen lately in which no shape can match (bounded: emptied at
:data:`_CLEAN_MAX`; none longer than :data:`_CLEAN_LEN`). An outcome's message is scrubbed by its venue and again by the
journal on the way in: the second time, the same text is known clean by one set lookup
(its hash already computed) instead of a second fold and search."""
_CLEAN_MAX = 4096
_CLEAN_LEN = 1024


def scrub_shapes(text: str) -> str:
    """Mask values sitting where credentials live, whoever's they are.

    Every shape needs a word such as ``token``, ``key``, ``secret``, ``sig`` or
    ``cookie`` (:data:`_STEMS`): a text with none of them (nearly all of a kill's
    thousands of answers: "x3algo: 'stopped' — algorithm 'X' is now stopped.") has
    nothing to mask, and is passed without the four searches.
    """
    if not text or text in _CLEAN:
        return text
    if not _may_hold_a_credential(text):
        if len(text) <= _CLEAN_LEN:
            if len(_CLEAN) >= _CLEAN_MAX:
                _CLEAN.clear()
            _CLEAN.add(text)
        return text
    text = _QUOTED.sub(_mask_quoted, text)
    text = _BARE.sub(_mask, text)
    text = _AUTH.sub(_mask, text)
    return _COOKIE.sub(_mask, text)


# C0 and C1 controls (tab kept as a space), DEL, the bidirectional overrides that make
# text read differently from what it is, and lone surrogates (JSON may carry "\ud823",
# which no terminal encoding can write).
_CONTROLS = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI sequences (colours, cursor moves, clear screen)
    r"|\x9b[0-?]*[ -/]*[@-~]"  # the same, introduced by the 8-bit CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC (window title, hyperlinks, clipboard)
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC strings
    r"|\x1b.?"  # any other escape
    r"|[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


Scrub = Callable[[str], str]
"""A venue's scrubber: text in, the same text with no secret out."""


SCRUB_MARGIN = 4096
"""How far past a cut a text is scrubbed (longer than any credential): a credential
across the cut is masked whole, and a huge text (a venue's 64 MB error body, an id of
2 MB) is never scrubbed whole — 2 MB of credential-shaped words took ~0.9 s."""


def scrub_head(text: str, limit: int, scrub: Scrub) -> str:
    """The first ``limit`` characters of ``text`` once scrubbed, scrubbing no more than
    :data:`SCRUB_MARGIN` past the cut."""
    return scrub(text[: limit + SCRUB_MARGIN])[:limit]


def clip(text: str, limit: int) -> str:
    """``text`` at most ``limit`` characters, an ellipsis ending one that was longer (text
    already scrubbed: :func:`cut_scrubbed` scrubs before it cuts)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def cut_scrubbed(text: str, limit: int, scrub: Scrub | None) -> str:
    """Venue text for a message, at most ``limit`` characters: ``scrub`` (the venue's
    scrubber) applied before the cut, up to :data:`SCRUB_MARGIN` past it — cut first, a
    credential the venue echoed across the cut would lose its end and no longer be
    recognised whole. With no ``scrub`` (a caller that scrubs its whole message itself)
    it is not cut."""
    if scrub is None:
        return text
    clean = scrub(text[: limit + SCRUB_MARGIN])
    if len(clean) <= limit and len(text) <= limit + SCRUB_MARGIN:
        return clean
    return clean[: limit - 1] + "…"


def exception_line(exc: BaseException, scrub: Scrub, limit: int = 160) -> str:
    """An exception's first line (its kind when it says nothing), scrubbed, then cut."""
    text = str(exc)
    return cut_scrubbed(text.splitlines()[0] if text else type(exc).__name__, limit, scrub)


_BREAKS = re.compile(r"(?<=[^\s\x00-\x1f\x7f])[\r\n]+(?=[^\s\x00-\x1f\x7f])")
"""Line breaks between two printed characters (a space there); the rest go with the controls."""


def printable(text: str) -> str:
    """Venue text made safe to put on a terminal: escape sequences and control
    characters removed, tabs and line breaks as spaces (a web server's "500 Internal
    Server Error\n\nServer got itself in trouble" read "…ErrorServer…"). Ordinary text
    comes back as the same object."""
    if text.isprintable():
        return text
    text = _CONTROLS.sub("", _BREAKS.sub(" ", text.replace("\t", " ")))
    if text.isprintable():
        return text
    # What is left: other separators (shown as a space), format, private-use and
    # unassigned code points (dropped): nothing a terminal would draw as the venue meant.
    return "".join(
        c if c.isprintable() else (" " if unicodedata.category(c).startswith("Z") else "")
        for c in text
    )
