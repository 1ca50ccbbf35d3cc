"""PipAI's request signing as the simulated server checks it (generation A, "signed v1").

Written independently of the client's signer on purpose: the two meet only in the
published canonical-string rule and the test vectors of CONTRACTS.md, so a misreading
on either side shows up as a failing vector instead of passing silently.

Canonical string (bytes): ``timestamp + METHOD + request-target + body``, where the
request target is the path as sent plus ``?query`` when there is one (Project decision
for the [GAP]), and the body is the exact bytes received (empty for GET).
"""

from __future__ import annotations

import hashlib
import hmac
import random
import time
from dataclasses import dataclass, field

KEY_HEADER = "x-pipai-api-key"
TIMESTAMP_HEADER = "x-pipai-timestamp"
SIGNATURE_HEADER = "x-pipai-signature"

WS_PATH = "/v1/ws"


def expected_signature(secret: str, canonical: bytes) -> str:
    """Lowercase hex HMAC-SHA256 of ``canonical`` under ``secret``."""
    return hmac.new(secret.encode(), canonical, hashlib.sha256).hexdigest()


def canonical_request(timestamp: str, method: str, target: str, body: bytes) -> bytes:
    return timestamp.encode() + method.upper().encode() + target.encode() + body


def webhook_signature(secret: str, timestamp: str, raw_body: bytes) -> str:
    """Webhook deliveries sign ``"{timestamp}.{raw_body}"`` (a dot, unlike REST)."""
    return expected_signature(secret, timestamp.encode() + b"." + raw_body)


@dataclass
class ApiKey:
    """One key of the simulated account: its secret, scope and whether it still works."""

    key: str
    secret: str
    permission: str = "trade"  # read-only | trade | withdraw
    expired: bool = False


class AuthFailure(Exception):
    """A request the simulated vendor refuses: HTTP status, vendor code, vendor message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass
class Keyring:
    """The account's keys plus the signature rules (window, stale-timestamp code)."""

    keys: dict[str, ApiKey] = field(default_factory=dict)
    window_s: float = 300.0
    stale_code: str = "INVALID_SIGNATURE"

    def add(self, key: ApiKey) -> ApiKey:
        self.keys[key.key] = key
        return key

    def new_key(self, rng: random.Random, permission: str = "trade") -> ApiKey:
        """A fresh key drawn from ``rng`` (seeded, so a run's keys are repeatable)."""
        key = "pk_" + f"{rng.getrandbits(96):024x}"
        secret = "sk_" + f"{rng.getrandbits(160):040x}"
        return self.add(ApiKey(key, secret, permission))

    def verify(
        self,
        api_key: str | None,
        timestamp: str | None,
        signature: str | None,
        method: str,
        target: str,
        body: bytes,
    ) -> ApiKey:
        """The key that signed this request, or :class:`AuthFailure` in PipAI's words."""
        if not api_key or not timestamp or not signature:
            raise AuthFailure(
                401,
                "INVALID_SIGNATURE",
                "Missing authentication headers: X-PipAI-API-Key, X-PipAI-Timestamp "
                "and X-PipAI-Signature are required",
            )
        known = self.keys.get(api_key)
        if known is None:
            raise AuthFailure(401, "INVALID_SIGNATURE", "Unknown API key")
        if known.expired:
            raise AuthFailure(401, "KEY_EXPIRED", "API key is no longer active")
        if not timestamp.isdigit():
            raise AuthFailure(
                401, "INVALID_SIGNATURE", "X-PipAI-Timestamp must be Unix time in milliseconds"
            )
        # Replay window against wall time: the world clock may be frozen for snapshots.
        skew_s = abs(time.time() * 1000 - int(timestamp)) / 1000
        if skew_s > self.window_s:
            raise AuthFailure(
                401,
                self.stale_code,
                f"Request timestamp is outside the allowed window of {self.window_s:g} s",
            )
        wanted = expected_signature(
            known.secret, canonical_request(timestamp, method, target, body)
        )
        if not hmac.compare_digest(wanted.encode(), signature.encode()):
            raise AuthFailure(
                401, "INVALID_SIGNATURE", "Request signature did not match expected value"
            )
        return known

    @staticmethod
    def require(key: ApiKey, permission: str) -> None:
        """Control calls need the ``trade`` scope (``withdraw`` keys include it) [INF]."""
        if permission == "trade" and key.permission not in ("trade", "withdraw"):
            raise AuthFailure(
                403, "INSUFFICIENT_PERMISSION", f"API key lacks the '{permission}' permission"
            )
