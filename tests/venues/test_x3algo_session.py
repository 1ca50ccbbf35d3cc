"""x3algo's session kept across processes (issue 12 item 1), against the simulator with
its real login limit (5 logins/refreshes per 15 minutes, ``rate_scale`` 1).

Each :class:`X3AlgoClient` made here stands for one process: it shares nothing with the
others but the state folder. The acceptance runs the CLI itself, ten times and a kill.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from console.cli.main import main
from console.config import load_profile, write_profile_files
from console.sim.server import SimServer
from console.venues.kit.feeds import FeedError
from console.venues.kit.session_file import SessionFile, StoredSession
from console.venues.x3algo.client import X3AlgoClient
from tests.support import settings_for, sim_admin, sim_counters


def process(sim: SimServer, folder: Path) -> X3AlgoClient:
    """An x3algo client as one CLI process makes it, keeping its session in ``folder``."""
    return X3AlgoClient(settings_for(sim, "x3algo", state_dir=str(folder)))


async def one_run(sim: SimServer, folder: Path) -> X3AlgoClient:
    client = process(sim, folder)
    try:
        await client.list_targets()
    finally:
        await client.aclose()
    return client


def session_file(sim: SimServer, folder: Path) -> SessionFile:
    settings = settings_for(sim, "x3algo")
    email = settings.credentials["email"].reveal()
    return SessionFile(folder, settings.base_url, email, vendor="x3algo")


def stored(sim: SimServer, folder: Path) -> StoredSession:
    found = session_file(sim, folder).load()
    assert found is not None
    return found


def profile(sim: SimServer, tmp_path: Path) -> Path:
    return write_profile_files(tmp_path / "config", profile="sim", label="SIM", color="warning",
                               venues=sim.venue_entries())  # fmt: skip


# ----- the acceptance -------------------------------------------------------------------
def test_ten_cli_runs_then_kill_reaches_x3algo_and_verifies_it_with_one_login(
    sim: SimServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    config = profile(sim, tmp_path)
    said: list[str] = []
    for run in range(10):
        code = main(["--config", str(config), "status", "--json"])
        out = capsys.readouterr()
        said += [out.out, out.err]
        rows = [json.loads(line) for line in out.out.splitlines()]
        assert code == 0, (run, out.err)
        assert any(r["venue"] == "x3algo" for r in rows), (run, out.err)
    code = main(["--config", str(config), "kill", "--yes", "--json", "--reason", "drill"])
    out = capsys.readouterr()
    said += [out.out, out.err]
    lines = [json.loads(x) for x in out.out.splitlines()]
    summary, results = lines[-1], lines[:-1]
    assert code == 14, summary  # all halted; Joyride's by its answer only (no re-read)
    assert summary["verdict"] == "halted_by_answer" and "x3algo" not in summary["unreachable"]
    x3 = [r for r in results if r["venue"] == "x3algo"]
    assert x3 and all(r["verified"] is True for r in x3)
    assert sim_counters(sim, "x3algo")["logins"] == 1

    # The tokens are in the 0600 file, and nowhere else: not in the journal, not in any
    # output or log line.
    settings = next(v for v in load_profile(config, None).venue_settings() if v.api == "x3algo")
    assert settings.state_dir is not None
    kept = stored(sim, Path(settings.state_dir))
    tokens = [kept.access_token, kept.refresh_token]
    assert all(tokens)
    journal = (config.parent / "journal.sqlite3").read_bytes()
    said += [r.getMessage() for r in caplog.records]
    for token in tokens:
        assert token is not None
        assert token.encode() not in journal
        assert not any(token in text for text in said)


# ----- the file -------------------------------------------------------------------------
async def test_the_session_file_is_0600_in_a_0700_folder_and_names_no_account(
    sim: SimServer, tmp_path: Path
) -> None:
    folder = tmp_path / "state" / "x3"
    await one_run(sim, folder)
    file = session_file(sim, folder)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(file.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(file.lock_path.stat().st_mode) == 0o600
    creds = sim.vendors["x3algo"].credentials()
    for path in folder.iterdir():
        assert creds["email"] not in path.name and creds["password"] not in path.name
        assert creds["password"] not in path.read_text()


async def test_tokens_loaded_from_the_file_are_scrubbed_from_every_text(
    sim: SimServer, tmp_path: Path
) -> None:
    folder = tmp_path / "x3"
    await one_run(sim, folder)
    kept = stored(sim, folder)
    client = process(sim, folder)  # loads the file; has sent nothing
    await client.aclose()
    for token in (kept.access_token, kept.refresh_token):
        assert token is not None
        assert client.scrubber.scrub(f"venue said: {token}!") == "venue said: ***!"


async def test_a_second_process_reuses_the_session_instead_of_logging_in(
    sim: SimServer, tmp_path: Path
) -> None:
    for _ in range(7):  # more runs than x3algo allows logins
        await one_run(sim, tmp_path / "x3")
    assert sim_counters(sim, "x3algo")["logins"] == 1


async def test_without_a_state_folder_nothing_is_kept(sim: SimServer, tmp_path: Path) -> None:
    client = X3AlgoClient(settings_for(sim, "x3algo"))
    await client.list_targets()
    await client.aclose()
    assert client.session.logins == 1


async def test_a_corrupt_session_file_is_ignored_logged_without_secrets_and_replaced(
    sim: SimServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "x3"
    await one_run(sim, folder)
    file = session_file(sim, folder)
    secret_part = stored(sim, folder).access_token
    assert secret_part is not None
    file.path.write_text('{"version": 1, "access_token": "' + secret_part[:40])  # cut short
    caplog.set_level(logging.DEBUG)
    await one_run(sim, folder)
    assert sim_counters(sim, "x3algo")["logins"] == 2
    warned = [r.getMessage() for r in caplog.records if "session file" in r.getMessage()]
    assert warned and "ignored" in warned[0] and str(file.path) in warned[0]
    assert not any(secret_part[:40] in r.getMessage() for r in caplog.records)
    assert stored(sim, folder).access_token not in (None, secret_part)


# ----- expiry, refresh and revocation ---------------------------------------------------
async def test_an_expired_access_token_is_refreshed_not_logged_in_again(
    sim: SimServer, tmp_path: Path
) -> None:
    folder = tmp_path / "x3"
    await one_run(sim, folder)
    sim_admin(sim, "x3algo", "expire_tokens")  # x3algo answers 401 TOKEN_EXPIRED
    await one_run(sim, folder)
    counters = sim_counters(sim, "x3algo")
    assert (counters["logins"], counters["refreshes"]) == (1, 1)
    await one_run(sim, folder)  # the refreshed token was written back and is reused
    assert sim_counters(sim, "x3algo")["refreshes"] == 1


async def test_a_token_about_to_expire_is_refreshed_before_it_is_used(
    sim: SimServer, tmp_path: Path
) -> None:
    folder = tmp_path / "x3"
    await one_run(sim, folder)
    file = session_file(sim, folder)
    kept = stored(sim, folder)
    kept.access_expires_at = time.time() + 30  # inside the one-minute margin
    file.save(kept, keep_s=900)
    await one_run(sim, folder)
    counters = sim_counters(sim, "x3algo")
    assert (counters["logins"], counters["refreshes"]) == (1, 1)
    assert counters.get("401_token_expired", 0) == 0  # refreshed ahead, not after a 401


async def test_a_revoked_session_leads_to_exactly_one_login(sim: SimServer, tmp_path: Path) -> None:
    folder = tmp_path / "x3"
    await one_run(sim, folder)
    sim_admin(sim, "x3algo", "expire_tokens")
    sim_admin(sim, "x3algo", "revoke_refresh_tokens")
    await one_run(sim, folder)
    counters = sim_counters(sim, "x3algo")
    assert (counters["logins"], counters["refresh_refused"]) == (2, 1)
    await one_run(sim, folder)
    assert sim_counters(sim, "x3algo")["logins"] == 2


# ----- processes at once ----------------------------------------------------------------
async def test_two_processes_starting_at_once_log_in_once(sim: SimServer, tmp_path: Path) -> None:
    folder = tmp_path / "x3"
    first, second = process(sim, folder), process(sim, folder)
    try:
        await asyncio.gather(first.list_targets(), second.list_targets())
    finally:
        await first.aclose()
        await second.aclose()
    assert sim_counters(sim, "x3algo")["logins"] == 1
    assert first.session.logins + second.session.logins == 1


def test_two_cli_processes_started_together_log_in_once(sim: SimServer, tmp_path: Path) -> None:
    config = profile(sim, tmp_path)
    argv = [sys.executable, "-m", "console", "--config", str(config), "status", "--json"]
    runs = [
        subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ)
        for _ in range(2)
    ]
    for run in runs:
        _, err = run.communicate(timeout=60)
        assert run.returncode == 0, err.decode()
    assert sim_counters(sim, "x3algo")["logins"] == 1


# ----- the budget -----------------------------------------------------------------------
async def test_a_sixth_login_within_15_minutes_is_refused_unsent_saying_how_long(
    sim: SimServer, tmp_path: Path
) -> None:
    folder = tmp_path / "x3"
    now = 1_800_000_000.0  # 2027-01-15 08:00:00Z
    file = session_file(sim, folder)
    file.save(StoredSession(auth_calls=[(now - 120 + i, "login") for i in range(5)]), keep_s=10**10)
    client = process(sim, folder)
    client.session.wall = lambda: now
    with pytest.raises(FeedError) as refused:
        await client.list_targets()
    await client.aclose()
    text = str(refused.value)
    assert "x3algo allows 5 logins/refreshes per 15 min; 5 were made by this machine " in text
    assert "since 07:58:00Z" in text and "next possible in 13 min" in text
    assert "a running console's session is reused when it writes its file" in text
    assert sim_counters(sim, "x3algo").get("logins", 0) == 0  # nothing was sent


async def test_a_login_refused_for_quota_says_how_long_and_other_processes_do_not_knock(
    sim: SimServer, tmp_path: Path
) -> None:
    login = f"{settings_for(sim, 'x3algo').base_url}/api/auth/login"
    async with httpx.AsyncClient(trust_env=False, verify=False) as other:
        for _ in range(5):  # someone else spent x3algo's auth budget
            await other.post(login, json={"email": "x@y.z", "password": "wrong"})
    folder = tmp_path / "x3"
    with pytest.raises(FeedError) as refused:
        await one_run(sim, folder)
    text = str(refused.value)
    assert "its limit of 5 logins/refreshes per 15 minutes is spent" in text
    assert "x3algo asks to wait 15 min" in text
    with pytest.raises(FeedError) as again:
        await one_run(sim, folder)
    assert "x3algo refused a login or refresh from this machine for quota" in str(again.value)
    assert "min from now" in str(again.value)
    assert sim_counters(sim, "x3algo")["429"] == 1  # the second process sent nothing


def test_the_refresh_words_survive_the_scrubber() -> None:
    """The words "Did not refresh the token: x3algo allows …" came out "token: *** allows": the
    words name the session, not a token followed by a value."""
    from console.core.scrub import Scrubber
    from console.venues.x3algo import auth

    scrub = Scrubber().scrub
    words = "Did not refresh the session: x3algo allows 5 logins/refreshes per 15 min"
    assert scrub(words) == words
    assert '"refresh the token"' not in Path(auth.__file__).read_text()
