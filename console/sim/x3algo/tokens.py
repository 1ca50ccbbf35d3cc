"""JWT-shaped tokens for the simulated x3algo auth flow.

x3algo documents a 15-minute access JWT and a 7-day refresh JWT held in an HttpOnly
cookie. The simulator signs real HS256 JWTs (header.payload.signature, base64url) with a
secret derived from the seed, so a client that inspects the token sees the real shape,
and a tampered or foreign token is refused as ``INVALID_TOKEN``.

Expiry runs on the simulator clock (``ctx.clock``), so a frozen clock never expires a
token; ``expire_access_tokens`` (admin ``expire_tokens``) ends every access token issued
so far at once, which is how tests exercise the refresh path. Token ids (``jti``) come
from a counter, so the same seed and the same calls give byte-identical tokens.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from console.sim.kit.context import SimClock

ACCESS_TTL_S = 900
REFRESH_TTL_S = 604800


class TokenProblem(StrEnum):
    """Why a presented token is refused; the values are x3algo's error codes."""

    INVALID = "INVALID_TOKEN"
    EXPIRED = "TOKEN_EXPIRED"


@dataclass(frozen=True, slots=True)
class Claims:
    sub: str
    email: str
    kind: str
    jti: int
    iat: int
    exp: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenIssuer:
    """Issues and checks the access and refresh tokens of one simulated user base."""

    _HEADER = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())

    def __init__(self, seed: int, clock: SimClock) -> None:
        self._key = hashlib.sha256(f"{seed}:x3algo:jwt-signing-key".encode()).digest()
        self._clock = clock
        self._serial = 0
        self._access_cutoff = 0  # access tokens with jti <= cutoff are expired
        self._refresh_cutoff = 0  # refresh tokens with jti <= cutoff are revoked
        self.issued_access = 0
        self.issued_refresh = 0

    def _issue(self, sub: str, email: str, kind: str, ttl: int) -> str:
        self._serial += 1
        now = int(self._clock.now())
        payload: dict[str, Any] = {
            "sub": sub,
            "email": email,
            "type": kind,
            "jti": self._serial,
            "iat": now,
            "exp": now + ttl,
        }
        body = _b64(json.dumps(payload, separators=(",", ":")).encode())
        signing_input = f"{self._HEADER}.{body}"
        sig = hmac.new(self._key, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{_b64(sig)}"

    def access(self, sub: str, email: str) -> str:
        self.issued_access += 1
        return self._issue(sub, email, "access", ACCESS_TTL_S)

    def refresh(self, sub: str, email: str) -> str:
        self.issued_refresh += 1
        return self._issue(sub, email, "refresh", REFRESH_TTL_S)

    def check(self, token: str, kind: str) -> Claims | TokenProblem:
        """The token's claims, or why it is refused."""
        parts = token.split(".")
        if len(parts) != 3:
            return TokenProblem.INVALID
        expected = hmac.new(self._key, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
        try:
            given = _unb64(parts[2])
            raw = json.loads(_unb64(parts[1]))
            claims = Claims(
                sub=str(raw["sub"]),
                email=str(raw["email"]),
                kind=str(raw["type"]),
                jti=int(raw["jti"]),
                iat=int(raw["iat"]),
                exp=int(raw["exp"]),
            )
        except (ValueError, KeyError, TypeError):
            return TokenProblem.INVALID
        if not hmac.compare_digest(given, expected) or claims.kind != kind:
            return TokenProblem.INVALID
        cutoff = self._access_cutoff if kind == "access" else self._refresh_cutoff
        if claims.jti <= cutoff or claims.exp <= self._clock.now():
            return TokenProblem.EXPIRED
        return claims

    def expire_access_tokens(self) -> int:
        """End every access token issued so far; returns how many were issued."""
        self._access_cutoff = self._serial
        return self.issued_access

    def revoke_refresh_tokens(self) -> int:
        self._refresh_cutoff = self._serial
        return self.issued_refresh
