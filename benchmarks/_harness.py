"""Shared by the benchmark scripts: a simulator in its own process, on loopback."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from console.config import Profile, load_profile

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def sim_process(*args: str) -> Iterator[Profile]:
    """``trading-console sim`` as a child process; yields the profile it wrote."""
    with tempfile.TemporaryDirectory(prefix="tc-bench-") as tmp:
        directory = Path(tmp)
        ready = directory / "ready"
        cmd = [sys.executable, "-m", "console", "sim", "--write-config", str(directory),
               "--ready-file", str(ready), "--exit-on-stdin-eof", *args]  # fmt: skip
        child = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, cwd=ROOT)
        try:
            deadline = time.monotonic() + 60
            while not ready.exists():
                if child.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("simulator did not start")
                time.sleep(0.05)
            yield load_profile(directory / "config.toml")
        finally:
            if child.stdin:
                child.stdin.close()
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()


def root_url(profile: Profile, api: str) -> str:
    venue = next(v for v in profile.config.venues if v.api == api)
    url = httpx.URL(venue.base_url)
    return f"{url.scheme}://{url.host}:{url.port}"


def knobs(profile: Profile, api: str, **values: object) -> None:
    httpx.post(
        f"{root_url(profile, api)}/_sim/knobs", json=values, trust_env=False
    ).raise_for_status()


def counters(profile: Profile, api: str) -> dict[str, int]:
    r = httpx.get(f"{root_url(profile, api)}/_sim/counters", trust_env=False)
    r.raise_for_status()
    return dict(r.json())
