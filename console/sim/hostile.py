"""Named hostile venues: each way a real venue was seen to answer badly, as knobs.

Issue 11 found the kill hanging, lying or leaking against venues that answer badly; each
case here reproduces one finding on the simulator (its number in the issue), so the
loopback acceptance tests (``tests/test_kill_hostile.py``) and the figures script
(``benchmarks/kill_hostile.py``) run exactly the same worlds. ``knobs`` go to each
vendor's ``/_sim/knobs`` before the kill; ``venue`` are profile settings of a venue
(bounds made small enough for a test to meet them in a second); ``profile`` are profile
settings (the kill's deadlines).

``broken`` names the venues the kill cannot fully halt and must name; every other
venue must end verified halted. ``words`` must appear in what the kill printed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Knobs = Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True)
class HostileCase:
    name: str
    finding: str  # the numbered finding
    what: str
    knobs: Knobs = field(default_factory=dict)
    venue: Knobs = field(default_factory=dict)
    profile: Mapping[str, Any] = field(default_factory=dict)
    broken: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    exit_code: int = 4
    """What the kill would exit with against a venue that reports pause state."""

    @property
    def kill_exit(self) -> int:
        """The kill's exit in the simulator's world: Joyride, healthy unless the case
        breaks it, cannot report pause state, so a kill that halts all else ends halted
        by Joyride's answer only (14), never a clean 0."""
        return 14 if self.exit_code == 0 else self.exit_code


APIS = ("55tech", "x3algo", "pipai", "joyride", "finradar")
NAMING = ("55tech", "x3algo", "pipai", "finradar")
"""The venues whose reads carry names the venue writes (Joyride's expirations are
named by the console)."""


def every(apis: tuple[str, ...], **knobs: Any) -> Knobs:
    """The same knobs for each of ``apis``."""
    return {api: knobs for api in apis}


CASES: tuple[HostileCase, ...] = (
    HostileCase(
        "retry-after-list", "1", "FinRadar's list answers 429 with Retry-After: 3600, forever",
        knobs={"finradar": {"list_429": -1, "retry_after": "3600"}},
        broken=("finradar",), words=("1 h",),
    ),
    HostileCase(
        "retry-after-inf", "1", "FinRadar's list answers 429 with Retry-After: inf",
        knobs={"finradar": {"list_429": -1, "retry_after": "inf"}},
        broken=("finradar",), words=("forever",),
    ),
    HostileCase(
        "retry-after-date", "1", "FinRadar's list: 429, Retry-After an HTTP date in year 9999",
        knobs={"finradar": {"list_429": -1, "retry_after": "Fri, 31 Dec 9999 23:59:59 GMT"}},
        broken=("finradar",), words=("forever",),
    ),
    HostileCase(
        "retry-after-stops", "1", "x3algo answers every stop 429 with Retry-After: 1e309",
        knobs={"x3algo": {"control_429": -1, "retry_after": "1e309"}},
        broken=("x3algo",), words=("forever",),
    ),
    HostileCase(
        "burst-429-stops", "1", "every venue refuses its next 6 control calls 429 (Retry-After: 1)",
        knobs=every(APIS, control_429=6, retry_after="1"),
        exit_code=0, words=("refused with 429",),
    ),
    HostileCase(
        "stops-429-for-ever-x3algo", "1", "x3algo answers every stop 429 (Retry-After: 1), for ever",
        knobs={"x3algo": {"control_429": -1, "retry_after": "1"}},
        venue={"x3algo": {"retry_after_cap": 5}}, broken=("x3algo",),
        words=("refused with 429 on each of",),
    ),
    HostileCase(
        "stops-429-past-deadline-x3algo", "1",
        "x3algo answers every stop 429 asking 20 s; the dispatch deadline is 3 s",
        knobs={"x3algo": {"control_429": -1, "retry_after": "20"}},
        profile={"kill_dispatch_deadline": 3}, broken=("x3algo",),
        words=("not sent again: x3algo refused it with 429 once", "nothing was done"),
    ),
    HostileCase(
        "endless-pipai", "2", "PipAI hands a fresh cursor on every page, forever",
        knobs={"pipai": {"endless_pages": True}}, venue={"pipai": {"max_pages": 40}},
        broken=("pipai",), words=("INCOMPLETE",),
    ),
    HostileCase(
        "endless-finradar", "2", "FinRadar says has_more on every page, forever",
        knobs={"finradar": {"endless_pages": True}}, venue={"finradar": {"max_pages": 40}},
        broken=("finradar",), words=("INCOMPLETE",),
    ),
    HostileCase(
        "endless-x3algo", "2", "x3algo reports full pages and more pages, forever",
        knobs={"x3algo": {"endless_pages": True}}, venue={"x3algo": {"max_pages": 40}},
        broken=("x3algo",), words=("INCOMPLETE",),
    ),
    HostileCase(
        "empty-object-x3algo", "3", "x3algo answers its list with {}",
        knobs={"x3algo": {"list_body": "{}"}}, broken=("x3algo",), words=("UNREADABLE",),
    ),
    HostileCase(
        "empty-object-pipai", "3", "PipAI answers its list with {}",
        knobs={"pipai": {"list_body": "{}"}}, broken=("pipai",), words=("UNREADABLE",),
    ),
    HostileCase(
        "empty-object-finradar", "3", "FinRadar answers its list with {}",
        knobs={"finradar": {"list_body": "{}"}}, broken=("finradar",), words=("UNREADABLE",),
    ),
    HostileCase(
        "empty-body-joyride", "3", "Joyride answers its first instrument read with no body",
        knobs={"joyride": {"list_body": "EMPTY"}}, broken=("joyride",), words=("UNREADABLE",),
    ),
    HostileCase(
        "duplicate-slug", "4", "every 55-tech API key answers as the same client",
        knobs={"55tech": {"duplicate_slug": True}}, exit_code=0,
    ),
    HostileCase(
        "echoed-key", "5", "55-tech refuses one key and quotes it back in its error",
        knobs={"55tech": {"echo_secret": True, "revoked_keys": 1}},
        broken=("55tech",), words=("55tech",),
    ),
    HostileCase(
        "revoked-key", "7", "one 55-tech key of the profile's is revoked",
        knobs={"55tech": {"revoked_keys": 1}}, broken=("55tech",), words=("UNREADABLE ROWS",),
    ),
    HostileCase(
        "status-500-one-key-55tech", "7",
        "one 55-tech client's status reads answer 500; its stop works",
        knobs={"55tech": {"failing_status_keys": 1}}, broken=("55tech",),
        words=("UNREADABLE ROWS", "key #1", "stop_applied"),
    ),
    HostileCase(
        "bad-row-joyride", "7", "one Joyride instrument expires at 10^12",
        knobs={"joyride": {"bad_row": True}}, broken=("joyride",), words=("UNREADABLE ROWS",),
    ),
    HostileCase(
        "one-500-planning", "7", "PipAI's first list read answers 429 (then recovers)",
        knobs={"pipai": {"list_429": 1, "retry_after": "1"}}, exit_code=0,
    ),
    HostileCase(
        "list-503-restart", "7",
        "x3algo's, PipAI's, Joyride's and FinRadar's lists answer 503 three times (a "
        "restart), then recover",
        knobs=every(("x3algo", "pipai", "joyride", "finradar"), list_503=3), exit_code=0,
    ),
    HostileCase(
        "list-503-for-ever-x3algo", "7", "x3algo's list answers 503 for ever",
        knobs={"x3algo": {"list_503": -1}}, profile={"kill_read_retry": 4},
        broken=("x3algo",), words=("503", "tried"),
    ),
    HostileCase(
        "dot-ids", "9", "x3algo lists algorithms whose ids are '.' and '..'",
        knobs={"x3algo": {"dot_ids": True}}, broken=("x3algo",), words=("safely",),
    ),
    HostileCase(
        "huge-body", "11", "PipAI's list answer is 8 MB against a 2 MB cap",
        knobs={"pipai": {"huge_list_mb": 8}}, venue={"pipai": {"max_body_mb": 2}},
        broken=("pipai",), words=("larger than",),
    ),
    HostileCase(
        "deep-nesting", "11", "FinRadar's list answer is 5,000 nested '['",
        knobs={"finradar": {"deep_nesting": 5000}}, broken=("finradar",),
        words=("finradar",),
    ),
    HostileCase(
        "empty-total-finradar", "3", "FinRadar lists no rows while its meta.total counts 12",
        knobs={"finradar": {"empty_total": True}}, broken=("finradar",), words=("UNREADABLE",),
    ),
    HostileCase(
        "twin-row-finradar", "4", "FinRadar lists an ACTIVE target's id on two rows",
        knobs={"finradar": {"duplicate_id": True}}, broken=("finradar",),
        words=("UNREADABLE ROWS", "on 2 rows"),
    ),
    HostileCase(
        "short-pages-finradar", "2", "FinRadar serves 5 rows a page whatever limit asks",
        knobs={"finradar": {"page_cap": 5}}, exit_code=0,
    ),
    HostileCase(
        "huge-refusals", "11", "every venue refuses every control call 400, padded to 3 MB",
        knobs=every(APIS, control_400=-1, huge_errors_mb=3), broken=APIS,
        words=("larger than 1 MB", "not read"), exit_code=5,
    ),
    HostileCase(
        "page-500-finradar", "2", "FinRadar's documented list: the page after the first answers 500",
        knobs={"finradar": {"documented_meta": True, "failing_pages_from": 1}},
        broken=("finradar",), words=("INCOMPLETE", "failed (500"),
    ),
    HostileCase(
        "vanish-mid-read-finradar", "2", "FinRadar's newest target vanishes after page 1",
        knobs={"finradar": {"vanish_mid_read": True}},
        venue={"finradar": {"options": {"page_size": 5}}}, broken=("finradar",),
        words=("INCOMPLETE", "changed while it was read"),
    ),
    # The second round: an independent tester's hostile venues (not this simulator).
    HostileCase(
        "gzip-bomb-list-x3algo", "11", "x3algo's list answer is gzip inflating to 48 MB (2 MB cap)",
        knobs={"x3algo": {"list_bomb_mb": 48}}, venue={"x3algo": {"max_body_mb": 2}},
        broken=("x3algo",), words=("larger than 2 MB",),
    ),
    HostileCase(
        "gzip-bomb-stops-x3algo", "11", "x3algo answers every stop with gzip inflating to 48 MB",
        knobs={"x3algo": {"control_bomb_mb": 48}}, broken=("x3algo",),
        words=("larger than 1 MB",), exit_code=5,
    ),
    HostileCase(
        "deflate-bomb-list-pipai", "11", "PipAI's list answer is deflate inflating to 48 MB",
        knobs={"pipai": {"list_bomb_mb": 48, "bomb_encoding": "deflate"}},
        venue={"pipai": {"max_body_mb": 2}}, broken=("pipai",), words=("larger than 2 MB",),
    ),
    HostileCase(
        "same-rows-pipai", "2", "PipAI hands a fresh cursor on every page, with the same rows",
        knobs={"pipai": {"repeat_pages": True}}, broken=("pipai",),
        words=("INCOMPLETE", "does not advance"),
    ),
    HostileCase(
        "twin-row-pipai", "4", "PipAI lists one strategy's id on two rows, the twin deployed",
        knobs={"pipai": {"duplicate_id": True}}, broken=("pipai",),
        words=("UNREADABLE ROWS", "listed twice"),
    ),
    HostileCase(
        "duplicate-keys-pipai", "3", "PipAI's list names data twice, the second time []",
        knobs={"pipai": {"duplicate_keys": True}}, broken=("pipai",),
        words=("UNREADABLE", "appears twice"),
    ),
    HostileCase(
        "stop-400-x3algo", "11", "x3algo refuses every stop with HTTP 400",
        knobs={"x3algo": {"control_400": -1}}, broken=("x3algo",),
        words=("refused the stop",), exit_code=5,
    ),
    HostileCase(
        "still-active-x3algo", "11", "x3algo's stopped algorithms still say active: true",
        knobs={"x3algo": {"still_active": True}}, broken=("x3algo",), exit_code=5,
    ),
    HostileCase(
        "status-case-x3algo", "11", "x3algo spells every status word in capitals",
        knobs={"x3algo": {"shout_status": True}}, exit_code=0,
    ),
    HostileCase(
        "stale-reads-x3algo", "11", "x3algo's reads show a stop 1.5 s after it was answered",
        knobs={"x3algo": {"stale_reads_ms": 1500}}, exit_code=0,
    ),
    HostileCase(
        "escape-names", "11", "names carry terminal escape sequences",
        knobs=every(NAMING, escape_names=True),
        exit_code=0,
    ),
    HostileCase(
        "paced-past-deadline-x3algo", "1", "x3algo's stops outlast the dispatch deadline in the pacer",
        venue={"x3algo": {"rate_limits": {"trading": [5, 600.0]}}},
        profile={"kill_dispatch_deadline": 3}, broken=("x3algo",),
        words=("not sent", "nothing reached the venue"),
    ),
    HostileCase(
        "stale-keepalive", "desk", "every venue closes each kept-alive connection as a control call arrives",
        knobs=every(APIS, stale_keepalive=-1),
        exit_code=0, words=("sent again on a fresh connection",),
    ),
    HostileCase(
        "accepted-stops-55tech", "11", "55-tech carries out each stop, then answers 202 with no body",
        knobs={"55tech": {"control_status": 202}}, exit_code=0,
    ),
    HostileCase(
        "gateway-504-x3algo", "11",
        "x3algo carries out each stop behind a gateway that answers 504; reads show it 1.5 s late",
        knobs={"x3algo": {"control_status": 504, "stale_reads_ms": 1500}}, exit_code=0,
    ),
    HostileCase(
        "see-other-pipai", "11", "PipAI carries out each pause, then redirects: 303 See Other",
        knobs={"pipai": {"control_status": 303}}, exit_code=0,
    ),
    HostileCase(
        "short-token-x3algo", "11", "x3algo's logins say the token lives 30 s (it lives 15 min)",
        knobs={"x3algo": {"expires_in": "30"}}, exit_code=0,
    ),
    HostileCase(
        "key-in-names", "11", "every venue's reads put the caller's credential in front of each name",
        knobs=every(NAMING, key_in_names=True),
        exit_code=0,
    ),
    HostileCase(
        "huge-numbers", "11", "x3algo's and PipAI's counts are 400-digit integers, their amounts 1e300",
        knobs={api: {"huge_numbers": True} for api in ("x3algo", "pipai")}, broken=("pipai",),
        words=("UNREADABLE ROWS",),  # PipAI refuses a strategy with an impossible count
    ),
    HostileCase(
        "list-hangs-pipai", "11", "PipAI's list never answers while the others answer at once",
        knobs={"pipai": {"hold_lists": True}}, venue={"pipai": {"request_timeout": 2.0}},
        broken=("pipai",), words=("still on its way", "UNREACHABLE"),
    ),
    HostileCase(
        "bom-everywhere", "11", "every venue's answers begin with a UTF-8 byte order mark",
        knobs=every(APIS, bom=True),
        exit_code=0,
    ),
)  # fmt: skip

BY_NAME = {case.name: case for case in CASES}
