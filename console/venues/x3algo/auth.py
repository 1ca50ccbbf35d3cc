"""x3algo session: one login, a kept refresh cookie, proactive and on-401 refresh.

x3algo allows 5 authentication calls per 15 minutes, so this session never logs in per
call. It logs in once, keeps the ``refreshToken`` cookie itself (the documented cookie
is ``Secure``, which a cookie jar would not send to a plain-http endpoint such as the
local simulator, and the console wants exactly one copy of the secret), refreshes the
15-minute access token a minute before it runs out, and after a ``401`` (documented
``TOKEN_EXPIRED``, also ``INVALID_TOKEN`` / ``UNAUTHORIZED``) renews once: refresh first,
one fresh login if the refresh is refused, then a clear failure. Concurrent callers share
one renewal (a generation counter tells a caller whether someone already renewed).

A refused login (wrong email or password) is remembered for one auth window so a feed
retrying every few seconds cannot burn the login budget or lock the account; a login or
refresh refused for quota (429) is remembered for as long as x3algo asked (at most one
auth window), and the failure says how long and why.

One :class:`~console.venues.kit.scrubber.VenueScrubber` (``scrubber``) knows the email, the password,
the refresh cookie and every access token this session was ever given; every text it
makes, and every text the client makes, passes through it.

A 429 is resent once after the wait x3algo asked, only when that wait fits both the
call's timeout and ``retry_after_cap_s``; a longer one comes back to the caller unsent
(never slept), for it to fail in words (:func:`~console.venues.kit.pacing.not_waiting`).

Across processes (``settings.state_dir`` set; docs/venues/x3algo.md, "Session kept across
processes"): the session is loaded from and written to a 0600 file
(:mod:`~console.venues.kit.session_file`), so each CLI run reuses the last token
instead of logging in. Every login or refresh is taken under the file's lock after
re-reading it (another process may just have made a token: then it is used, nothing is
sent), and is first entered in the file's ledger: a sixth within x3algo's window is
refused unsent, saying since when and until when. A quota refusal from x3algo is kept in
the file too, so other processes do not knock again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from http.cookies import CookieError, SimpleCookie

import httpx
from pydantic import ValidationError

from console.core.scrub import printable
from console.venues.kit.base import RateLimit, Secret, VenueSettings
from console.venues.kit.feeds import FeedError
from console.venues.kit.http import CallError, QueryValue, Reply, dumps, send
from console.venues.kit.pacing import Pacer, not_waiting, retry_after_seconds, too_long, wait_words
from console.venues.kit.scrubber import VenueScrubber
from console.venues.kit.session_file import SessionFile, StoredSession
from console.venues.kit.shape import shape_problem
from console.venues.x3algo.outcomes import vendor_error
from console.venues.x3algo.wire import LoginReply

LOGIN_PATH = "/api/auth/login"
REFRESH_PATH = "/api/auth/refresh-token"
AUTH_WINDOW_S = 15 * 60
REFRESH_MARGIN_S = 60.0
AUTH_RATE = RateLimit(5, AUTH_WINDOW_S)
"""x3algo's authentication bucket: logins and refreshes together (CONTRACTS.md)."""
DOCUMENTED_LIFE_S = 15 * 60.0
"""An access token's life as x3algo documents it (``expiresIn: 900``)."""


def token_life(said: object, budget: RateLimit) -> float:
    """Seconds to hold an access token before refreshing it ahead (less the margin):
    what the login said (``expiresIn``) when that is a number of seconds the auth budget
    can keep up with, else the documented 15 minutes.

    Taken literally, ``expiresIn: 30`` (or 0, -5, NaN) made every call refresh first, and
    five calls spent x3algo's five logins and refreshes per 15 minutes: a kill stopped
    five algorithms and could send no more. A life so short that refreshing ahead would
    outrun the budget (``REFRESH_MARGIN_S`` plus one renewal's share of the window:
    4 minutes by the documented budget) is not acted on ahead of time; a token that
    truly dies sooner is renewed when x3algo refuses it (401), as any token is. Anything
    but a number (``null``, ``"soon"``) is no reason to refuse a token that works."""
    if isinstance(said, bool) or not isinstance(said, int | float | str):
        return DOCUMENTED_LIFE_S
    try:
        life = float(said)
    except (ValueError, OverflowError):
        return DOCUMENTED_LIFE_S
    shortest = REFRESH_MARGIN_S + budget.window_s / max(1, budget.limit)
    return life if shortest <= life < float("inf") else DOCUMENTED_LIFE_S


class X3AlgoAuthError(FeedError):
    """The console could not get a usable access token; ``message`` is secret-free."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        transient: bool = False,
    ):
        super().__init__(message, transient=transient)
        self.message = message
        self.status = status
        self.code = code


class X3AlgoSession:
    """Access token, refresh cookie, and the authenticated request with one renewal."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        settings: VenueSettings,
        auth_pacer: Pacer,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._http = http
        self._settings = settings
        self._pacer = auth_pacer
        self.clock = clock
        self.wall = wall  # the file's times (expiry, ledger) are wall-clock
        self._email = settings.secret("email")
        self._password = settings.secret("password")
        self.scrubber = VenueScrubber([self._email.reveal(), self._password.reveal()])
        self._access: Secret | None = None
        self._expires_at = 0.0
        self._refresh_cookie: Secret | None = None
        self._lock = asyncio.Lock()
        self._refused: X3AlgoAuthError | None = None
        self._refused_until = 0.0
        self.generation = 0
        self.logins = 0
        self.refreshes = 0
        self._adopted = -1  # the generation taken from the file, not yet used by us
        self._stored = StoredSession()
        self._file: SessionFile | None = None
        if settings.state_dir is not None:
            self._file = SessionFile(
                settings.state_dir, settings.base_url, self._email.reveal(), vendor="x3algo"
            )
            stored = self._file.load()
            if stored is not None:
                self._stored = stored
                self._adopt(stored)

    # ----- what callers use -----------------------------------------------------------
    async def request(
        self,
        method: str,
        path: str,
        *,
        pacer: Pacer,
        timeout_s: float,
        params: Mapping[str, QueryValue] | None = None,
        resend_on_stale: bool = False,
    ) -> Reply:
        """One authenticated call; after a 401 it renews the token once and resends once,
        and after a 429 to a read (refused, so not acted on) it waits as told and resends
        once (a control call's 429s go again in its ControlStep: kit/refused.py).

        Raises :class:`CallError` when there was no answer and :class:`X3AlgoAuthError`
        when no token could be had.
        """
        token, generation = await self.bearer()
        reply = await self._send(method, path, token, pacer, timeout_s, params, resend_on_stale)
        if reply.status == 401:
            token, generation = await self.renew(generation)
            reply = await self._send(method, path, token, pacer, timeout_s, params, resend_on_stale)
            if reply.status == 401 and generation == self._adopted:
                # The file's token (another process's) was refused too: make our own.
                token, generation = await self.renew(generation, trust_file=False)
                reply = await self._send(
                    method, path, token, pacer, timeout_s, params, resend_on_stale
                )
        if reply.status == 429 and method == "GET":
            # The pacer has taken in Retry-After (held at most the cap); unpaced, wait
            # what the venue said. Longer than the cap: not waited at all.
            told = retry_after_seconds(reply.headers)
            cap = self._settings.retry_after_cap_s
            if too_long(told, cap):
                return reply
            wait = pacer.delay_for() if self._settings.pacing else (told or 0.0)
            if wait <= min(timeout_s, cap):
                if not self._settings.pacing and wait > 0:
                    await asyncio.sleep(wait)
                reply = await self._send(
                    method, path, token, pacer, timeout_s, params, resend_on_stale
                )
        return reply

    async def bearer(self) -> tuple[str, int]:
        """A usable access token (logging in or refreshing if needed) and its generation."""
        access = self._access
        if (
            access is not None
            and not self._lock.locked()
            and self.clock() < self._expires_at - REFRESH_MARGIN_S
        ):  # what the lock would give at once, without taking it (every call of a kill)
            return access.reveal(), self.generation
        async with self._lock:
            if self._access is None:
                await self._obtain()
            elif self.clock() >= self._expires_at - REFRESH_MARGIN_S:
                await self._refresh_ahead()
            assert self._access is not None
            return self._access.reveal(), self.generation

    async def renew(self, stale_generation: int, *, trust_file: bool = True) -> tuple[str, int]:
        """After a 401: refresh once, else log in once, unless another caller (or, with
        ``trust_file``, another process) just did."""
        async with self._lock:
            if self.generation == stale_generation or self._access is None:
                await self._obtain(trust_file=trust_file, stale=self._access)
            assert self._access is not None
            return self._access.reveal(), self.generation

    def scrub(self, text: str) -> str:
        """``text`` with every credential this session holds or held masked."""
        return self.scrubber.scrub(text)

    # ----- the auth calls -----------------------------------------------------------
    async def _send(
        self,
        method: str,
        path: str,
        token: str,
        pacer: Pacer,
        timeout_s: float,
        params: Mapping[str, QueryValue] | None,
        resend_on_stale: bool = False,
    ) -> Reply:
        headers = {"Authorization": f"Bearer {token}"}
        return await send(
            self._http,
            method,
            path,
            params=params,
            headers=headers,
            timeout_s=timeout_s,
            pacer=pacer,
            resend_on_stale=resend_on_stale,
        )

    async def _refresh_ahead(self) -> None:
        """Refresh before expiry; if that fails while the token still works, keep it."""
        try:
            await self._obtain()
        except X3AlgoAuthError:
            if self.clock() >= self._expires_at:
                raise

    async def _obtain(self, *, trust_file: bool = True, stale: Secret | None = None) -> None:
        """A new access token. With a session file: under its lock, re-read it and use
        another process's token when it has one we have not tried (``trust_file``);
        otherwise refresh, else log in, and write the result back."""
        if self._file is None:
            await self._refresh_or_login()
            return
        async with self._file.locked(self._lock_wait_s()):
            self._stored = self._file.load() or StoredSession()
            if trust_file and self._adopt(self._stored):
                return
            try:
                await self._refresh_or_login()
            except BaseException:
                if stale is not None and self._access == stale:
                    self._access = None  # refused by x3algo: no other process should try it
                    self._expires_at = 0.0
                raise
            finally:
                self._save()

    async def _refresh_or_login(self) -> None:
        if self._refresh_cookie is not None:
            try:
                await self._refresh()
                return
            except X3AlgoAuthError as exc:
                if exc.status != 401:
                    raise  # the venue is in trouble; a login would not fare better
                self._refresh_cookie = None  # refused: never offered again
        await self._login()

    # ----- the session file ---------------------------------------------------------
    def _adopt(self, stored: StoredSession) -> bool:
        """Take the file's tokens when its access token is not ours and has more than
        the refresh margin left (True); a refresh cookie alone is taken when we have
        none. The scrubber learns every token the file holds."""
        for token in (stored.access_token, stored.refresh_token):
            if token:
                self.scrubber.add(token)
        left = stored.access_expires_at - self.wall()
        usable = stored.access_token is not None and left > REFRESH_MARGIN_S
        if not usable or (
            self._access is not None and self._access.reveal() == stored.access_token
        ):
            if self._refresh_cookie is None and stored.refresh_token:
                self._refresh_cookie = Secret(stored.refresh_token)
            return False
        assert stored.access_token is not None
        self._access = Secret(stored.access_token)
        self._expires_at = self.clock() + left
        if stored.refresh_token:
            self._refresh_cookie = Secret(stored.refresh_token)
        self.generation += 1
        self._adopted = self.generation
        return True

    def _save(self) -> None:
        if self._file is None:
            return
        stored = self._stored
        stored.access_token = self._access.reveal() if self._access is not None else None
        stored.access_expires_at = (
            self.wall() + (self._expires_at - self.clock()) if self._access is not None else 0.0
        )
        stored.refresh_token = self._refresh_cookie.reveal() if self._refresh_cookie else None
        self._file.save(stored, keep_s=self._auth_rate().window_s)

    def _auth_rate(self) -> RateLimit:
        """x3algo's auth budget (a profile may override it), its window scaled."""
        rate = self._settings.rate_limits.get("auth", AUTH_RATE)
        return RateLimit(rate.limit, rate.window_s * self._settings.rate_scale)

    def _lock_wait_s(self) -> float:
        """How long to wait for another process's login: its refresh and its login."""
        return 3 * self._settings.request_timeout_s + 1.0

    def _enter_in_ledger(self, kind: str, what: str) -> None:
        """Refuse, unsent, a login or refresh beyond x3algo's budget as this machine's
        ledger counts it; else enter it (and write the file) before it is sent."""
        if self._file is None:
            return
        now = self.wall()
        rate = self._auth_rate()
        calls = self._stored.calls_since(now - rate.window_s)
        if len(calls) >= rate.limit:
            wait = calls[-rate.limit][0] + rate.window_s - now
            logins = sum(1 for _, k in calls if k == "login")
            raise X3AlgoAuthError(
                f"Did not {what}: x3algo allows {rate.limit} logins/refreshes per "
                f"{wait_words(rate.window_s)}; {len(calls)} were made by this machine since "
                f"{_utc(calls[0][0])} ({logins} logins, {len(calls) - logins} refreshes); "
                f"next possible in {wait_words(max(wait, 1.0))} — a running console's session "
                f"is reused when it writes its file ({self._file.path})."
            )
        if self._stored.refused_until > now:
            raise X3AlgoAuthError(
                f"Did not {what}: x3algo refused a login or refresh from this machine for "
                f"quota and asked to wait until {_utc(self._stored.refused_until)}, "
                f"{wait_words(max(self._stored.refused_until - now, 1.0))} from now "
                f"({self._stored.refused_reason})."
            )
        self._stored.auth_calls.append((now, kind))
        self._save()

    async def _check_auth_budget(self, what: str) -> None:
        """Fail at once when the 5-per-15-minutes budget has no room within a timeout."""
        wait = self._pacer.delay_for()
        if wait > self._settings.request_timeout_s:
            raise X3AlgoAuthError(
                f"x3algo allows 5 logins/refreshes per 15 minutes and this console has "
                f"used them; cannot {what} for another {wait_words(wait)}. Wait, then retry."
            )

    async def _login(self) -> None:
        now = self.clock()
        if self._refused is not None and now < self._refused_until:
            raise self._refused
        body = dumps({"email": self._email.reveal(), "password": self._password.reveal()})
        reply = await self._auth_call(LOGIN_PATH, body=body, what="log in", kind="login")
        if reply.status in (400, 401, 403):
            code, message = vendor_error(reply, self.scrubber.scrub)
            self._refused = X3AlgoAuthError(
                self._clean(
                    f"x3algo refused the login for this console's account: {message!r} "
                    f"({code or reply.status}). Check the email and password of venue "
                    f"{self._settings.name!r} in the profile."
                ),
                status=reply.status,
                code=code,
            )
            self._refused_until = now + AUTH_WINDOW_S * self._settings.rate_scale
            raise self._refused
        self._accept(reply, "log in")
        self._refresh_cookie = self._cookie_from(reply) or self._refresh_cookie
        if self._refresh_cookie is not None:
            self.scrubber.add(self._refresh_cookie.reveal())
        self._http.cookies.clear()  # the one copy of the refresh token lives here
        self.logins += 1
        self._stored.refused_until, self._stored.refused_reason = 0.0, ""

    async def _refresh(self) -> None:
        assert self._refresh_cookie is not None
        headers = {"Cookie": f"refreshToken={self._refresh_cookie.reveal()}"}
        reply = await self._auth_call(
            REFRESH_PATH, headers=headers, what="refresh the session", kind="refresh"
        )
        self._accept(reply, "refresh the session")
        self._refresh_cookie = self._cookie_from(reply) or self._refresh_cookie
        if self._refresh_cookie is not None:
            self.scrubber.add(self._refresh_cookie.reveal())
        self._http.cookies.clear()
        self.refreshes += 1
        self._stored.refused_until, self._stored.refused_reason = 0.0, ""

    async def _auth_call(
        self,
        path: str,
        *,
        what: str,
        kind: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """One call of the auth bucket: checked against the budget (this process's pacer,
        then this machine's ledger) first, then entered in the ledger, then paced."""
        await self._check_auth_budget(what)
        self._enter_in_ledger(kind, what)
        try:
            return await send(
                self._http,
                "POST",
                path,
                content=body,
                headers=headers,
                timeout_s=self._settings.request_timeout_s,
                pacer=self._pacer,
            )
        except CallError as exc:
            # Worth trying again soon only when it never reached x3algo (no connection):
            # one that did may count against the 5 logins per 15 minutes.
            raise X3AlgoAuthError(
                self._clean(f"x3algo gave no usable answer when asked to {what}: {exc.message}"),
                transient=exc.transient and not exc.maybe_sent,
            ) from None

    def _accept(self, reply: Reply, what: str) -> None:
        """Take the access token from a 200, or raise with x3algo's words."""
        if reply.status == 429:
            raise self._quota_refused(reply, what)
        if reply.status != 200:
            code, message = vendor_error(reply, self.scrubber.scrub)
            raise X3AlgoAuthError(
                self._clean(f"x3algo would not {what}: HTTP {reply.status} {code} {message!r}"),
                status=reply.status,
                code=code,
            )
        try:
            parsed = LoginReply.model_validate(reply.json())
        except ValueError as exc:  # ValidationError is a ValueError
            detail = shape_problem(exc) if isinstance(exc, ValidationError) else str(exc)
            detail = detail.split("\n", 1)[0]
            raise X3AlgoAuthError(
                self._clean(f"x3algo answered an unreadable token when asked to {what}: {detail}")
            ) from None
        self.scrubber.add(parsed.access_token)
        self._access = Secret(parsed.access_token)
        self._expires_at = self.clock() + token_life(parsed.expires_in, self._auth_rate())
        self.generation += 1

    def _quota_refused(self, reply: Reply, what: str) -> X3AlgoAuthError:
        """x3algo's own auth limit (5 per 15 minutes) is spent: say how long it asks to
        wait and why, and remember it for that long (at most one auth window) so a
        retrying feed does not keep knocking."""
        code, message = vendor_error(reply, self.scrubber.scrub)
        told = retry_after_seconds(reply.headers)
        window = AUTH_WINDOW_S * self._settings.rate_scale
        cap = self._settings.retry_after_cap_s
        if told is None:
            asks = "it names no wait; its window is 15 minutes"
        elif too_long(told, cap):
            asks = not_waiting("x3algo", told, cap)
        else:
            asks = f"it asks to wait {wait_words(told)}"
        refused = X3AlgoAuthError(
            self._clean(
                f"x3algo refused to {what}: its limit of 5 logins/refreshes per 15 minutes is "
                f"spent ({code or 'HTTP 429'} {message!r}); {asks}. Nothing else was sent"
            ),
            status=429,
            code=code or None,
        )
        wait = min(told if told is not None else window, window)
        if what == "log in":
            self._refused = refused
            self._refused_until = self.clock() + wait
        self._stored.refused_until = self.wall() + wait  # the bucket is shared: for every
        self._stored.refused_reason = refused.message  # process, logins and refreshes
        return refused

    def _clean(self, text: str) -> str:
        """Venue words made fit to show: no credential, no terminal control sequence."""
        return self.scrubber.scrub(printable(text.replace("  ", " ")))

    @staticmethod
    def _cookie_from(reply: Reply) -> Secret | None:
        for header in reply.header_list("set-cookie"):
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(header)
            except CookieError:
                continue
            morsel = jar.get("refreshToken")
            if morsel is not None and morsel.value:
                return Secret(morsel.value)
        return None


def _utc(at: float) -> str:
    return time.strftime("%H:%M:%SZ", time.gmtime(at))
