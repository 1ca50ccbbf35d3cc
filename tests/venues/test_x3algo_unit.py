"""x3algo client quirks against a scripted venue (tests/venues/loopback.py)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from console.core.model import Action, ActionKind, OutcomeKind, State
from console.venues.kit.base import RateLimit, Secret, VenueSettings
from console.venues.kit.feeds import FeedError, Incomplete, Unreadable
from console.venues.x3algo.client import X3AlgoClient, X3AlgoReadError
from tests.venues.loopback import LoopbackVenue

PASSWORD = "hunter2-secret-pass"
ALGO = "507f1f77bcf86cd799439011"
STOP = Action(ActionKind.STOP)
START = Action(ActionKind.START)


def envelope(status: int, code: str, message: str, **details: Any) -> httpx.Response:
    body = {"error": {"message": message, "code": code, "status": status, "details": details}}
    return httpx.Response(status, json=body)


def algo(status: str) -> dict[str, Any]:
    return {
        "id": ALGO,
        "name": "RSI Momentum Strategy",
        "status": status,
        "active": status == "active",
    }


class FakeVenue:
    """A scripted x3algo: auth endpoints behave, the rest is up to ``routes``."""

    def __init__(self) -> None:
        self.logins = 0
        self.refreshes = 0
        self.calls: list[tuple[str, str]] = []
        self.token_n = 0
        self.valid: set[str] = set()
        self.routes: dict[tuple[str, str], Callable[[httpx.Request], httpx.Response]] = {}
        self.login_response: httpx.Response | None = None
        self.refresh_ok = True
        self.cookies_seen: list[str] = []

    def _issue(self) -> str:
        self.token_n += 1
        token = f"eyJhbGciOiJIUzI1NiJ9.eyJqdGkiOj{self.token_n}.sig{self.token_n}"
        self.valid.add(token)
        return token

    def expire_all(self) -> None:
        self.valid.clear()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.calls.append((request.method, path))
        if path == "/api/auth/login":
            self.logins += 1
            if self.login_response is not None:
                return self.login_response
            assert json.loads(request.content)["password"] == PASSWORD
            return httpx.Response(
                200,
                json={"accessToken": self._issue(), "expiresIn": 900},
                headers={
                    "Set-Cookie": "refreshToken=refresh-cookie-secret; HttpOnly; Secure; "
                    "SameSite=Strict; Max-Age=604800"
                },
            )
        if path == "/api/auth/refresh-token":
            self.refreshes += 1
            self.cookies_seen.append(request.headers.get("cookie", ""))
            if not self.refresh_ok:
                return envelope(401, "INVALID_TOKEN", "Invalid token")
            return httpx.Response(200, json={"accessToken": self._issue(), "expiresIn": 900})
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.valid:
            return envelope(401, "TOKEN_EXPIRED", "Token expired")
        handler = self.routes.get((request.method, path))
        if handler is None:
            return envelope(404, "NOT_FOUND", "Algorithm not found")
        return handler(request)


@pytest.fixture
def venue() -> FakeVenue:
    return FakeVenue()


def make_client(venue: FakeVenue, **overrides: Any) -> X3AlgoClient:
    fields: dict[str, Any] = {
        "name": "x3",
        "api": "x3algo",
        "base_url": "http://x3.test",
        "credentials": {"email": Secret("ops@example.com"), "password": Secret(PASSWORD)},
        "pacing": False,
    }
    fields.update(overrides)
    return X3AlgoClient(VenueSettings(**fields), transport=LoopbackVenue(venue))


def reply(status: str, message: str = "") -> Callable[[httpx.Request], httpx.Response]:
    return lambda _r: httpx.Response(200, json={**algo(status), "message": message})


def set_get(venue: FakeVenue, status: str) -> None:
    venue.routes[("GET", f"/api/trading/algorithms/{ALGO}")] = lambda _r: httpx.Response(
        200, json=algo(status)
    )


async def test_many_concurrent_calls_share_one_login(venue: FakeVenue) -> None:
    set_get(venue, "active")
    client = make_client(venue)
    targets = await asyncio.gather(*(client.read_target(ALGO) for _ in range(30)))
    assert all(t is not None and t.state is State.RUNNING for t in targets)
    assert venue.logins == 1
    assert client.session.logins == 1


async def test_expired_token_is_refreshed_once_with_the_cookie_and_the_call_retried(
    venue: FakeVenue,
) -> None:
    set_get(venue, "paused")
    client = make_client(venue)
    assert await client.read_target(ALGO) is not None
    venue.expire_all()
    results = await asyncio.gather(*(client.read_target(ALGO) for _ in range(10)))
    assert all(t is not None and t.state is State.PAUSED for t in results)
    assert (venue.logins, venue.refreshes) == (1, 1)
    assert venue.cookies_seen == ["refreshToken=refresh-cookie-secret"]


async def test_token_is_refreshed_ahead_of_expiry(venue: FakeVenue) -> None:
    set_get(venue, "active")
    client = make_client(venue)
    now = [1000.0]
    client.session.clock = lambda: now[0]
    await client.read_target(ALGO)
    now[0] += 800  # 100 s left: not yet
    await client.read_target(ALGO)
    assert venue.refreshes == 0
    now[0] += 50  # 50 s left: inside the one-minute refresh margin
    await client.read_target(ALGO)
    assert (venue.logins, venue.refreshes) == (1, 1)
    assert ("GET", f"/api/trading/algorithms/{ALGO}") in venue.calls
    # The refresh happened before the read, not after a 401.
    assert venue.calls[-2:] == [
        ("POST", "/api/auth/refresh-token"),
        ("GET", f"/api/trading/algorithms/{ALGO}"),
    ]


async def test_refused_refresh_falls_back_to_one_login(venue: FakeVenue) -> None:
    set_get(venue, "active")
    client = make_client(venue)
    await client.read_target(ALGO)
    venue.expire_all()
    venue.refresh_ok = False
    assert await client.read_target(ALGO) is not None
    assert (venue.logins, venue.refreshes) == (2, 1)


async def test_login_refused_is_a_clear_failure_without_secrets_and_not_retried(
    venue: FakeVenue,
) -> None:
    venue.login_response = envelope(401, "UNAUTHORIZED", "Invalid credentials")
    client = make_client(venue)
    first = await client.execute(ALGO, STOP)
    second = await client.execute(ALGO, STOP)
    for outcome in (first, second):
        assert outcome.kind is OutcomeKind.FAILED
        assert "Invalid credentials" in outcome.message
        assert "password" in outcome.message  # tells the operator what to check
        assert PASSWORD not in outcome.message
    assert venue.logins == 1  # the refusal is remembered, the login budget is kept
    assert not any(path.endswith("/stop") for _m, path in venue.calls)


async def test_stop_200_is_applied_with_the_vendor_message(venue: FakeVenue) -> None:
    venue.routes[("POST", f"/api/trading/algorithms/{ALGO}/stop")] = reply(
        "stopped", "Algorithm stopped successfully"
    )
    outcome = await make_client(venue).execute(ALGO, STOP)
    assert outcome.kind is OutcomeKind.APPLIED
    assert outcome.state_after is State.STOPPED
    assert outcome.http_status == 200
    assert "Algorithm stopped successfully" in outcome.message


@pytest.mark.parametrize(
    ("now", "kind"),
    [
        ("stopped", OutcomeKind.ALREADY),
        ("draft", OutcomeKind.ALREADY),
        ("error", OutcomeKind.REJECTED),
    ],
)
async def test_stop_422_is_settled_by_a_reread(
    venue: FakeVenue, now: str, kind: OutcomeKind
) -> None:
    venue.routes[("POST", f"/api/trading/algorithms/{ALGO}/stop")] = lambda _r: envelope(
        422, "UNPROCESSABLE_ENTITY", "Algorithm not active"
    )
    set_get(venue, now)
    outcome = await make_client(venue).execute(ALGO, STOP)
    assert outcome.kind is kind
    assert "Algorithm not active" in outcome.message
    assert outcome.http_status == 422


async def test_start_422_on_active_is_already(venue: FakeVenue) -> None:
    venue.routes[("POST", f"/api/trading/algorithms/{ALGO}/start")] = lambda _r: envelope(
        422, "UNPROCESSABLE_ENTITY", "Algorithm already active"
    )
    set_get(venue, "active")
    outcome = await make_client(venue).execute(ALGO, START)
    assert (outcome.kind, outcome.state_after) == (OutcomeKind.ALREADY, State.RUNNING)


async def test_start_rejections_spell_out_the_details(venue: FakeVenue) -> None:
    path = ("POST", f"/api/trading/algorithms/{ALGO}/start")
    client = make_client(venue)
    venue.routes[path] = lambda _r: envelope(
        400,
        "VALIDATION_ERROR",
        "Algorithm configuration is incomplete",
        missingFields=["entryConditions"],
    )
    draft = await client.execute(ALGO, START)
    assert draft.kind is OutcomeKind.REJECTED
    assert "entryConditions" in draft.message
    venue.routes[path] = lambda _r: envelope(
        403,
        "FORBIDDEN",
        "Daily loss limit reached. Cannot start algorithm.",
        dailyLoss=5000,
        limit=5000,
    )
    loss = await client.execute(ALGO, START)
    assert (loss.kind, loss.vendor_code) == (OutcomeKind.REJECTED, "FORBIDDEN")
    assert "5000" in loss.message and "Daily loss limit reached" in loss.message


async def test_pause_is_rejected_without_calling_the_venue(venue: FakeVenue) -> None:
    outcome = await make_client(venue).execute(ALGO, Action(ActionKind.PAUSE))
    assert outcome.kind is OutcomeKind.REJECTED
    assert "no pause endpoint" in outcome.message
    assert venue.calls == []


async def test_server_error_is_settled_by_a_re_read(venue: FakeVenue) -> None:
    """A 500 may come after the venue acted: a re-read decides, the venue's words kept
    (FAILED "nothing changed" before, with the algorithm stopped)."""
    venue.routes[("POST", f"/api/trading/algorithms/{ALGO}/stop")] = lambda _r: envelope(
        500, "INTERNAL_SERVER_ERROR", "boom"
    )
    set_get(venue, "stopped")  # it acted, then failed
    outcome = await make_client(venue).execute(ALGO, STOP)
    assert (outcome.kind, outcome.http_status) == (OutcomeKind.APPLIED, 500)
    assert "boom" in outcome.message
    set_get(venue, "active")  # it did not
    outcome = await make_client(venue).execute(ALGO, STOP)
    assert (outcome.kind, outcome.http_status) == (OutcomeKind.UNCERTAIN, 500)
    assert "boom" in outcome.message


async def test_429s_go_again_then_fail_as_rate_limited_after_six_tries(venue: FakeVenue) -> None:
    hits = [0]

    def limited(_r: httpx.Request) -> httpx.Response:
        hits[0] += 1
        resp = envelope(429, "TOO_MANY_REQUESTS", "Rate limit exceeded")
        resp.headers["Retry-After"] = "0.01"
        return resp

    venue.routes[("POST", f"/api/trading/algorithms/{ALGO}/stop")] = limited
    outcome = await make_client(venue, pacing=True, rate_scale=0.001).execute(ALGO, STOP)
    assert outcome.kind is OutcomeKind.FAILED
    assert "rate limited" in outcome.message
    assert "refused with 429 on each of 6 tries" in outcome.message
    assert hits[0] == 6


async def test_secrets_echoed_by_the_venue_never_reach_a_message(venue: FakeVenue) -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        token = request.headers["authorization"]
        return envelope(500, "INTERNAL_SERVER_ERROR", f"bad header {token} pw={PASSWORD}")

    venue.routes[("POST", f"/api/trading/algorithms/{ALGO}/stop")] = echo
    venue.routes[("GET", f"/api/trading/algorithms/{ALGO}")] = echo
    client = make_client(venue)
    outcome = await client.execute(ALGO, STOP)
    assert "***" in outcome.message
    assert PASSWORD not in outcome.message
    assert "eyJ" not in outcome.message
    with pytest.raises(X3AlgoReadError) as err:
        await client.read_target(ALGO)
    assert PASSWORD not in err.value.message and "eyJ" not in err.value.message


async def test_list_follows_pagination_without_total_pages(venue: FakeVenue) -> None:
    def page(request: httpx.Request) -> httpx.Response:
        n = int(request.url.params["page"])
        count = 100 if n < 3 else 7
        rows = [{**algo("active"), "id": f"{n:02d}{i:022d}"} for i in range(count)]
        return httpx.Response(200, json={"data": rows})

    venue.routes[("GET", "/api/trading/algorithms")] = page
    targets = await make_client(venue).list_targets()
    assert len(targets) == 207


def test_poll_spacing_stretches_with_pages_to_stay_in_the_general_budget(venue: FakeVenue) -> None:
    client = make_client(venue, pacing=True, poll_interval_s=2.0)
    assert client.poll_spacing() == pytest.approx(900 / 800)  # one page: 80 % of 1000/15 min
    client._poll_pages = 40  # scale 100: 4000 algorithms
    assert client.poll_spacing() == pytest.approx(40 * 900 / 800)
    assert make_client(venue, pacing=False).poll_spacing() == 0


async def test_reads_exhausting_the_general_bucket_do_not_hold_up_a_stop(
    venue: FakeVenue,
) -> None:
    set_get(venue, "active")
    venue.routes[("POST", f"/api/trading/algorithms/{ALGO}/stop")] = reply("stopped")
    client = make_client(venue, pacing=True, rate_limits={"general": RateLimit(1, 900)})
    await client.read_target(ALGO)  # the general bucket is now spent for 15 minutes
    async with asyncio.timeout(5):  # a shared bucket would wait 900 s here
        outcome = await client.execute(ALGO, STOP)
    assert outcome.kind is OutcomeKind.APPLIED


async def test_spent_login_budget_fails_clearly_instead_of_waiting_15_minutes(
    venue: FakeVenue,
) -> None:
    set_get(venue, "active")
    client = make_client(venue, pacing=True, rate_limits={"auth": RateLimit(1, 900)})
    await client.read_target(ALGO)  # the login spends the whole auth budget
    venue.expire_all()
    async with asyncio.timeout(5):
        outcome = await client.execute(ALGO, STOP)
    assert outcome.kind is OutcomeKind.FAILED
    assert "per 15 minutes" in outcome.message
    assert (venue.logins, venue.refreshes) == (1, 0)


async def test_an_unchanged_row_reads_as_its_target_again_and_a_changed_one_anew(
    venue: FakeVenue,
) -> None:
    """Every read maps every row (no row is kept between reads: issue 13, memory): an
    unchanged row gives an equal target, re-confirmed; a changed one its new state."""
    rows = [{**algo("active"), "id": f"{i:024d}", "name": f"algo {i}"} for i in range(3)]
    venue.routes[("GET", "/api/trading/algorithms")] = lambda _r: httpx.Response(
        200, json={"data": rows, "pagination": {"page": 1, "totalPages": 1}}
    )
    client = make_client(venue)
    first = {t.id: t for t in await client.list_targets()}
    rows[1] = {**rows[1], "status": "stopped", "active": False}
    second = {t.id: t for t in await client.list_targets()}
    assert second[rows[1]["id"]].state is State.STOPPED
    same = rows[0]["id"]
    assert second[same] == first[same]
    assert second[same].confirmed_at >= first[same].confirmed_at  # re-confirmed by this read
    rows[2] = {**rows[2], "id": ["not", "a", "string"]}
    third = {t.id for t in await client.list_targets()}
    assert third == {rows[0]["id"], rows[1]["id"]}  # one bad row fails only itself
    assert client.skipped_rows == ["row 3 of page 1: id: Input should be a valid string"]


async def test_a_malformed_field_the_console_never_shows_does_not_cost_the_page(
    venue: FakeVenue,
) -> None:
    rows = [{**algo("active"), "id": "1" * 24, "positionSizing": "oops"}]
    venue.routes[("GET", "/api/trading/algorithms")] = lambda _r: httpx.Response(
        200, json={"data": rows, "pagination": {"page": 1, "totalPages": 1}}
    )
    (target,) = await make_client(venue).list_targets()
    assert (target.id, target.state) == ("1" * 24, State.RUNNING)


def rows_of(n: int, count: int = 100) -> list[dict[str, Any]]:
    return [{**algo("active"), "id": f"{n:04d}{i:020d}"} for i in range(count)]


def paged(pages: dict[int, Callable[[int], httpx.Response]], default: Any = None) -> Any:
    def answer(request: httpx.Request) -> httpx.Response:
        n = int(request.url.params["page"])
        return pages.get(n, default)(n)

    return answer


def full_page(total_pages: int | None) -> Callable[[int], httpx.Response]:
    def answer(n: int) -> httpx.Response:
        body: dict[str, Any] = {"data": rows_of(n)}
        if total_pages is not None:
            body["pagination"] = {"page": n, "limit": 100, "totalPages": total_pages}
        return httpx.Response(200, json=body)

    return answer


@pytest.mark.parametrize(
    ("second", "words"),
    [
        (lambda _n: envelope(500, "INTERNAL_SERVER_ERROR", "boom"), "page 2 failed: .*boom"),
        (lambda _n: httpx.Response(200, json={}), "page 2 failed: .*without a data list"),
    ],
)
async def test_a_later_page_failing_leaves_the_list_incomplete_with_what_was_read(
    venue: FakeVenue, second: Callable[[int], httpx.Response], words: str
) -> None:
    venue.routes[("GET", "/api/trading/algorithms")] = paged({2: second}, full_page(3))
    with pytest.raises(Incomplete, match=words) as caught:
        await make_client(venue).list_targets()
    assert {t.id for t in caught.value.partial} >= {r["id"] for r in rows_of(1)}


async def test_a_venue_that_ignores_the_page_number_is_incomplete_not_endless(
    venue: FakeVenue,
) -> None:
    same = lambda _n: httpx.Response(200, json={"data": rows_of(1)})  # noqa: E731
    venue.routes[("GET", "/api/trading/algorithms")] = paged({}, same)
    with pytest.raises(Incomplete, match="page 2 lists only algorithms earlier pages listed"):
        await make_client(venue).list_targets()
    assert len([c for c in venue.calls if c[1] == "/api/trading/algorithms"]) == 2


async def test_full_pages_without_pagination_stop_at_max_pages(venue: FakeVenue) -> None:
    venue.routes[("GET", "/api/trading/algorithms")] = paged({}, full_page(None))
    with pytest.raises(
        Incomplete, match="longer than one read may take \\(max_pages is 5\\)"
    ) as caught:
        await make_client(venue, max_pages=5).list_targets()
    assert len(caught.value.partial) == 500


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"data": [], "pagination": {"total": 22, "totalPages": 1}}, "holds 22 algorithms"),
        ({"data": rows_of(1, 3), "pagination": {"totalPages": "many"}}, "pagination block"),
        ({"items": rows_of(1, 3)}, "without a data list \\('items'\\)"),
    ],
)
async def test_a_first_page_not_in_the_documented_shape_is_unreadable(
    venue: FakeVenue, body: dict[str, Any], words: str
) -> None:
    venue.routes[("GET", "/api/trading/algorithms")] = lambda _r: httpx.Response(200, json=body)
    with pytest.raises(Unreadable, match=words):
        await make_client(venue).list_targets()


async def test_an_empty_account_is_an_empty_list(venue: FakeVenue) -> None:
    venue.routes[("GET", "/api/trading/algorithms")] = lambda _r: httpx.Response(
        200, json={"data": [], "pagination": {"page": 1, "total": 0, "totalPages": 0}}
    )
    client = make_client(venue)
    assert await client.list_targets() == []
    assert client.skipped_rows == []


async def test_a_spent_read_budget_fails_a_read_unsent_instead_of_waiting(
    venue: FakeVenue,
) -> None:
    set_get(venue, "active")
    client = make_client(venue, pacing=True, rate_limits={"general": RateLimit(1, 900)})
    await client.read_target(ALGO)  # the general bucket is now spent for 15 minutes
    sent = len(venue.calls)
    async with asyncio.timeout(5):  # a hang guard: the pacer would hold it 15 minutes
        with pytest.raises(X3AlgoReadError, match=r"read budget .* is spent for 15 min"):
            await client.read_target(ALGO)
        with pytest.raises(FeedError, match="not waiting longer than 30 s"):
            await client.list_targets()
    assert len(venue.calls) == sent


def capped(total: int, per_page: int) -> Callable[[httpx.Request], httpx.Response]:
    """A venue sending ``per_page`` rows a page whatever limit is asked, with ``total``
    and no ``totalPages`` (an independent x3algo of session 18)."""
    rows = [{**algo("active"), "id": f"{i:024d}"} for i in range(total)]

    def answer(request: httpx.Request) -> httpx.Response:
        n = int(request.url.params["page"])
        data = rows[(n - 1) * per_page : n * per_page]
        return httpx.Response(200, json={"data": data, "pagination": {"page": n, "total": total}})

    return answer


async def test_pages_capped_below_the_limit_are_read_on_to_the_total(venue: FakeVenue) -> None:
    """10 a page and ``total: 33``: every algorithm is listed (before, the first page of
    10 was the whole list, and a kill said ALL HALTED with 23 never seen)."""
    venue.routes[("GET", "/api/trading/algorithms")] = capped(33, 10)
    targets = await make_client(venue).list_targets()
    assert len({t.id for t in targets}) == 33


async def test_pages_that_end_short_of_the_total_are_incomplete(venue: FakeVenue) -> None:
    """``total: 40`` but the pages run dry at 33: never called the whole list."""
    answer = capped(33, 10)

    def lying(request: httpx.Request) -> httpx.Response:
        reply = answer(request)
        body = json.loads(reply.content)
        body["pagination"]["total"] = 40
        return httpx.Response(200, json=body)

    venue.routes[("GET", "/api/trading/algorithms")] = lying
    with pytest.raises(
        Incomplete, match="says it holds 40 algorithms but its pages listed 33"
    ) as caught:
        await make_client(venue).list_targets()
    assert len(caught.value.partial) == 33
    assert "page(s)" not in str(caught.value)


async def test_null_symbols_neither_hide_a_row_nor_block_its_stop(venue: FakeVenue) -> None:
    """Nullability is a documented [GAP]: ``"symbols": null`` made every row unreadable
    and a single read refuse the algorithm, so nothing could be stopped."""
    row = {**algo("active"), "symbols": None}
    venue.routes[("GET", "/api/trading/algorithms")] = lambda _r: httpx.Response(
        200, json={"data": [row], "pagination": {"page": 1, "total": 1, "totalPages": 1}}
    )
    venue.routes[("GET", f"/api/trading/algorithms/{ALGO}")] = lambda _r: httpx.Response(
        200, json=row
    )
    client = make_client(venue)
    (target,) = await client.list_targets()
    assert (target.id, target.attrs["symbols"]) == (ALGO, ())
    read = await client.read_target(ALGO)
    assert read is not None and read.state is State.RUNNING


@pytest.mark.parametrize(
    "pagination",
    [
        lambda n, more: {"page": n, "hasMore": more},  # an undocumented flag
        lambda n, more: {"page": n, "limit": 10},  # the limit it used, below the one asked
    ],
)
async def test_pages_capped_without_a_total_are_read_on_when_the_venue_says_more(
    venue: FakeVenue, pagination: Callable[[int, bool], dict[str, Any]]
) -> None:
    rows = [{**algo("active"), "id": f"{i:024d}"} for i in range(33)]

    def answer(request: httpx.Request) -> httpx.Response:
        n = int(request.url.params["page"])
        data = rows[(n - 1) * 10 : n * 10]
        return httpx.Response(200, json={"data": data, "pagination": pagination(n, n < 4)})

    venue.routes[("GET", "/api/trading/algorithms")] = answer
    targets = await make_client(venue).list_targets()
    assert len({t.id for t in targets}) == 33


async def test_an_empty_page_saying_more_follow_ends_the_read(venue: FakeVenue) -> None:
    """hasMore on an empty page, forever: one more page asked, not the whole budget."""
    rows = [{**algo("active"), "id": f"{i:024d}"} for i in range(10)]

    def answer(request: httpx.Request) -> httpx.Response:
        n = int(request.url.params["page"])
        data = rows if n == 1 else []
        return httpx.Response(200, json={"data": data, "pagination": {"page": n, "hasMore": True}})

    venue.routes[("GET", "/api/trading/algorithms")] = answer
    targets = await make_client(venue).list_targets()
    assert len(targets) == 10
    assert venue.calls.count(("GET", "/api/trading/algorithms")) == 2
