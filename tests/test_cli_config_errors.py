"""A config mistake is one line per problem, naming the file, the profile and venue and
what is valid, and exit 2: never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.cli.main import main

VENUE = 'api = "x3algo"\nname = "algos"\nbase_url = "http://127.0.0.1:9"\n'


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text('default_profile = "prod"\n' + text)
    return path


def errors(capsys: pytest.CaptureFixture[str], path: Path, *argv: str) -> list[str]:
    code = main(["--config", str(path), *(argv or ("status",))])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    return err.splitlines()


def test_a_misspelt_api_names_file_profile_venue_and_the_valid_apis(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = config(tmp_path, "[profiles.prod]\n[[profiles.prod.venues]]\n"
                  + VENUE.replace('"x3algo"', '"x3alog"'))  # fmt: skip
    for command in (["status"], ["kill", "--yes"], ["audit"]):
        [line] = errors(capsys, path, *command)
        assert line.startswith(f"trading-console: {path}: profile 'prod', venue 'algos' (#1): ")
        assert "'x3alog'" in line
        assert "did you mean 'x3algo'?" in line
        assert "55tech, x3algo, pipai, joyride, finradar" in line


def test_a_missing_base_url_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = config(tmp_path, '[profiles.prod]\n[[profiles.prod.venues]]\napi = "pipai"\n'
                  'name = "pip"\n')  # fmt: skip
    assert errors(capsys, path) == [
        f"trading-console: {path}: profile 'prod', venue 'pip' (#1): base_url is missing; "
        "it is required"
    ]


def test_each_mistake_is_its_own_line_with_what_is_valid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = config(
        tmp_path,
        'colour = "red"\n[profiles.prod]\nlable = "PROD"\narm_minutes = "five"\n'
        "[[profiles.prod.venues]]\n" + VENUE + "poll_interval = -1\n"
        '[[profiles.prod.venues]]\napi = "joyride"\nname = "joy"\nbase_url = "joyride.example"\n',
    )
    lines = errors(capsys, path)
    where = f"trading-console: {path}: "
    assert all(line.startswith(where) for line in lines), lines
    text = "\n".join(line.removeprefix(where) for line in lines)
    assert "unknown key 'colour'; valid keys: default_profile, keys, profiles, theme" in text
    assert "profile 'prod': unknown key 'lable' (did you mean 'label'?); valid keys: " in text
    assert "profile 'prod': arm_minutes must be a number (got 'five')" in text
    assert "profile 'prod', venue 'algos' (#1): poll_interval must be > 0" in text
    assert (
        "profile 'prod', venue 'joy' (#2): base_url: 'joyride.example' is not a http:// or "
        "https:// URL with a host" in text
    )
    assert len(lines) == 5


def test_two_venues_with_one_name_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = config(tmp_path, "[profiles.prod]\n[[profiles.prod.venues]]\n" + VENUE
                  + "[[profiles.prod.venues]]\n" + VENUE)  # fmt: skip
    [line] = errors(capsys, path)
    assert "profile 'prod': venue name 'algos' is used by 2 venues" in line


def test_an_unknown_profile_suggests_the_close_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = config(tmp_path, "[profiles.prod]\n[profiles.staging]\n")
    assert errors(capsys, path, "--profile", "prd", "status") == [
        f"trading-console: {path}: profile 'prd' is not defined (did you mean 'prod'?); "
        "defined: prod, staging"
    ]


def test_an_empty_credential_is_called_empty_not_missing(tmp_path: Path) -> None:
    """``api_keys = ""`` in the secrets file read "is not in …secrets.toml": it is there,
    and empty."""
    from console.config import ConfigError, load_profile, write_profile_files

    path = write_profile_files(tmp_path, profile="p", label="P", color="warning", venues=[
        {"api": "finradar", "name": "fr", "base_url": "http://127.0.0.1:9",
         "credentials": {"api_key": ""}},
    ])  # fmt: skip
    with pytest.raises(
        ConfigError, match=r"credential 'api_key' \(secret:fr.api_key\) is empty in"
    ):
        load_profile(path).venue_settings()


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("http://algo-user:hunter2pass@127.0.0.1:9", "'http://…@127.0.0.1:9' carries a user name"),
        ("htp://algo-user:hunter2pass@127.0.0.1:9/x", "'htp://…@127.0.0.1:9/x' is not a http://"),
    ],
)
def test_a_url_carrying_a_password_is_refused_without_quoting_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str, said: str
) -> None:
    """A URL is shown in messages and logs; a credential in it (``user:pass@host``) was
    taken as is — and quoted whole by the refusal of a URL mistyped (session 23)."""
    path = config(tmp_path, "[profiles.prod]\n[[profiles.prod.venues]]\n"
                  f'api = "x3algo"\nname = "algos"\nbase_url = "{url}"\n')  # fmt: skip
    [line] = errors(capsys, path)
    assert said in line and "hunter2pass" not in line and "algo-user" not in line, line
