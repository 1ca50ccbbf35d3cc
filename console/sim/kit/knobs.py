"""Fault and pacing knobs of one simulated vendor, settable live over ``/_sim/knobs``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass
class Knobs:
    """What a simulated vendor does wrong, and how strictly it limits rates.

    Every probability is drawn from the vendor's seeded RNG, so a run is repeatable.
    """

    latency_ms: float = 0.0  # added before every REST answer
    error_rate: float = 0.0  # share of REST requests answered 500 in the vendor's words
    burst_429: int = 0  # the next N REST requests are answered 429 (counts down)
    malformed_rate: float = 0.0  # share of 200 answers whose JSON body is cut short
    unknown_status_rate: float = 0.0  # share of targets reported with a status nobody knows
    down: bool = False  # every REST request is answered 503; WebSockets are refused
    ws_drop_after_s: float = 0.0  # > 0: every WebSocket is closed after this many seconds
    rate_limits: bool = True  # enforce the documented limits
    rate_scale: float = 1.0  # multiplies every rate window (0.01: 100/min becomes 100/0.6 s)
    event_rate: float = 0.0  # > 0: extra stream events per second (benchmarks)
    conflict_mode: bool = False  # 55-tech: answer repeated actions 409 instead of already_*
    # Hostile answers (docs/EMERGENCY.md, "Hostile venues"): each reproduces a way real
    # venues were seen to answer, which the documented contracts never describe.
    retry_after: str = ""  # Retry-After of every 429 (e.g. "3600", "inf", "1e309", a date)
    list_429: int = 0  # the next N list reads are answered 429 (counts down; -1: forever)
    list_503: int = 0  # the next N list reads are answered 503 (counts down; -1: forever)
    control_429: int = 0  # the next N control calls (non-GET, not a login): 429 (-1: forever)
    list_body: str = ""  # list reads answered 200 with this body; "EMPTY": a zero-length one
    huge_list_mb: float = 0.0  # > 0: list answers padded to this many MB (valid JSON)
    huge_errors_mb: float = 0.0  # > 0: every error answer (4xx, 5xx) padded by this many MB
    deep_nesting: int = 0  # > 0: list answers are this many nested '[' (never closed)
    endless_pages: bool = False  # list paging never ends (full pages, fresh cursors, has_more)
    echo_secret: bool = False  # error answers (and stream error frames) quote the credential
    duplicate_slug: bool = False  # 55-tech: every API key's answers carry one client slug
    revoked_keys: int = 0  # 55-tech: the first N API keys are refused (401)
    failing_status_keys: int = 0  # 55-tech: the first N keys' status reads answer 500
    bad_row: bool = False  # one list row carries an impossible value (Joyride: expiry 10^12)
    dot_ids: bool = False  # two extra targets with ids "." and ".."
    escape_names: bool = False  # target names carry terminal escape sequences
    empty_total: bool = False  # FinRadar: list answers hold no rows; meta.total still counts
    page_cap: int = 0  # FinRadar: > 0, a list page holds at most N rows whatever limit asks
    failing_pages_from: int = 0  # FinRadar: > 0, list pages at this offset or later answer 500
    documented_meta: bool = False  # FinRadar: the list's meta holds slots_available only
    plan_slots: int = 0  # FinRadar: > 0, a plan of N slots; fewer than ACTIVE: slots_available < 0
    sign_query: bool = True  # PipAI: the signed path includes ?query (False: the path alone)
    vanish_mid_read: bool = False  # FinRadar: past offset 0 the newest target is left out
    list_bomb_mb: float = 0.0  # > 0: list answers compressed, inflating to this many MB
    control_bomb_mb: float = 0.0  # > 0: control answers (non-GET) likewise
    bomb_encoding: str = "gzip"  # the bombs' Content-Encoding: "gzip" or "deflate"
    duplicate_keys: bool = False  # list answers name their list key again, last, as []
    control_400: int = 0  # the next N control calls (non-GET, not a login): 400 (-1: forever)
    repeat_pages: bool = False  # PipAI: every page the first page's rows, fresh cursor
    duplicate_id: bool = False  # PipAI, x3algo, FinRadar: the newest target's row listed
    # twice, the twin running whatever is halted
    pages_lie: bool = False  # x3algo: totalPages says 1 whatever total says
    still_active: bool = False  # x3algo: stopped rows and stop answers say active: true
    shout_status: bool = False  # x3algo: every status word in capitals ("ACTIVE", "STOPPED")
    # > 0: every control call is carried out, then answered with this status and no body:
    # 202 or 204 (a success no vendor documents), 302 or 303 (a redirect), 502 or 504 (a
    # gateway that gave up after passing the call on).
    control_status: int = 0
    bom: bool = False  # every REST answer's body begins with a UTF-8 byte order mark
    # Successful control answers name another target: each id of the call's path quoted
    # in the answer gets "-other" appended (x3algo, PipAI, FinRadar; the call is done).
    echo_other: bool = False
    read_other: bool = False  # likewise single-target reads (a GET naming an id in its path)
    # Reads (lists, single GETs) put the caller's credential (its key header, or its
    # bearer token) at the front of every name and ticker they list.
    key_in_names: bool = False
    # Reads carry numbers no venue could mean: every count a 400-digit integer, every
    # amount or rate 1e300 (x3algo's performance, PipAI's stats).
    huge_numbers: bool = False
    # Control calls wait, read but not carried out, until this is set false again (a test
    # holding a kill mid-way without a clock: what the client sees is a slow venue).
    hold_controls: bool = False
    # List reads wait, unanswered, until this is set false again (a venue whose list
    # hangs while the others answer: a kill must not hold their stops for it).
    hold_lists: bool = False
    # x3algo: not empty, what logins and refreshes say in expiresIn (JSON: "30", "0",
    # "-5", "null", "\"soon\""); the token still lives its 15 minutes.
    expires_in: str = ""
    stale_reads_ms: float = 0.0  # x3algo: > 0, reads show a stop this much later (a cache)
    # 55-tech: control calls are answered as done (``stop_applied``, the flag up in the
    # answer) but nothing is kept: a venue that says yes and does not.
    ignore_controls: bool = False
    # 55-tech: a control call with any body is refused 422, as a venue validating the
    # documented (body-less) request strictly would.
    refuse_bodies: bool = False
    # The next N requests but GETs arriving on a kept-alive (already answered)
    # connection: it is closed without an answer, as a venue's idle close racing a
    # request does (-1: every one; console/sim/kit/keepalive.py). A fresh one is served.
    stale_keepalive: int = 0

    def update(self, changes: dict[str, Any]) -> None:
        """Apply changes from JSON, refusing unknown names and coercing to each field's type."""
        known = {f.name: f for f in fields(self)}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown knob {name!r}; known: {', '.join(sorted(known))}")
            current = getattr(self, name)
            setattr(self, name, type(current)(value))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
