"""``trading-console --desk URL`` and ``desk = "nats://…"`` in a profile: the wiring."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from console.cli import desk
from console.cli.main import build_parser, main
from console.config import load_profile, write_profile_files
from console.core.session import SessionOptions
from console.desk.connect import PASSWORD_ENV

URL = "nats://127.0.0.1:4222"


def config(tmp_path: Path, **extra: str) -> Path:
    return write_profile_files(tmp_path, profile="sim", label="SIM", color="warning",
                               venues=[], extra=extra)  # fmt: skip


def test_the_flag_or_the_profile_names_the_desk(tmp_path: Path) -> None:
    plain = load_profile(config(tmp_path / "plain"))
    with_desk = load_profile(config(tmp_path / "desk", desk=URL))
    args = build_parser().parse_args([])
    assert desk.desk_url(plain, args) is None  # the local console, as before
    assert desk.desk_url(with_desk, args) == URL
    flag = build_parser().parse_args(["--desk", "nats://127.0.0.1:1"])
    assert desk.desk_url(with_desk, flag) == "nats://127.0.0.1:1"


def test_a_desk_without_a_password_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    code = main(["--config", str(config(tmp_path)), "--desk", URL, "--desk-user", "alice"])
    assert code == 2
    assert PASSWORD_ENV in capsys.readouterr().err


def test_an_unreachable_desk_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "not-used")
    args = argparse.Namespace(desk_user="alice", desk_creds=None, readonly=False, theme=None)
    profile = load_profile(config(tmp_path))
    options = SessionOptions(profile="sim")
    nowhere = "nats://127.0.0.1:9"  # loopback's discard port: nothing listens
    monkeypatch.setattr("console.desk.desk_console.FIRST_CONNECT_S", 2.0)
    assert desk.run(profile, args, options, nowhere) == desk.EXIT_FAILED
    assert "cannot attach to the desk" in capsys.readouterr().err
