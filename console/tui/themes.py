"""Themes: the shipped TOML files, the user's own files, and choosing one at start.

A theme file is TOML holding a Textual :class:`~textual.theme.Theme` (see docs/THEMES.md)::

    name = "trading-dark"
    primary = "#5AA9E6"
    error = "#FA5465"
    ...
    [variables]
    "block-cursor-text-style" = "bold"

The shipped files are package data of ``console.themes`` (the top-level ``themes/``
folder); user files are every ``*.toml`` in ``<config dir>/themes``, and a user file whose
``name`` matches a shipped theme replaces it. A broken file never stops the console: it is
skipped and :func:`install_themes` returns one line per problem for one notification.

The choice, strongest first: ``NO_COLOR`` (non-empty, https://no-color.org) picks
``trading-ansi16`` and strips every colour; then ``choice`` (``--theme``, else the
config's ``theme``); then :data:`DEFAULT_THEME`. An unknown choice falls back to the
default with a message.

``NO_COLOR`` and Textual (8.2): ``App.__init__`` treats NO_COLOR as set when it is present
at all, even empty, and then appends a *Monochrome* line filter (shades of grey in
truecolor) because its default theme is not an ANSI one. Greys are still colour on a light
or 16-colour terminal, so :func:`install_themes` swaps that filter for Textual's *NoColor*
filter (default foreground and background everywhere; bold, dim, underline and reverse
survive) and, following no-color.org, lifts it again when NO_COLOR is present but empty.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Any, Final

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator
from textual.app import App
from textual.color import Color, ColorParseError
from textual.css.stylesheet import Stylesheet, StylesheetParseError
from textual.css.tokenizer import TokenError
from textual.design import ColorSystem
from textual.filter import LineFilter, Monochrome, NoColor
from textual.theme import Theme

from console.config import config_dir
from console.tui.palette import Command

DEFAULT_THEME: Final = "trading-dark"
"""Selected when nothing else is asked for (shipped as themes/dark.toml)."""

NO_COLOR_THEME: Final = "trading-ansi16"
"""Selected when NO_COLOR is set: the terminal's 16 colours only (themes/ansi16.toml)."""

SHIPPED_PACKAGE: Final = "console.themes"

_SHIPPED_ORDER: Final = ("dark.toml", "light.toml", "high-contrast.toml", "ansi16.toml")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
_VARIABLE = re.compile(r"[a-z][a-z0-9-]{0,79}")
_COLOUR_FORMS = "use #rrggbb, rgb(r,g,b), hsl(h,s%,l%), a CSS colour name or ansi_<name>"
_UNKNOWN_CHOICE = "Theme "  # how the one message that is not about a file starts


class ThemeError(Exception):
    """A theme file cannot be used; ``str()`` is one line naming the file and the problem."""


# ----- the file format ----------------------------------------------------------------
def _colour(value: str) -> str:
    try:
        Color.parse(value)
    except ColorParseError as error:
        hint = f" (did you mean {error.suggested_color!r}?)" if error.suggested_color else ""
        raise ValueError(f"{value!r} is not a colour ({_COLOUR_FORMS}){hint}") from None
    return value


def _name(value: str) -> str:
    if _NAME.fullmatch(value) is None:
        raise ValueError(
            f"{value!r} is not a usable theme name (a letter, then letters, digits, - or _; "
            "at most 64)"
        )
    return value


Colour = Annotated[str, AfterValidator(_colour)]


def _textual_variables() -> frozenset[str]:
    """Every variable a Textual theme generates, for ANSI and RGB themes alike."""
    names = set(ColorSystem(primary="#000000").generate())
    names |= set(ColorSystem(primary="ansi_blue", ansi=True).generate())
    return frozenset(names)


THEME_VARIABLES: Final = _textual_variables()
"""The names allowed under ``[variables]`` (a typo would otherwise do nothing, silently)."""


def _css_accepts(prop: str, value: str) -> bool:
    """Would Textual's CSS take ``value`` for ``prop``? (A bad variable breaks every rule.)"""
    sheet = Stylesheet(variables={"value": value})
    try:
        sheet.add_source(f"Widget {{ {prop}: $value; }}", read_from=("theme", "value"))
        sheet.parse()
    except (StylesheetParseError, TokenError):
        return False
    return True


def _variable_problem(name: str, value: str) -> str | None:
    if name not in THEME_VARIABLES:
        close = difflib.get_close_matches(name, sorted(THEME_VARIABLES), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"{name!r} is not a Textual theme variable{hint}"
    if "\n" in value or ";" in value or not value.strip():
        return f"{name!r} = {value!r} is not a single CSS value"
    if name.endswith("style"):
        if not _css_accepts("text-style", value):
            return f"{name!r} = {value!r} is not a text style (e.g. 'bold', 'bold reverse', 'none')"
    elif not _css_accepts("color", value):
        return f"{name!r} = {value!r} is not a colour ({_COLOUR_FORMS}, optionally then NN%)"
    return None


class ThemeFile(BaseModel):
    """One theme file: Textual's Theme fields, plus a description for the palette."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    name: Annotated[str, AfterValidator(_name)]
    description: str = ""
    dark: bool = True
    ansi: bool = False
    primary: Colour
    secondary: Colour | None = None
    accent: Colour | None = None
    warning: Colour | None = None
    error: Colour | None = None
    success: Colour | None = None
    foreground: Colour | None = None
    background: Colour | None = None
    surface: Colour | None = None
    panel: Colour | None = None
    boost: Colour | None = None
    luminosity_spread: float = Field(default=0.15, ge=0.0, le=1.0)
    text_alpha: float = Field(default=0.95, ge=0.0, le=1.0)
    variables: dict[str, str] = Field(default_factory=dict)

    @field_validator("variables")
    @classmethod
    def _check_variables(cls, variables: dict[str, str]) -> dict[str, str]:
        problems = [p for n, v in variables.items() if (p := _variable_problem(n, v))]
        if problems:
            raise ValueError("; ".join(problems))
        return variables

    def to_theme(self) -> Theme:
        variables = dict(self.variables)
        if self.ansi:  # Textual's ANSI colour system leaves these out; its own CSS uses them
            gaps = {
                "ansi-background": self.background or "ansi_default",
                "ansi-foreground": self.foreground or "ansi_default",
                "foreground-disabled": "ansi_default 50%",
                "surface-active": "transparent",
            }
            variables = {**gaps, **variables}
        return Theme(
            name=self.name,
            primary=self.primary,
            secondary=self.secondary,
            accent=self.accent,
            warning=self.warning,
            error=self.error,
            success=self.success,
            foreground=self.foreground,
            background=self.background,
            surface=self.surface,
            panel=self.panel,
            boost=self.boost,
            dark=self.dark,
            luminosity_spread=self.luminosity_spread,
            text_alpha=self.text_alpha,
            variables=variables,
            ansi=self.ansi,
        )


FIELDS: Final = tuple(ThemeFile.model_fields)


def _describe(error: ValidationError) -> str:
    """A pydantic error as one line: field by field, what is wrong."""
    parts: list[str] = []
    for problem in error.errors(include_url=False):
        where = ".".join(str(part) for part in problem["loc"]) or "file"
        kind = problem["type"]
        if kind == "extra_forbidden":
            close = difflib.get_close_matches(where, FIELDS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (fields: {', '.join(FIELDS)})"
            parts.append(f"unknown field {where!r}{hint}")
        elif kind == "missing":
            parts.append(f"field {where!r} is required")
        elif kind == "value_error":
            parts.append(f"field {where!r}: {problem['msg'].removeprefix('Value error, ')}")
        else:
            message = problem["msg"]
            got = problem.get("input")
            parts.append(f"field {where!r}: {message[:1].lower()}{message[1:]} (got {got!r})")
    return "; ".join(parts)


def _label(path: Path | Traversable) -> str:
    """How a message names a file: user files by path (with ~), shipped ones by name."""
    if isinstance(path, Path):
        home = Path.home()
        return f"~/{path.relative_to(home)}" if path.is_relative_to(home) else str(path)
    return f"shipped {path.name}"


def _read(path: Path | Traversable) -> ThemeFile:
    label = _label(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ThemeError(f"{label}: cannot be read ({error})") from None
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ThemeError(f"{label}: not valid TOML: {error}") from None
    try:
        return ThemeFile.model_validate(data)
    except ValidationError as error:
        raise ThemeError(f"{label}: {_describe(error)}") from None


def load_theme_file(path: Path | Traversable) -> Theme:
    """Read and check one theme file; :class:`ThemeError` says what is wrong in one line."""
    return _read(path).to_theme()


# ----- finding them -------------------------------------------------------------------
@dataclass(frozen=True)
class _Found:
    theme: Theme
    description: str
    label: str
    user: bool


def user_theme_dir() -> Path:
    """Where the user's own theme files go: ``<platformdirs config dir>/themes``."""
    return config_dir() / "themes"


def _shipped_files() -> list[Traversable]:
    files = [
        f
        for f in resources.files(SHIPPED_PACKAGE).iterdir()
        if f.name.endswith(".toml") and f.is_file()
    ]
    rank = {name: n for n, name in enumerate(_SHIPPED_ORDER)}
    return sorted(files, key=lambda f: (rank.get(f.name, len(rank)), f.name))


def _user_files(user_dir: Path) -> tuple[list[Path], list[str]]:
    """The folder's ``*.toml`` files by name (none when it does not exist), or why not."""
    try:
        found = sorted(p for p in user_dir.iterdir() if p.suffix == ".toml")
        return [p for p in found if not p.name.startswith(".") and not p.is_dir()], []
    except FileNotFoundError:
        return [], []
    except OSError as error:
        return [], [f"{_label(user_dir)}: theme folder cannot be read ({error.strerror})"]


def _discover(user_dir: Path | None) -> tuple[dict[str, _Found], list[str]]:
    found: dict[str, _Found] = {}
    user_files, problems = _user_files(user_dir if user_dir is not None else user_theme_dir())
    sources: list[tuple[Path | Traversable, bool]] = [(f, False) for f in _shipped_files()]
    sources += [(f, True) for f in user_files]
    for source, user in sources:
        try:
            theme_file = _read(source)
        except ThemeError as error:
            problems.append(str(error))
            continue
        label = _label(source)
        earlier = found.get(theme_file.name)
        if earlier is not None and earlier.user == user:
            problems.append(
                f"{label}: theme {theme_file.name!r} is already defined by {earlier.label}; skipped"
            )
            continue
        found[theme_file.name] = _Found(theme_file.to_theme(), theme_file.description, label, user)
    return found, problems


def discover_themes(user_dir: Path | None = None) -> tuple[dict[str, Theme], list[str]]:
    """The shipped themes plus the user's, by name; and one message per file skipped.

    ``user_dir`` defaults to :func:`user_theme_dir`. A user theme with the ``name`` of a
    shipped one replaces it. Never raises for a bad file: it is left out and described.
    """
    found, problems = _discover(user_dir)
    return {name: f.theme for name, f in found.items()}, problems


# ----- choosing one -------------------------------------------------------------------
def no_color_requested(environ: Mapping[str, str] | None = None) -> bool:
    """NO_COLOR set to a non-empty value (https://no-color.org)."""
    env = os.environ if environ is None else environ
    return bool(env.get("NO_COLOR"))


def _set_no_color(app: App[Any], environ: Mapping[str, str]) -> None:
    """Make Textual's colour stripping follow no-color.org (see the module docstring)."""
    filters: list[LineFilter] | None = getattr(app, "_filters", None)
    if not isinstance(filters, list):  # pragma: no cover - a Textual without line filters
        return
    if no_color_requested(environ):
        kept = [f for f in filters if not isinstance(f, Monochrome | NoColor)]
        filters[:] = [*kept, NoColor()]
        app.no_color = True
    elif "NO_COLOR" in environ:
        filters[:] = [f for f in filters if not isinstance(f, Monochrome | NoColor)]
        app.no_color = False


_INSTALLED: weakref.WeakKeyDictionary[App[Any], dict[str, _Found]] = weakref.WeakKeyDictionary()


def install_themes(
    app: App[Any],
    *,
    user_dir: Path | None = None,
    choice: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[str]:
    """Register every good theme on ``app`` and select one; return the problems.

    ``choice`` is ``--theme`` or the config's ``theme`` (any registered name, Textual's
    built-in ones included). NO_COLOR wins over it. Call from ``App.__init__`` (no flash
    of another theme) or ``on_mount``; show the result with :func:`theme_notice`.
    """
    env = os.environ if environ is None else environ
    found, problems = _discover(user_dir)
    for entry in found.values():
        app.register_theme(entry.theme)
    _INSTALLED[app] = found
    wanted = (choice or "").strip()
    if no_color_requested(env) and NO_COLOR_THEME in app.available_themes:
        selected = NO_COLOR_THEME
    elif wanted and wanted in app.available_themes:
        selected = wanted
    else:
        selected = DEFAULT_THEME if DEFAULT_THEME in app.available_themes else "textual-dark"
        if wanted:
            close = difflib.get_close_matches(wanted, list(app.available_themes), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(f"{_UNKNOWN_CHOICE}{wanted!r} is not known{hint}: using {selected}.")
    app.theme = selected
    _set_no_color(app, env)
    return problems


def theme_notice(problems: Sequence[str]) -> str | None:
    """The one notification for :func:`install_themes`' problems (None when there are none)."""
    choice = [p for p in problems if p.startswith(_UNKNOWN_CHOICE)]
    files = [p for p in problems if not p.startswith(_UNKNOWN_CHOICE)]
    lines = list(choice)
    if files:
        count = f"{len(files)} theme file{'s' if len(files) > 1 else ''}"
        lines.append(f"{count} could not be loaded: " + "; ".join(files))
    return "\n".join(lines) or None


def theme_names(app: App[Any]) -> list[str]:
    """The console's themes installed on ``app`` (shipped, then the user's own)."""
    return list(_INSTALLED.get(app, {}))


def select_theme(app: App[Any], name: str) -> None:
    app.theme = name


def theme_commands(app: App[Any]) -> list[Command]:
    """One palette command per console theme: ``Theme: <name>``."""
    commands: list[Command] = []
    for name, entry in _INSTALLED.get(app, {}).items():
        notes = [entry.description] if entry.description else []
        if entry.user:
            notes.append(entry.label)
        if name == app.theme:
            notes.append("current")
        commands.append(
            Command(f"Theme: {name}", " · ".join(notes), partial(select_theme, app, name))
        )
    return commands
