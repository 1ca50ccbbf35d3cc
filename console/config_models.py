"""The pydantic models of a config file: the file, its profiles and their venues.

Kept apart from ``config.py`` (which finds, reads and resolves the file) so the shape of
a profile reads in one place: every field, its default and its bounds, and the checks
made when the file is loaded (a venue API that exists, URLs with a host, credentials
that are references, never secrets; venue, schedule and guard names unique in a
profile). The automation sections' models are ``console.automation.config``'s.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from console.automation.config import (
    AlertsConfig,
    AutomationConfig,
    DeadmanConfig,
    GuardConfig,
    ScheduleConfig,
)
from console.config_errors import suggestion
from console.venues.registry import VENUE_CLIENTS


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VenueConfig(_Model):
    api: str
    name: str = Field(min_length=1)
    base_url: str
    ws_url: str | None = None
    credentials: dict[str, str] = Field(default_factory=dict)
    poll_interval: float = Field(default=2.0, gt=0)
    request_timeout: float = Field(default=5.0, gt=0)
    control_timeout: float = Field(default=10.0, gt=0)
    rate_scale: float = Field(default=1.0, gt=0)
    pacing: bool = True
    rate_limits: dict[str, tuple[int, float]] = Field(default_factory=dict)
    options: dict[str, str | int | float | bool] = Field(default_factory=dict)
    # Bounds on a hostile venue (docs/EMERGENCY.md, "Deadlines and bounds").
    max_pages: int = Field(default=5_000, ge=1)
    max_targets: int = Field(default=250_000, ge=1)
    max_body_mb: float = Field(default=64.0, gt=0)
    retry_after_cap: float = Field(default=30.0, ge=0)

    @field_validator("api")
    @classmethod
    def _known_api(cls, value: str) -> str:
        if value not in VENUE_CLIENTS:
            raise ValueError(
                f"{value!r} is not a venue API{suggestion(value, VENUE_CLIENTS)}; "
                f"valid: {', '.join(VENUE_CLIENTS)}"
            )
        return value

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return _url(value, ("http", "https"), "https://api.example.com")

    @field_validator("ws_url")
    @classmethod
    def _ws_url(cls, value: str | None) -> str | None:
        return None if value is None else _url(value, ("ws", "wss"), "wss://ws.example.com")

    @field_validator("credentials")
    @classmethod
    def _references_only(cls, value: dict[str, str]) -> dict[str, str]:
        for name, ref in value.items():
            if not ref.startswith(("env:", "secret:")):
                raise ValueError(
                    f"credential {name!r} must be a reference (env:VAR or secret:SECTION.KEY), "
                    "never the secret itself"
                )
        return value


class ProfileConfig(_Model):
    label: str = Field(default="PROFILE", min_length=1)
    color: str = "warning"
    readonly: bool = False
    arm_minutes: float = Field(default=5.0, gt=0)
    kill_close_positions: bool = False
    stale_after: float = Field(default=30.0, gt=0)
    watch_minutes: float = Field(default=10.0, ge=0)
    auto_restop: bool = False
    # The kill's deadline model, in seconds (docs/EMERGENCY.md, "The deadline model").
    kill_planning_deadline: float = Field(default=30.0, gt=0)
    # How long a kill's read of a venue that says it is briefly in trouble (a 503) goes
    # on being tried, at planning and at verifying (console/core/read_retry.py).
    kill_read_retry: float = Field(default=10.0, ge=0)
    kill_dispatch_deadline: float = Field(default=600.0, gt=0)
    kill_verify_deadline: float = Field(default=60.0, gt=0)
    # Columns and rows from which all five panels' overview shows above the panels.
    overview_from: tuple[int, int] = (160, 45)
    secrets_file: str | None = None
    journal: str | None = None
    # Where venues keep state across processes (a login session); relative to this file.
    # Default: the platform state directory, per profile. The demo gives each run its own.
    state_dir: str | None = None
    # A desk's NATS URL: the console attaches to the profile's hub there (--desk overrides).
    desk: str | None = None
    # On a desk, resuming or starting what a kill halted needs a second operator's approval
    # (docs/DESK.md, "Roles"); the hub reads it.
    rearm_approval: bool = False
    venues: list[VenueConfig] = Field(default_factory=list)
    # Automation (docs/AUTOMATION.md): what runs without a key press.
    schedules: list[ScheduleConfig] = Field(default_factory=list)
    guards: list[GuardConfig] = Field(default_factory=list)
    deadman: DeadmanConfig = Field(default_factory=DeadmanConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)

    @model_validator(mode="after")
    def _unique_venue_names(self) -> ProfileConfig:
        names = [v.name for v in self.venues]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(
                f"venue name {twice[0]!r} is used by {names.count(twice[0])} venues; "
                "each venue of a profile needs its own name"
            )
        self.automation()  # two schedules (or guards) of one name are refused at load
        return self

    def automation(self) -> AutomationConfig:
        return AutomationConfig(
            schedules=self.schedules, guards=self.guards, deadman=self.deadman, alerts=self.alerts
        )


def _url(value: str, schemes: tuple[str, ...], example: str) -> str:
    """A URL with one of ``schemes`` and a host, or a ValueError naming what is expected.

    A URL carrying a user name or password is refused: a URL is shown in messages and
    logs, a credential never is — it belongs in the secrets file. The refusal (and any
    other) quotes the URL without what stands before its ``@``."""
    try:
        parts = urlsplit(value.strip())
        host = parts.hostname
    except ValueError:
        host = None
        parts = None
    shown = _without_userinfo(value)
    if parts is None or parts.scheme.lower() not in schemes or not host:
        want = " or ".join(f"{s}://" for s in schemes)
        raise ValueError(f"{shown!r} is not a {want} URL with a host (e.g. {example})")
    if "@" in parts.netloc:
        raise ValueError(
            f"{shown!r} carries a user name or password before its host: a URL is shown in "
            "messages and logs — put the credential in the secrets file and name it in "
            "credentials (README, 'Configuration')"
        )
    return value


def _without_userinfo(value: str) -> str:
    """``value`` with whatever stands between ``//`` and the host's ``@`` masked."""
    scheme, sep, rest = value.partition("//")
    if not sep:
        return value if "@" not in value else "…@" + value.rsplit("@", 1)[1]
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        authority = "…@" + authority.rsplit("@", 1)[1]
    return f"{scheme}{sep}{authority}{slash}{path}"


class AppConfig(_Model):
    default_profile: str | None = None
    theme: str | None = None
    keys: dict[str, str] = Field(default_factory=dict)
    profiles: dict[str, ProfileConfig] = Field(default_factory=dict)
