"""The desk tests' nats-server: one per test, from the wheel, on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from console.desk.local_server import LocalNats
from tests.desk.support import local_nats


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[LocalNats]:
    yield from local_nats(tmp_path)
