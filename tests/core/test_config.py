"""Config: profiles, credentials by reference only, secrets files refused when readable."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from console.config import ConfigError, Profile, load_profile, write_profile_files

VENUE = {"api": "finradar", "name": "finradar", "base_url": "http://127.0.0.1:9"}


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(body)
    return path


def test_no_config_says_how_to_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="trading-console demo"):
        load_profile(tmp_path / "missing.toml")


def test_env_references_resolve_and_never_print(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[profiles.prod]
label = "PROD"
[[profiles.prod.venues]]
api = "finradar"
name = "fr"
base_url = "http://127.0.0.1:9"
credentials = { api_key = "env:FR_KEY" }
""",
    )
    profile = load_profile(path)
    settings = profile.venue_settings({"FR_KEY": "s3cr3t-value"})
    secret = settings[0].credentials["api_key"]
    assert secret.reveal() == "s3cr3t-value"
    assert "s3cr3t" not in repr(settings[0]) and "s3cr3t" not in str(secret)


def test_a_missing_env_variable_is_named(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[profiles.p]
[[profiles.p.venues]]
api = "finradar"
name = "fr"
base_url = "http://127.0.0.1:9"
credentials = { api_key = "env:FR_KEY" }
""",
    )
    with pytest.raises(ConfigError, match="FR_KEY"):
        load_profile(path).venue_settings({})


def test_a_literal_secret_in_the_config_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[profiles.p]
[[profiles.p.venues]]
api = "finradar"
name = "fr"
base_url = "http://127.0.0.1:9"
credentials = { api_key = "abcdef123456" }
""",
    )
    with pytest.raises(ConfigError, match="must be a reference"):
        load_profile(path)


def test_secrets_file_round_trip_with_mode_600(tmp_path: Path) -> None:
    venue = {**VENUE, "credentials": {"api_key": "demo-key"}}
    path = write_profile_files(
        tmp_path, profile="demo", label="DEMO", color="success", venues=[venue]
    )
    assert (os.stat(tmp_path / "secrets.toml").st_mode & 0o777) == 0o600
    assert "demo-key" not in path.read_text()
    profile = load_profile(path, "demo")
    assert profile.label == "DEMO"
    assert profile.venue_settings({})[0].credentials["api_key"].reveal() == "demo-key"
    assert profile.journal_path == tmp_path / "journal.sqlite3"


def test_a_group_readable_secrets_file_is_refused_like_ssh_keys(tmp_path: Path) -> None:
    venue = {**VENUE, "credentials": {"api_key": "demo-key"}}
    path = write_profile_files(
        tmp_path, profile="demo", label="DEMO", color="success", venues=[venue]
    )
    os.chmod(tmp_path / "secrets.toml", 0o640)
    with pytest.raises(ConfigError, match="chmod 600") as info:
        load_profile(path, "demo").venue_settings({})
    assert "demo-key" not in str(info.value)


def test_unknown_profile_lists_the_known_ones(tmp_path: Path) -> None:
    path = write(tmp_path, "[profiles.alpha]\n[profiles.beta]\n")
    with pytest.raises(ConfigError, match="alpha, beta"):
        load_profile(path, "gamma")


def profile_with(tmp_path: Path, *venues: tuple[str, str, str | None]) -> Profile:
    lines = ["[profiles.p]"]
    for name, base, ws in venues:
        lines += ["[[profiles.p.venues]]", 'api = "finradar"', f'name = "{name}"',
                  f'base_url = "{base}"']  # fmt: skip
        if ws is not None:
            lines.append(f'ws_url = "{ws}"')
    return load_profile(write(tmp_path, "\n".join(lines) + "\n"))


def test_plain_http_to_another_host_is_warned_naming_venue_and_host(tmp_path: Path) -> None:
    profile = profile_with(tmp_path, ("fr", "http://api.finradar.example:8080/v1", None))
    assert profile.warnings() == [
        "venue fr talks plain HTTP to host api.finradar.example: credentials and orders "
        "travel unencrypted; use https://"
    ]


def test_a_plain_stream_is_warned_too(tmp_path: Path) -> None:
    profile = profile_with(
        tmp_path,
        ("tech", "https://mm.example", "ws://stream.example/ws"),
        ("both", "HTTP://desk-gw.example", "ws://desk-gw.example:9000"),
    )
    warnings = profile.warnings()
    assert len(warnings) == 2
    assert warnings[0].startswith("venue tech talks plain HTTP to host stream.example:")
    assert warnings[0].endswith("use wss://")
    assert warnings[1].startswith("venue both talks plain HTTP to host desk-gw.example:")
    assert warnings[1].endswith("use https:// and wss://")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9",
        "http://127.9.8.7",
        "http://localhost:8000/api",
        "http://LOCALHOST.",
        "http://[::1]:8080",
        "http://[::ffff:127.0.0.1]:80",
        "https://api.example.com",
    ],
)
def test_loopback_and_encrypted_urls_are_not_warned(tmp_path: Path, url: str) -> None:
    profile = profile_with(tmp_path, ("v", url, url.replace("http", "ws", 1)))
    assert profile.warnings() == []


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1.example.com", "http://localhost.evil.example", "http://[::2]"]
)
def test_hosts_that_only_look_local_are_warned(tmp_path: Path, url: str) -> None:
    assert len(profile_with(tmp_path, ("v", url, None)).warnings()) == 1


def test_the_simulator_profile_has_no_warning(tmp_path: Path) -> None:
    venue = {**VENUE, "ws_url": "ws://127.0.0.1:9/ws", "credentials": {"api_key": "k"}}
    path = write_profile_files(tmp_path, profile="s", label="S", color="success", venues=[venue])
    assert load_profile(path).warnings() == []
