"""Config mistakes as one line each: the file, where in it, what is wrong, what is valid.

pydantic reports a mistake as a location tuple and a generic sentence ("Input should be a
valid number"); an operator at 3 a.m. needs ``config.toml: profile 'prod', venue 'x3algo':
poll_interval must be a number (got 'fast')``. Each error becomes one such line.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

_KINDS = {
    "float": "a number",
    "int": "a whole number",
    "bool": "true or false",
    "string": "a string in quotes",
    "dict": "a table ({ key = value })",
    "list": "a list ([ ... ])",
    "tuple": "a list ([ ... ])",
}
# Lists of named tables in a profile ([[profiles.P.venues]] …) and single tables
# ([profiles.P.deadman] …): a mistake in one is placed by its name.
_LISTS = {"venues": "venue", "schedules": "schedule", "guards": "guard"}
_TABLES = ("deadman", "alerts")
_BOUNDS = {
    "greater_than": (">", "gt"),
    "greater_than_equal": (">=", "ge"),
    "less_than": ("<", "lt"),
    "less_than_equal": ("<=", "le"),
}


def error_lines(
    path: Path, exc: ValidationError, raw: Mapping[str, Any], root: type[BaseModel]
) -> list[str]:
    """One line per mistake in ``raw`` (the TOML read from ``path``)."""
    return [f"{path}: {_line(err, raw, root)}" for err in exc.errors()]


def suggestion(value: str, valid: Iterable[str]) -> str:
    """`` (did you mean 'x3algo'?)`` when a valid value is close to ``value``, else ``""``."""
    close = difflib.get_close_matches(value, list(valid), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _line(err: ErrorDetails, raw: Mapping[str, Any], root: type[BaseModel]) -> str:
    where, key, model = _where(err["loc"], raw, root)
    what = _what(err, key, model)
    return f"{where}: {what}" if where else what


def _where(
    loc: Sequence[int | str], raw: Mapping[str, Any], root: type[BaseModel]
) -> tuple[str, str, type[BaseModel] | None]:
    """("profile 'p', venue 'x'", "poll_interval", VenueConfig) for a location tuple
    (also "schedule 'close' (#1)", "guard …", "deadman", "alerts")."""
    parts: list[str] = []
    model: type[BaseModel] | None = root
    node: Any = raw
    rest = list(loc)
    while rest:
        head = rest[0]
        if head == "profiles" and len(rest) >= 2 and model is root:
            name = str(rest[1])
            parts.append(f"profile {name!r}")
            model = _field_model(root, "profiles")
            node = _get(_get(node, "profiles"), name)
            rest = rest[2:]
            continue
        if head in _LISTS and len(rest) >= 2 and isinstance(rest[1], int):
            index = rest[1]
            item = _get(_get(node, head), index)
            name = _get(item, "name")
            named = f" {name!r}" if isinstance(name, str) else ""
            parts.append(f"{_LISTS[head]}{named} (#{index + 1})")
            model = _field_model(model, head) if model else None
            node = item
            rest = rest[2:]
            continue
        if head in _TABLES and len(rest) >= 2 and model is not None and head in model.model_fields:
            parts.append(str(head))  # "profile 'prod', deadman: tz: …"
            model = _field_model(model, head)
            node = _get(node, head)
            rest = rest[1:]
            continue
        break
    key = ".".join(str(p) for p in rest)
    return ", ".join(parts), key, model


def _what(err: ErrorDetails, key: str, model: type[BaseModel] | None) -> str:
    kind = err["type"]
    given = err.get("input")
    if key.startswith("rate_limits."):
        field = ".".join(key.split(".")[:2])
        return f"{field} must be [calls, seconds], e.g. [5, 1.0]"
    if kind == "string_too_short":
        return f"{key} must not be empty"
    if kind == "missing":
        return f"{key} is missing; it is required"
    if kind == "extra_forbidden":
        field = key.rsplit(".", 1)[-1]
        valid = sorted(model.model_fields) if model is not None and "." not in key else []
        known = f"; valid keys: {', '.join(valid)}" if valid else ""
        return f"unknown key {field!r}{suggestion(field, valid)}{known}"
    if kind == "value_error":
        why = str((err.get("ctx") or {}).get("error", err["msg"]))
        return f"{key}: {why}" if key else why
    if kind in ("literal_error", "enum"):
        expected = str((err.get("ctx") or {}).get("expected", ""))
        valid = [v.strip(" '") for v in expected.replace(" or ", ", ").split(",")]
        near = suggestion(given, valid) if isinstance(given, str) else ""
        return f"{key} must be {expected} (got {given!r}){near}"
    if kind in _BOUNDS:
        sign, ctx_key = _BOUNDS[kind]
        limit = (err.get("ctx") or {}).get(ctx_key)
        return f"{key} must be {sign} {limit} (got {given!r})"
    base = kind.removesuffix("_type").removesuffix("_parsing")
    if base in _KINDS:
        return f"{key} must be {_KINDS[base]} (got {given!r})"
    return f"{key}: {err['msg']} (got {given!r})"


def _get(node: Any, key: str | int) -> Any:
    if isinstance(node, Mapping) and isinstance(key, str):
        return node.get(key)
    if isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
        return node[key]
    return None


def _field_model(model: type[BaseModel] | None, field: str) -> type[BaseModel] | None:
    """The model a field holds (``profiles`` -> ProfileConfig, ``venues`` -> VenueConfig,
    ``deadman`` -> DeadmanConfig)."""
    if model is None or field not in model.model_fields:
        return None
    annotation = model.model_fields[field].annotation
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in reversed(getattr(annotation, "__args__", ())):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None
