"""Configuration: profiles of venues, credentials by reference, and where files live.

The config is TOML in the platformdirs config dir (``config.toml``), or the file given
with ``--config``. A profile is a list of venues plus how the console behaves with it::

    default_profile = "prod"

    [profiles.prod]
    label = "PROD"            # shown in the header and typed to confirm a kill
    color = "error"           # theme variable for the label: error, warning, success, accent
    readonly = true           # destructive keys unbound until armed
    arm_minutes = 5
    rearm_approval = true     # on a desk: a second operator approves re-arming after a kill
    secrets_file = "secrets.toml"   # relative to this file; refused if group/world-readable

    [[profiles.prod.venues]]
    api = "x3algo"
    name = "x3algo"
    base_url = "https://api.x3algo.com"
    credentials = { email = "env:X3ALGO_EMAIL", password = "secret:x3algo.password" }

Credentials are references only: ``env:NAME`` reads an environment variable,
``secret:SECTION.KEY`` reads the secrets file. A literal secret in config.toml is
refused, so the file can be shared and checked in.

A profile also holds its automation (``schedules``, ``guards``, ``deadman``, ``alerts``;
the models are ``console.automation.config``'s, docs/AUTOMATION.md has examples), checked
when the file is loaded; alert URLs, references too, are resolved by :meth:`Profile.alerter`.

This module finds, reads and resolves the file (:func:`load_profile`, :class:`Profile`,
the secrets file, the platformdirs paths); the models of its sections, every field and
check, are ``console/config_models.py``'s.
"""

from __future__ import annotations

import ipaddress
import os
import stat
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs
from pydantic import ValidationError

from console.automation.alerts import Alert, AlertConfigError, Alerter
from console.automation.config import AutomationConfig
from console.config_alerts import profile_alerter
from console.config_errors import error_lines, suggestion
from console.config_models import AppConfig, ProfileConfig
from console.venues.kit.base import RateLimit, Secret, VenueSettings

APP_NAME = "trading-console"


class ConfigError(Exception):
    """The configuration cannot be used; the message says what to do."""


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def state_dir() -> Path:
    return Path(platformdirs.user_state_dir(APP_NAME, appauthor=False))


def default_config_path() -> Path:
    return Path(os.environ.get("TRADING_CONSOLE_CONFIG") or config_dir() / "config.toml")


class Profile:
    """One profile, resolved: venue settings with their secrets, paths made absolute."""

    def __init__(self, name: str, config: ProfileConfig, app: AppConfig, source: Path) -> None:
        self.name = name
        self.config = config
        self.app = app
        self.source = source

    @property
    def label(self) -> str:
        return self.config.label

    @property
    def journal_path(self) -> Path:
        if self.config.journal:
            return _relative_to(self.source, self.config.journal)
        return data_dir() / "journal.sqlite3"

    def warnings(self) -> list[str]:
        """What the operator should hear before anything is sent: each venue reached in
        clear text (``http://`` or ``ws://``) on a host that is not this machine."""
        found = []
        for venue in self.config.venues:
            hosts: dict[str, set[str]] = {}  # host -> the secure schemes to use instead
            for url, secure in ((venue.base_url, "https://"), (venue.ws_url, "wss://")):
                host = plain_remote_host(url)
                if host is not None:
                    hosts.setdefault(host, set()).add(secure)
            for host, use in hosts.items():
                fix = " and ".join(sorted(use))
                found.append(
                    f"venue {venue.name} talks plain HTTP to host {host}: credentials and "
                    f"orders travel unencrypted; use {fix}"
                )
        return found

    def venue_settings(self, env: Mapping[str, str] | None = None) -> list[VenueSettings]:
        env = os.environ if env is None else env
        secrets = self._secrets()
        settings = []
        for venue in self.config.venues:
            creds = {
                name: Secret(_resolve(ref, env, secrets, venue.name, name, self._secrets_path()))
                for name, ref in venue.credentials.items()
            }
            settings.append(
                VenueSettings(
                    name=venue.name,
                    api=venue.api,
                    base_url=venue.base_url,
                    ws_url=venue.ws_url,
                    credentials=creds,
                    poll_interval_s=venue.poll_interval,
                    request_timeout_s=venue.request_timeout,
                    control_timeout_s=venue.control_timeout,
                    rate_scale=venue.rate_scale,
                    pacing=venue.pacing,
                    rate_limits={k: RateLimit(*v) for k, v in venue.rate_limits.items()},
                    options=venue.options,
                    max_pages=venue.max_pages,
                    max_targets=venue.max_targets,
                    max_body_bytes=int(venue.max_body_mb * 1_048_576),
                    retry_after_cap_s=venue.retry_after_cap,
                    state_dir=str(self.venue_state_dir(venue.name)),
                )
            )
        return settings

    def venue_state_dir(self, venue: str) -> Path:
        """Where a venue of this profile keeps state across processes (a login session):
        the platform state directory, per profile and venue, never the journal (or the
        profile's own ``state_dir``, per venue)."""
        if self.config.state_dir:
            return _relative_to(self.source, self.config.state_dir) / _safe_part(venue)
        return state_dir() / "venues" / _safe_part(self.name) / _safe_part(venue)

    def automation(self) -> AutomationConfig:
        """The profile's schedules, guards, dead-man timer and alerts."""
        return self.config.automation()

    def alerter(
        self,
        clock: Callable[[], float],
        local: Callable[[Alert], None] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Alerter:
        """The profile's alerter, its URL references resolved; a reference that does not
        resolve (or a value Apprise cannot use) is a :class:`ConfigError` in words."""
        try:
            return profile_alerter(
                self.config.alerts, where=f"{self.source}: profile {self.name!r}",
                secrets_path=self._secrets_path(), secrets=self._secrets,
                base=self.source.parent, env=os.environ if env is None else env,
                clock=clock, profile=self.name, local=local,
            )  # fmt: skip
        except AlertConfigError as exc:
            raise ConfigError(str(exc)) from None

    def _secrets_path(self) -> Path | None:
        if self.config.secrets_file is None:
            return None
        return _relative_to(self.source, self.config.secrets_file)

    def _secrets(self) -> dict[str, Any]:
        path = self._secrets_path()
        if path is None:
            return {}
        return load_secrets(path)


def is_loopback(host: str) -> bool:
    """``localhost``, 127.0.0.0/8 or ::1 (also as an IPv4-mapped address, or in brackets)."""
    host = host.lower().rstrip(".").strip("[]")
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


def plain_remote_host(url: str | None) -> str | None:
    """The host of an ``http://`` or ``ws://`` URL that leaves this machine, else None."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "ws"):
        return None
    if host is None:
        return parts.netloc or "?"
    return None if is_loopback(host) else host


def _safe_part(name: str) -> str:
    """A profile or venue name as one path component."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name).strip(".") or "_"


def _relative_to(source: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else source.parent / path


def load_secrets(path: Path) -> dict[str, Any]:
    """Read the secrets file, refusing it when group or others may read it (as ssh does)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ConfigError(f"secrets file {path} does not exist") from None
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        mode = stat.S_IMODE(info.st_mode)
        raise ConfigError(
            f"secrets file {path} is accessible by group or others (mode {mode:o}); "
            f"refusing to use it. Run: chmod 600 {path}"
        )
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"secrets file {path} is not valid TOML: {exc}") from None


def _resolve(
    ref: str,
    env: Mapping[str, str],
    secrets: Mapping[str, Any],
    venue: str,
    name: str,
    secrets_path: Path | None,
) -> str:
    kind, _, key = ref.partition(":")
    if kind == "env":
        value = env.get(key)
        if not value:
            state = "is empty" if value == "" else "is not set"
            raise ConfigError(
                f"venue {venue!r}: credential {name!r} reads environment variable {key}, "
                f"which {state}"
            )
        return value
    section, _, item = key.partition(".")
    found = secrets.get(section, {}).get(item) if item else secrets.get(section)
    if not isinstance(found, str) or not found:
        where = secrets_path or "(no secrets_file set in the profile)"
        state = ("is empty in" if found == "" else "is not text in" if found is not None
                 else "is not in")  # fmt: skip
        raise ConfigError(f"venue {venue!r}: credential {name!r} ({ref}) {state} {where}")
    return found


def load_config(path: Path | None = None) -> tuple[AppConfig, Path]:
    """Read and validate the config; a missing file says how to get started."""
    path = path or default_config_path()
    if not path.exists():
        raise ConfigError(
            f"no configuration at {path}.\n"
            "  Try the demo, which needs none:      trading-console demo\n"
            "  Or run the simulator and use its profile: trading-console sim --write-config DIR\n"
            f"  Or write {path} (see README, 'Configuration')."
        )
    try:
        with path.open("rb") as f:
            raw = tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    try:
        return AppConfig.model_validate(raw), path
    except ValidationError as exc:
        # One line per mistake: the file, the profile and venue, what is valid.
        raise ConfigError("\n".join(error_lines(path, exc, raw, AppConfig))) from None


def load_profile(path: Path | None = None, name: str | None = None) -> Profile:
    app, source = load_config(path)
    if not app.profiles:
        raise ConfigError(f"{source} defines no profiles")
    chosen = name or app.default_profile or next(iter(app.profiles))
    if chosen not in app.profiles:
        raise ConfigError(
            f"{source}: profile {chosen!r} is not defined{suggestion(chosen, app.profiles)}; "
            f"defined: {', '.join(app.profiles)}"
        )
    return Profile(chosen, app.profiles[chosen], app, source)


def write_profile_files(
    directory: Path,
    *,
    profile: str,
    label: str,
    color: str,
    venues: list[dict[str, Any]],
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write config.toml + secrets.toml (mode 600) for venues given with clear credentials.

    Used by the simulator and the demo: clear demo credentials go to the secrets file,
    the config references them.
    """
    directory.mkdir(parents=True, exist_ok=True)
    secrets: dict[str, dict[str, str]] = {}
    lines = [f'default_profile = "{profile}"', "", f"[profiles.{profile}]",
             f'label = "{label}"', f'color = "{color}"', 'secrets_file = "secrets.toml"',
             'journal = "journal.sqlite3"']  # fmt: skip
    for key, value in (extra or {}).items():
        lines.append(f"{key} = {_toml_value(value)}")
    for venue in venues:
        lines += ["", f"[[profiles.{profile}.venues]]"]
        refs = {}
        for cname, cvalue in venue["credentials"].items():
            secrets.setdefault(venue["name"], {})[cname] = cvalue
            refs[cname] = f"secret:{venue['name']}.{cname}"
        for key, value in venue.items():
            if key != "credentials":
                lines.append(f"{key} = {_toml_value(value)}")
        inline = ", ".join(f"{k} = {_toml_value(v)}" for k, v in refs.items())
        lines.append(f"credentials = {{ {inline} }}")
    config_path = directory / "config.toml"
    config_path.write_text("\n".join(lines) + "\n")
    secrets_path = directory / "secrets.toml"
    fd = os.open(secrets_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        for section, values in secrets.items():
            f.write(f'["{section}"]\n')
            for k, v in values.items():
                f.write(f"{k} = {_toml_value(v)}\n")
            f.write("\n")
    os.chmod(secrets_path, 0o600)
    return config_path


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")
