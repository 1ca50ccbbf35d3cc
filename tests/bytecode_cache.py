"""The suite's bytecode, made once before the workers start instead of six times.

Every xdist worker imports every test module to collect it, and pytest rewrites each
module's ``assert`` statements on import (the rewrite tokenizes and recompiles the
whole file: ~3.4 s of CPU for the suite's ~200 modules). pytest keeps the result in
``__pycache__`` — unless ``PYTHONDONTWRITEBYTECODE`` is set (as on the machines this
project is measured on), when nothing is kept and all six workers on 2 cores rewrote
everything at the same moment, the console's own modules compiled from source in each
worker too: ~15 s of wall before the first test, every run. Even where bytecode is
written, a fresh clone's first run paid it six times (the workers start together).

So the xdist controller first collects the suite once itself, in two processes (one a
core), with bytecode writing on for them: the rewritten test modules and the console's
compiled modules land in ``__pycache__`` (git-ignored, where Python keeps them on any
machine that writes bytecode), and each worker then reads them — reading cached
bytecode is allowed whatever ``PYTHONDONTWRITEBYTECODE`` says. The cache is checked as
Python checks any (source size and mtime), so an edited file is rewritten again. Nothing
is done in a run without workers, in the workers, or when every test module already has
its rewritten bytecode (a second run). Measured on 2 cores from a fresh clone: the
README's pytest 156–165 → 142 s, the two collections (~4 s) included.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

MARK = "TC_BYTECODE_CACHE"
"""Set in the collecting processes, so they never start collections of their own."""


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get(MARK) or hasattr(config, "workerinput"):
        return  # a collecting process, or an xdist worker
    workers = getattr(config.option, "numprocesses", None)
    if not isinstance(workers, int) or workers < 2 or config.option.collectonly:
        return
    root = Path(str(config.rootpath))
    modules = sorted((root / "tests").rglob("test_*.py"))
    if not modules or all(_cached(m) for m in modules):
        return
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env[MARK] = "1"
    halves = [modules[0::2], modules[1::2]]
    command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-n", "0",
               "-p", "no:cacheprovider"]  # fmt: skip
    running = [
        subprocess.Popen([*command, *map(str, half)], cwd=root, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for half in halves
    ]  # fmt: skip
    deadline = time.monotonic() + 120  # both together: never more than 2 min before the run
    for process in running:  # a collection that fails only costs the workers their time
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _cached(module: Path) -> bool:
    """Whether ``module`` has rewritten bytecode of this Python and pytest, newer than
    its source (pytest names it ``<name>.<cache tag>-pytest-<version>.pyc``)."""
    tag = f"{sys.implementation.cache_tag}-pytest-{pytest.__version__}"
    pyc = module.parent / "__pycache__" / f"{module.stem}.{tag}.pyc"
    try:
        return pyc.stat().st_mtime >= module.stat().st_mtime
    except OSError:
        return False
