"""A profile's automation (schedules, guards, deadman, alerts) is checked when the config
is loaded, and a mistake is one line naming the file, the profile, the rule and what to
write instead; an alert URL reference that does not resolve is refused the same way."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from console.cli.main import main
from console.config import ConfigError, load_profile

SCHEDULE = '[[profiles.prod.schedules]]\nname = "close"\n'


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text('default_profile = "prod"\n[profiles.prod]\n' + text)
    return path


def one_error(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> str:
    path = config(tmp_path, text)
    code = main(["--config", str(path), "automation"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    [line] = err.splitlines()
    prefix = f"trading-console: {path}: profile 'prod'"
    assert line.startswith((prefix + ", ", prefix + ": ")), line
    return line.removeprefix(prefix)[2:]


def test_a_bad_cron_names_the_schedule_and_the_five_fields(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = one_error(tmp_path, capsys, SCHEDULE + 'cron = "61 16 * * mon-fri"\n')
    assert line == (
        "schedule 'close' (#1): cron: '61 16 * * mon-fri' is not a cron expression (five "
        "fields: minute hour day month weekday, e.g. '0 16 * * mon-fri')"
    )


def test_an_unknown_time_zone_says_what_a_zone_looks_like(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = one_error(tmp_path, capsys, SCHEDULE + 'at = "16:00"\ntz = "EST5"\n')
    assert line.startswith("schedule 'close' (#1): tz: 'EST5' is not an IANA time zone (e.g. ")
    line = one_error(tmp_path, capsys, '[profiles.prod.deadman]\ntz = "Mars/Base"\n')
    assert line.startswith("deadman: tz: 'Mars/Base' is not an IANA time zone")


def test_a_schedule_needs_exactly_one_when(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = one_error(tmp_path, capsys, SCHEDULE + 'at = "16:00"\ncron = "0 16 * * *"\n')
    assert "needs exactly one of at (HH:MM), cron or before_expiry (minutes); it has at, cron" in (
        line
    )


def test_a_misspelt_guard_rule_lists_the_rules_and_the_close_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = one_error(tmp_path, capsys, '[[profiles.prod.guards]]\nname = "g"\nrule = "pnl_belo"\n')
    assert line.startswith("guard 'g' (#1): rule must be 'pnl_below', 'drawdown_over'")
    assert line.endswith("(got 'pnl_belo') (did you mean 'pnl_below'?)")


def test_two_schedules_of_one_name_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (SCHEDULE + 'at = "16:00"\n') * 2
    assert one_error(tmp_path, capsys, text) == (
        "schedule name 'close' is used twice; names must be unique"
    )


def test_a_literal_alert_url_is_refused_as_a_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line = one_error(tmp_path, capsys, '[profiles.prod.alerts]\nurls = ["json://127.0.0.1/x"]\n')
    assert line == (
        "alerts: urls: alert URL #1 must be a reference (env:VAR, secret:SECTION.KEY or "
        "file:PATH), never the URL itself: alert URLs carry tokens"
    )


def test_an_alert_url_reference_that_does_not_resolve_says_what_to_write(
    tmp_path: Path,
) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[alerts]\nother = "json://127.0.0.1:9/x"\n')
    os.chmod(secrets, 0o600)
    path = config(tmp_path, 'secrets_file = "secrets.toml"\n[profiles.prod.alerts]\n'
                  'urls = ["secret:alerts.slack", "env:TC_TEST_ALERT_URL"]\n')  # fmt: skip
    profile = load_profile(path)
    with pytest.raises(ConfigError) as refused:
        profile.alerter(lambda: 0.0, env={})
    assert str(refused.value) == (
        f"{path}: profile 'prod', alerts: URL #1 (secret:alerts.slack): alert URL "
        "secret:alerts.slack is not in the profile's secrets file; write [alerts] slack = "
        f'"<apprise URL>" in {secrets}'
    )
    secrets.write_text('[alerts]\nslack = "json://127.0.0.1:9/x"\n')
    with pytest.raises(ConfigError) as refused:
        profile.alerter(lambda: 0.0, env={})
    assert str(refused.value) == (
        f"{path}: profile 'prod', alerts: URL #2 (env:TC_TEST_ALERT_URL): alert URL reads "
        "environment variable TC_TEST_ALERT_URL, which is not set; set it (export "
        "TC_TEST_ALERT_URL='json://…') or use secret:SECTION.KEY"
    )
    alerter = profile.alerter(lambda: 0.0, env={"TC_TEST_ALERT_URL": "json://127.0.0.1:9/y"})
    assert alerter.profile == "prod" and alerter.bad_urls == []


def test_a_value_apprise_cannot_send_to_is_refused_without_showing_it(tmp_path: Path) -> None:
    path = config(tmp_path, '[profiles.prod.alerts]\nurls = ["env:TC_TEST_ALERT_URL"]\n')
    with pytest.raises(ConfigError) as refused:
        load_profile(path).alerter(lambda: 0.0, env={"TC_TEST_ALERT_URL": "nonsense-s3cr3t"})
    assert "URL #1 (env:TC_TEST_ALERT_URL): the value it reads is not a URL Apprise" in str(
        refused.value
    )
    assert "s3cr3t" not in str(refused.value)


def test_the_profile_gives_its_automation(tmp_path: Path) -> None:
    path = config(
        tmp_path,
        SCHEDULE + 'cron = "55 15 * * mon-fri"\ntz = "America/New_York"\n'
        'scope = { venue = "v", name = "*momentum*" }\naction = "pause"\n'
        '[[profiles.prod.guards]]\nname = "floor"\nrule = "pnl_below"\nthreshold = -5000\n'
        '[profiles.prod.deadman]\nenabled = true\nhours = "08:00-17:30"\n',
    )
    auto = load_profile(path).automation()
    assert [s.name for s in auto.schedules] == ["close"]
    assert auto.schedules[0].scope.name == "*momentum*"
    assert [g.threshold for g in auto.guards] == [-5000]
    assert auto.deadman.enabled and auto.alerts.urls == []
