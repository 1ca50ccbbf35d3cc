"""Theme files: the shipped ones load, broken ones are reported and skipped, the right one is chosen."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from rich.color import Color as RichColor
from textual.app import App, ComposeResult
from textual.color import Color
from textual.design import ColorSystem
from textual.filter import Monochrome, NoColor
from textual.widgets import Button, DataTable, Input, Switch

from console.tui.format import Tones, theme_colour
from console.tui.themes import (
    DEFAULT_THEME,
    NO_COLOR_THEME,
    ThemeError,
    discover_themes,
    install_themes,
    load_theme_file,
    theme_commands,
    theme_names,
    theme_notice,
    user_theme_dir,
)

SHIPPED = sorted(
    (f for f in resources.files("console.themes").iterdir() if f.name.endswith(".toml")),
    key=lambda f: f.name,
)
GOOD = 'name = "{name}"\nprimary = "#336699"\nerror = "{error}"\n'


def write(folder: Path, file: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / file
    path.write_text(text, encoding="utf-8")
    return path


def close(shown: str, wanted: str | None) -> bool:
    """The colour the app's CSS uses is the theme's (Textual may round a channel by one)."""
    a, b = Color.parse(shown), Color.parse(wanted or "")
    return a.ansi == b.ansi and all(abs(x - y) <= 1 for x, y in zip(a.rgb, b.rgb, strict=True))


@pytest.fixture(autouse=True)
def colour_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without NO_COLOR, whatever the shell running pytest has; paths not shortened to ~."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("HOME", "/nonexistent-home")


class Tiny(App[None]):
    """The widgets the console uses, so a theme that breaks their CSS fails here."""

    def compose(self) -> ComposeResult:
        table: DataTable[str] = DataTable()
        table.add_columns("venue", "state")
        table.add_row("x3algo", "STOPPED")
        yield table
        yield Input("typed")
        yield Switch()
        yield Button("Confirm")


# ----- the shipped files --------------------------------------------------------------
def test_the_four_themes_are_shipped() -> None:
    assert [f.name for f in SHIPPED] == [
        "ansi16.toml",
        "dark.toml",
        "high-contrast.toml",
        "light.toml",
    ]
    themes, problems = discover_themes(Path("/nonexistent/trading-console/themes"))
    assert problems == []
    assert list(themes) == [
        DEFAULT_THEME,
        "trading-light",
        "trading-high-contrast",
        NO_COLOR_THEME,
    ]


@pytest.mark.parametrize("shipped", SHIPPED, ids=lambda f: f.name)
def test_each_shipped_file_loads_with_every_status_colour(shipped: Any) -> None:
    theme = load_theme_file(shipped)
    for field in ("primary", "error", "warning", "success", "foreground", "background"):
        value = getattr(theme, field)
        assert value is not None, f"{shipped.name} leaves {field} to Textual's default"
        Color.parse(value)
    assert len({theme.error, theme.warning, theme.success}) == 3
    # Every variable Textual's own CSS may reference exists, so no widget fails to style.
    generated = {**theme.to_color_system().generate(), **theme.variables}
    assert set(ColorSystem(primary="#000000").generate()) <= set(generated)


def test_ansi16_uses_only_the_terminal_palette() -> None:
    theme = load_theme_file(resources.files("console.themes") / "ansi16.toml")
    assert theme.ansi
    fields = (
        "primary secondary accent warning error success foreground background surface panel boost"
    )
    for field in fields.split():
        assert str(getattr(theme, field)).startswith("ansi_"), field
    for name, value in theme.variables.items():
        if not name.endswith("style"):
            assert value.startswith("ansi_") or value == "transparent", name
    # a reverse cursor hid a STOPPED cell's reverse video (issue 12, item 18)
    assert theme.variables["block-cursor-text-style"] == "bold underline"


@pytest.mark.parametrize(
    "name", [DEFAULT_THEME, "trading-light", "trading-high-contrast", NO_COLOR_THEME]
)
async def test_install_themes_selects_the_choice_in_a_running_app(
    name: str, tmp_path: Path
) -> None:
    app = Tiny()
    async with app.run_test() as pilot:
        problems = install_themes(app, user_dir=tmp_path, choice=name)
        await pilot.pause()
        assert problems == []
        assert app.theme == name
        assert app.current_theme.name == name
        assert close(app.get_css_variables()["error"], app.current_theme.error)


async def test_installed_in_init_no_other_theme_first(tmp_path: Path) -> None:
    class Themed(Tiny):
        def __init__(self) -> None:
            super().__init__()
            self.problems = install_themes(self, user_dir=tmp_path, choice="trading-light")

    app = Themed()
    async with app.run_test() as pilot:
        await pilot.pause()
        assert app.theme == "trading-light"
        assert app.problems == []
        assert "-theme-trading-light" in app.classes


# ----- broken files -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('name = "x"\nprimary = "#123456\n', "not valid TOML"),
        ('name = "x"\nprimary = "#123456"\ncolour = "red"\n', "unknown field 'colour'"),
        (
            'name = "x"\nprimary = "#123456"\nerror = "blood"\n',
            "field 'error': 'blood' is not a colour",
        ),
        ('name = "x"\nprimary = "ansi_purple"\n', "field 'primary': 'ansi_purple' is not a colour"),
        ('name = "x"\n', "field 'primary' is required"),
        ('name = "x"\nprimary = "red"\ndark = "yes"\n', "field 'dark'"),
        ('name = "two words"\nprimary = "red"\n', "field 'name'"),
        (
            'name = "x"\nprimary = "red"\n[variables]\n"block-cursor-bakground" = "red"\n',
            "did you mean 'block-cursor-background'",
        ),
        (
            'name = "x"\nprimary = "red"\n[variables]\n"block-cursor-text-style" = "red"\n',
            "is not a text style",
        ),
        (
            'name = "x"\nprimary = "red"\n[variables]\n"border" = "thick"\n',
            "'border' = 'thick' is not a colour",
        ),
    ],
    ids=[
        "bad-toml",
        "unknown-field",
        "bad-colour",
        "bad-ansi-name",
        "missing-primary",
        "not-a-bool",
        "bad-name",
        "unknown-variable",
        "bad-style",
        "bad-variable-colour",
    ],
)
def test_a_broken_file_gives_one_line_naming_file_and_field(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path, "broken.toml", text)
    with pytest.raises(ThemeError) as raised:
        load_theme_file(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: ")
    assert expected in message
    assert "\n" not in message


def test_broken_files_are_skipped_and_reported_the_others_still_load(tmp_path: Path) -> None:
    write(tmp_path, "a-bad-toml.toml", "name = ")
    write(tmp_path, "b-bad-colour.toml", GOOD.format(name="mine-b", error="blood"))
    write(tmp_path, "c-good.toml", GOOD.format(name="mine", error="#ff0000"))
    write(tmp_path, "notes.txt", "not a theme")
    themes, problems = discover_themes(tmp_path)
    assert "mine" in themes
    assert "mine-b" not in themes
    assert {DEFAULT_THEME, "trading-light", "trading-high-contrast", NO_COLOR_THEME} <= set(themes)
    assert len(problems) == 2
    assert problems[0].startswith(str(tmp_path / "a-bad-toml.toml"))
    assert problems[1].startswith(str(tmp_path / "b-bad-colour.toml"))
    notice = theme_notice(problems)
    assert notice is not None
    assert notice.startswith("2 theme files could not be loaded: ")


def test_a_theme_folder_that_is_a_file_is_reported(tmp_path: Path) -> None:
    folder = write(tmp_path, "themes", "not a folder")
    themes, problems = discover_themes(folder)
    assert DEFAULT_THEME in themes
    assert len(problems) == 1
    assert problems[0].startswith(f"{folder}: theme folder cannot be read")


def test_two_user_files_with_one_name_keep_the_first(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", GOOD.format(name="mine", error="#ff0000"))
    write(tmp_path, "b.toml", GOOD.format(name="mine", error="#00ff00"))
    themes, problems = discover_themes(tmp_path)
    assert themes["mine"].error == "#ff0000"
    assert len(problems) == 1
    assert "already defined by" in problems[0]


# ----- user themes --------------------------------------------------------------------
def test_a_user_theme_overrides_the_shipped_one_of_the_same_name(tmp_path: Path) -> None:
    write(tmp_path, "my-dark.toml", GOOD.format(name=DEFAULT_THEME, error="#ff00ff"))
    themes, problems = discover_themes(tmp_path)
    assert problems == []
    assert themes[DEFAULT_THEME].error == "#ff00ff"
    assert themes[DEFAULT_THEME].primary == "#336699"
    assert next(iter(themes)) == DEFAULT_THEME  # keeps its place in the palette


def test_user_themes_live_in_the_config_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert user_theme_dir() == tmp_path / "trading-console" / "themes"
    write(tmp_path / "trading-console" / "themes", "x.toml", GOOD.format(name="mine", error="red"))
    themes, problems = discover_themes(None)
    assert problems == []
    assert "mine" in themes


async def test_a_user_theme_can_be_chosen(tmp_path: Path) -> None:
    write(tmp_path, "x.toml", GOOD.format(name="mine", error="#ff0000"))
    app = Tiny()
    async with app.run_test() as pilot:
        assert install_themes(app, user_dir=tmp_path, choice="mine") == []
        await pilot.pause()
        assert app.theme == "mine"
        assert close(app.get_css_variables()["error"], "#ff0000")


async def test_a_minimal_user_ansi_theme_styles_every_widget(tmp_path: Path) -> None:
    write(tmp_path, "mono.toml", 'name = "mono"\nansi = true\nprimary = "ansi_blue"\n')
    app = Tiny()
    async with app.run_test() as pilot:
        assert install_themes(app, user_dir=tmp_path, choice="mono") == []
        await pilot.pause()
        assert app.theme == "mono"
        assert app.native_ansi_color
        assert app.query_one(Switch).is_mounted


# ----- the choice ---------------------------------------------------------------------
async def test_an_unknown_choice_falls_back_to_the_default_with_a_message(tmp_path: Path) -> None:
    write(tmp_path, "bad.toml", "name = ")
    app = Tiny()
    async with app.run_test() as pilot:
        problems = install_themes(app, user_dir=tmp_path, choice="trading-drak")
        await pilot.pause()
        assert app.theme == DEFAULT_THEME
        assert len(problems) == 2
        assert problems[-1] == (
            "Theme 'trading-drak' is not known (did you mean 'trading-dark'?): using trading-dark."
        )
        notice = theme_notice(problems)
        assert notice is not None
        first, second = notice.split("\n")
        assert first == problems[-1]
        assert second.startswith("1 theme file could not be loaded: ")


async def test_no_choice_selects_the_default(tmp_path: Path) -> None:
    app = Tiny()
    async with app.run_test() as pilot:
        assert install_themes(app, user_dir=tmp_path) == []
        await pilot.pause()
        assert app.theme == DEFAULT_THEME
        assert theme_notice([]) is None


async def test_no_color_selects_ansi16_and_strips_every_colour(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = Tiny()  # Textual reads NO_COLOR when the app is built
    async with app.run_test() as pilot:
        problems = install_themes(app, user_dir=tmp_path, choice="trading-light")
        await pilot.pause()
        assert problems == []
        assert app.theme == NO_COLOR_THEME
        assert app.native_ansi_color
        filters = app.get_line_filters()
        assert any(isinstance(f, NoColor) for f in filters)
        assert not any(isinstance(f, Monochrome) for f in filters)  # greys are colour too
        strips = app.screen._compositor.render_strips()
        styles = []
        for strip in strips:
            segments = list(strip)
            for line_filter in filters:
                segments = line_filter.apply(segments, app.screen.styles.background)
            styles += [s for _, s, _ in segments if s is not None]
        assert styles
        assert all(s.color is None or s.color.is_default for s in styles)
        assert all(s.bgcolor is None or s.bgcolor.is_default for s in styles)
        assert any(s.reverse for s in styles)  # the table cursor still shows


async def test_an_empty_no_color_is_not_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "")
    app = Tiny()
    async with app.run_test() as pilot:
        install_themes(app, user_dir=tmp_path)
        await pilot.pause()
        assert app.theme == DEFAULT_THEME
        assert not app.no_color
        assert not any(isinstance(f, Monochrome | NoColor) for f in app.get_line_filters())


# ----- the palette --------------------------------------------------------------------
async def test_palette_commands_switch_theme(tmp_path: Path) -> None:
    write(tmp_path, "x.toml", GOOD.format(name="mine", error="#ff0000"))
    app = Tiny()
    async with app.run_test() as pilot:
        install_themes(app, user_dir=tmp_path)
        await pilot.pause()
        names = theme_names(app)
        assert names == [
            DEFAULT_THEME,
            "trading-light",
            "trading-high-contrast",
            NO_COLOR_THEME,
            "mine",
        ]
        commands = {c.title: c for c in theme_commands(app)}
        assert list(commands) == [f"Theme: {n}" for n in names]
        assert "current" in commands[f"Theme: {DEFAULT_THEME}"].help
        assert str(tmp_path / "x.toml") in commands["Theme: mine"].help
        commands["Theme: trading-high-contrast"].run()
        await pilot.pause()
        assert app.theme == "trading-high-contrast"


def test_theme_names_is_empty_before_install() -> None:
    assert theme_names(Tiny()) == []


# ----- colours as the console's cells use them -----------------------------------------
async def test_ansi16_state_colours_are_the_terminals_own_ansi_colours(tmp_path: Path) -> None:
    app = Tiny()
    async with app.run_test() as pilot:
        install_themes(app, user_dir=tmp_path, choice=NO_COLOR_THEME, environ={})
        await pilot.pause()
        tones = Tones.from_theme(app.theme_variables)
    assert app.theme_variables["error"] == "ansi_red"  # what Rich's parser does not read
    assert tones.danger.color == RichColor.from_ansi(1)  # red, not the default colour
    assert tones.warn.color == RichColor.from_ansi(3)  # yellow
    assert tones.ok.color == RichColor.from_ansi(2)  # green
    assert tones.danger.reverse and tones.danger.bold


def test_theme_colour_reads_every_form_a_theme_variable_takes() -> None:
    variables = {
        "bright": "ansi_bright_red",
        "default": "ansi_default",
        "hex": "#FA5465",
        "name": "crimson",
        "alpha": "auto 87%",
        "clear": "transparent",
    }
    assert theme_colour(variables, "bright") == RichColor.from_ansi(9)
    assert theme_colour(variables, "default") == RichColor.default()
    hex_colour = theme_colour(variables, "hex")
    assert hex_colour is not None and hex_colour.triplet == (250, 84, 101)
    assert theme_colour(variables, "name") is not None
    assert theme_colour(variables, "alpha") is None
    assert theme_colour(variables, "clear") is None
    assert theme_colour(variables, "missing") is None


async def test_the_console_under_no_color_has_no_colour_and_every_state_in_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from console.tui.app import ConsoleApp
    from tests.tui.fakes import FakeClock, fake_session, fake_venues, preload

    monkeypatch.setenv("NO_COLOR", "1")
    clock = FakeClock()
    venues = fake_venues()
    session = fake_session(tmp_path, clock, venues)
    preload(session, venues)
    app = ConsoleApp(
        session, session.control, clock=clock, start_feeds=False, theme="trading-light"
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        app.tick()
        await pilot.pause()
        assert app.theme == NO_COLOR_THEME
        filters = app.get_line_filters()
        text, styles = "", []
        for strip in app.screen._compositor.render_strips():
            segments = list(strip)
            for line_filter in filters:
                segments = line_filter.apply(segments, app.screen.styles.background)
            text += "".join(s.text for s in segments) + "\n"
            styles += [(s.text, s.style) for s in segments if s.style is not None]
    assert all(st.color is None or st.color.is_default for _, st in styles)
    assert all(st.bgcolor is None or st.bgcolor.is_default for _, st in styles)
    for word in ("MANUAL PAUS", "MANUAL STOP", "ARMED", "LIVE"):
        assert word in text
    stopped = [st for t, st in styles if "MANUAL STOP" in t]
    assert stopped and all(st.reverse for st in stopped)  # danger: reverse video, not colour
