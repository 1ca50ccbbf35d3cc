"""``--help`` describes every command and option; the README's command list is the
parser's; ``--close-positions`` only where it means something; an unknown target is
answered with close names and a hint that keeps ``--demo``."""

from __future__ import annotations

import argparse
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.cli.main import build_parser, demo_config_path, main
from console.config import write_profile_files
from console.sim.server import SimServer

README = Path(__file__).resolve().parents[1] / "README.md"


def parsers(
    parser: argparse.ArgumentParser, path: str = "trading-console"
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from parsers(sub, f"{path} {name}")


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    return {path.split()[-1]: p for path, p in parsers(parser) if path != "trading-console"}


def test_every_command_and_option_has_a_description() -> None:
    missing = []
    for path, parser in parsers(build_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                missing += [f"{path} {a.dest}" for a in action._choices_actions if not a.help]
            if not action.help:  # argparse.SUPPRESS: hidden on purpose (internal flags)
                missing.append(f"{path} {'/'.join(action.option_strings) or action.dest}")
    assert missing == []


def readme_commands() -> dict[str, set[str]]:
    """README "Commands": each command named there -> the options shown for it."""
    section = README.read_text().split("## Commands", 1)[1]
    block = section.split("```", 2)[1]
    shown: dict[str, set[str]] = {}
    names: list[str] = []
    for line in block.splitlines():
        if line.startswith("trading-console"):
            word = line.split()[1]
            names = [""] if word.startswith("[") else word.split("|")
        for name in names:
            shown.setdefault(name, set()).update(re.findall(r"--[a-z-]+", line))
    return shown


def test_the_readme_lists_every_command_with_options_it_takes() -> None:
    parser = build_parser()
    commands = subcommands(parser)
    shown = readme_commands()
    assert set(shown) - {""} == set(commands)
    assert {"kill", "audit"} <= set(shown)
    for name, options in shown.items():
        target = commands[name] if name else parser
        taken = {s for a in target._actions for s in a.option_strings}
        assert options <= taken, (name, options - taken)


@pytest.mark.parametrize("verb", ["stop", "resume", "start"])
def test_close_positions_is_not_offered_where_it_means_nothing(
    verb: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args([verb, "pipai", "s-1", "--close-positions"])
    assert exited.value.code == 2
    assert "unrecognized arguments: --close-positions" in capsys.readouterr().err


def test_close_positions_is_offered_on_pause_and_the_kill() -> None:
    parser = build_parser()
    assert parser.parse_args(["pause", "pipai", "s-1", "--close-positions"]).clear_leaves_behind
    assert parser.parse_args(["kill", "--close-positions"]).clear_leaves_behind


@pytest.fixture
def running_demo(sim: SimServer) -> Path:
    """The profile ``--demo`` finds, as a running ``trading-console demo`` leaves it."""
    folder = demo_config_path().parent
    path = write_profile_files(folder, profile="demo", label="DEMO", color="success",
                               venues=sim.venue_entries())  # fmt: skip
    (folder / "ready").write_text(str(os.getpid()))
    return path


def a_running_algorithm(capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    assert main(["--demo", "status", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    return next(r for r in rows if r["kind"] == "algorithm" and r["state"] == "running")


def test_an_unknown_target_suggests_close_ones_and_keeps_demo_in_the_hint(
    running_demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    algo = a_running_algorithm(capsys)
    typo = algo["id"][:-1] + ("0" if algo["id"][-1] != "0" else "1")
    code = main(["--demo", "stop", "x3algo", typo, "--yes"])
    err = capsys.readouterr().err
    assert code == 7
    assert f"x3algo has no target {typo!r}; did you mean {algo['id']!r}" in err
    assert "? — `trading-console --demo status` lists them" in err


def test_an_unknown_venue_suggests_the_close_name(
    running_demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--demo", "stop", "x3alog", "a-1", "--yes"]) == 7
    assert "no venue 'x3alog' in profile 'demo' (did you mean 'x3algo'?)" in (
        capsys.readouterr().err
    )
    assert main(["--demo", "kill", "--venue", "pipia", "--yes"]) == 7
    assert "(did you mean 'pipai'?)" in capsys.readouterr().err
