"""A command loads what it uses: the CLI's parser and a local command do not load the
desk's NATS client, Apprise or the web server (together ~260 ms of a 450 ms start, when
every command paid them: `trading-console kill` at 3 a.m. starts that much sooner)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("nats", "apprise", "jinja2", "textual_serve", "console.desk.hub", "console.web.server")

PROBE = """
import json, sys
import console.cli.main as main
parser = main.build_parser()
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


def loaded_after(code: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", code.format(heavy=HEAVY)],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    return list(json.loads(out.strip().splitlines()[-1]))


def test_the_cli_and_its_parser_load_no_desk_alerts_or_web_server() -> None:
    assert loaded_after(PROBE) == []


def test_a_profile_with_alerts_loads_apprise_only_when_an_alerter_is_made() -> None:
    code = """
import json, sys
from console.automation.alerts import Alerter
from console.automation.config import AlertsConfig
before = "apprise" in sys.modules
Alerter(AlertsConfig(), ["json://127.0.0.1:9/hook"], clock=lambda: 0.0)
print(json.dumps(["apprise"] if before or "apprise" not in sys.modules else []))
"""
    assert loaded_after(code) == []
