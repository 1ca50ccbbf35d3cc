"""Alerts through Apprise: rate-limited, de-duplicated, and never carrying a secret.

The profile lists Apprise URLs (Slack, PagerDuty, e-mail, ntfy, ``json://`` webhooks …)
as references only — ``env:VAR``, ``secret:SECTION.KEY`` (the profile's secrets file)
or ``file:PATH`` (a file only its owner can read) — because those URLs carry tokens.
They are resolved when the alerter is built; each resolved URL and its parts are
taught to a :class:`~console.core.scrub.Scrubber`, and every title and body passes
through it and through ``scrub_shapes`` before it leaves.

An alert the same as one sent within ``dedup_seconds`` is dropped; beyond
``max_per_minute`` alerts are dropped and counted, and the next one sent says how many.
Sending never raises: an endpoint that is down makes the result say so (and the log),
and the runner goes on. The console also rings the bell and shows a notification
(``local``).
"""

from __future__ import annotations

import logging
import os
import stat
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast
from urllib.parse import unquote, urlsplit

from console.automation.config import AlertsConfig
from console.core.scrub import Scrubber, scrub_shapes

if TYPE_CHECKING:
    import apprise

log = logging.getLogger(__name__)

Severity = Literal["info", "warning", "failure"]
Sent = Literal["sent", "duplicate", "rate-limited", "filtered", "no-urls", "failed"]


class AlertConfigError(Exception):
    """An alert URL reference cannot be resolved; the message says which and why."""


@dataclass(frozen=True)
class Alert:
    event: str  # one of config.ALERT_EVENTS
    title: str
    body: str
    severity: Severity = "info"


@dataclass(frozen=True)
class AlertResult:
    status: Sent
    detail: str = ""


def resolve_ref(
    ref: str, env: Mapping[str, str], secrets: Mapping[str, Any], base: Path | None = None
) -> str:
    """The value behind ``env:VAR``, ``secret:SECTION.KEY`` or ``file:PATH``."""
    kind, _, key = ref.partition(":")
    if kind == "env":
        value = env.get(key)
        if not value:
            raise AlertConfigError(f"alert URL reads environment variable {key}, which is not set")
        return value
    if kind == "secret":
        section, _, item = key.partition(".")
        found = secrets.get(section, {}).get(item) if item else secrets.get(section)
        if not isinstance(found, str) or not found:
            raise AlertConfigError(f"alert URL {ref} is not in the profile's secrets file")
        return found
    if kind == "file":
        path = Path(key).expanduser()
        path = path if path.is_absolute() or base is None else base / path
        try:
            if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise AlertConfigError(
                    f"alert URL file {path} is readable by group or others; run: chmod 600 {path}"
                )
            return path.read_text().strip()
        except OSError as exc:
            raise AlertConfigError(
                f"alert URL file {path} cannot be read ({exc.strerror})"
            ) from None
    raise AlertConfigError(f"alert URL reference {kind!r} is not env:, secret: or file:")


def url_secrets(url: str) -> list[str]:
    """The URL and the parts of it that may be a token (user, password, path segments,
    query values), for the scrubber."""
    found = [url]
    try:
        parts = urlsplit(url)
    except ValueError:
        return found
    found += [p for p in (parts.username, parts.password) if p]
    found += [unquote(s) for s in parts.path.split("/") if s]
    found += [unquote(v.partition("=")[2]) for v in parts.query.split("&") if "=" in v]
    return found


class Alerter:
    """Sends alerts of a profile's ``[alerts]`` to its Apprise URLs."""

    def __init__(
        self,
        cfg: AlertsConfig,
        urls: list[str],
        *,
        clock: Callable[[], float],
        profile: str = "",
        local: Callable[[Alert], None] | None = None,
    ) -> None:
        """``urls``: the resolved URLs (``resolve_ref`` on ``cfg.urls``)."""
        self.cfg = cfg
        self.clock = clock
        self.profile = profile
        self.local = local
        self.scrubber = Scrubber()
        # Imported here: Apprise (~70 ms) is loaded by a process that sends alerts, not
        # by every command that reads a profile.
        import apprise

        self._apprise: apprise.Apprise = apprise.Apprise()
        self.bad_urls: list[int] = []
        for i, url in enumerate(urls):
            self.scrubber.add(*url_secrets(url))
            if not self._apprise.add(url):
                self.bad_urls.append(i + 1)
        self._recent: dict[tuple[str, str, str], float] = {}
        self._window: deque[float] = deque()
        self.suppressed = 0
        self.history: deque[tuple[float, Alert, AlertResult]] = deque(maxlen=50)

    @classmethod
    def from_config(
        cls,
        cfg: AlertsConfig,
        *,
        clock: Callable[[], float],
        profile: str = "",
        env: Mapping[str, str] | None = None,
        secrets: Mapping[str, Any] | None = None,
        base: Path | None = None,
        local: Callable[[Alert], None] | None = None,
    ) -> Alerter:
        env = os.environ if env is None else env
        urls = [resolve_ref(ref, env, secrets or {}, base) for ref in cfg.urls]
        return cls(cfg, urls, clock=clock, profile=profile, local=local)

    def clean(self, text: str) -> str:
        return scrub_shapes(self.scrubber.scrub(text))

    async def send(self, alert: Alert, *, force: bool = False) -> AlertResult:
        """Send ``alert`` unless filtered, a duplicate or over the rate; never raises."""
        alert = Alert(alert.event, self.clean(alert.title), self.clean(alert.body), alert.severity)
        if self.local is not None:
            try:
                self.local(alert)
            except Exception:  # the screen's notification must not stop an alert
                log.exception("local alert display failed")
        result = await self._send(alert, force)
        self.history.append((self.clock(), alert, result))
        if result.status == "failed":
            log.warning("alert %r not delivered: %s", alert.title, result.detail)
        return result

    async def _send(self, alert: Alert, force: bool) -> AlertResult:
        now = self.clock()
        if not force and alert.event not in self.cfg.events:
            return AlertResult("filtered", f"event {alert.event!r} is not in alerts.events")
        if not len(self._apprise):
            return AlertResult("no-urls", "no alert URL is configured")
        key = (alert.event, alert.title, alert.body)
        if not force:
            last = self._recent.get(key)
            if last is not None and now - last < self.cfg.dedup_seconds:
                return AlertResult("duplicate", f"the same alert was sent {now - last:.0f} s ago")
            while self._window and now - self._window[0] >= 60.0:
                self._window.popleft()
            if len(self._window) >= self.cfg.max_per_minute:
                self.suppressed += 1
                return AlertResult("rate-limited", f"over {self.cfg.max_per_minute} a minute")
        self._recent[key] = now
        self._window.append(now)
        body = alert.body
        if self.suppressed:
            body += f"\n({self.suppressed} earlier alert(s) dropped by the rate limit)"
            self.suppressed = 0
        title = f"[{self.profile}] {alert.title}" if self.profile else alert.title
        from apprise import NotifyType

        kind = {"info": NotifyType.INFO, "warning": NotifyType.WARNING,
                "failure": NotifyType.FAILURE}[alert.severity]  # fmt: skip
        try:
            ok = await self._apprise.async_notify(body=body, title=title, notify_type=kind)
        except Exception as exc:
            return AlertResult("failed", self.clean(f"{type(exc).__name__}: {exc}"))
        if not ok:
            return AlertResult("failed", "the alert endpoint did not accept it (see the log)")
        return AlertResult("sent")

    async def test(self) -> AlertResult:
        """One test message to every URL at once, past filters and limits."""
        return await self.send(_TEST, force=True)

    def endpoints(self) -> list[str]:
        """Each URL as words may name it: Apprise's private form without its options, each
        part scrubbed (``json://127.0.0.1:8080/***/***``): the endpoint, never its secret."""
        names = []
        for server in self._apprise:
            parts = urlsplit(cast(Callable[..., str], server.url)(privacy=True))
            path = "/".join(self.clean(segment) for segment in parts.path.split("/"))
            names.append(self.clean(f"{parts.scheme}://{parts.netloc}") + path)
        return names

    async def test_each(self) -> list[tuple[str, AlertResult]]:
        """``trading-console alert-test``: the test message to each URL on its own, and
        what each answered (named by :meth:`endpoints`)."""
        from apprise import NotifyType

        title = self.clean(f"[{self.profile}] {_TEST.title}" if self.profile else _TEST.title)
        results = []
        for name, server in zip(self.endpoints(), self._apprise, strict=True):
            try:
                ok = await server.async_notify(body=self.clean(_TEST.body), title=title,
                                               notify_type=NotifyType.INFO)  # fmt: skip
                result = AlertResult("sent") if ok else AlertResult(
                    "failed", "the endpoint did not accept it (see the log)")  # fmt: skip
            except Exception as exc:
                result = AlertResult("failed", self.clean(f"{type(exc).__name__}: {exc}"))
            self.history.append((self.clock(), _TEST, result))
            results.append((name, result))
        return results


_TEST = Alert("test", "alert test", "trading-console: this is a test alert; "
              "if you read this, alerts reach you.")  # fmt: skip
