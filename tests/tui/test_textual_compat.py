"""Textual's private names are used only in ``console/tui/textual_compat/`` (issue 13):
no import of a private Textual module, and no underscore attribute that Textual defines
and the console does not, anywhere else in ``console/``."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import textual

ROOT = Path(__file__).resolve().parents[2] / "console"
COMPAT = ROOT / "tui" / "textual_compat"
DEFINED = re.compile(r"(?:self\.(_\w+)\s*(?::[^=\n]*)?=|def (_\w+)\b|^\s*(_\w+)\s*[:=])", re.M)


def sources(folder: Path) -> dict[Path, str]:
    return {p: p.read_text() for p in folder.rglob("*.py") if "__pycache__" not in p.parts}


def defined_names(texts: dict[Path, str]) -> set[str]:
    return {
        name
        for text in texts.values()
        for m in DEFINED.finditer(text)
        for name in m.groups()
        if name
    }


def outside_compat() -> dict[Path, str]:
    return {p: t for p, t in sources(ROOT).items() if COMPAT not in p.parents}


def test_no_private_textual_module_is_imported_outside_textual_compat() -> None:
    found = []
    for path, text in outside_compat().items():
        for node in ast.walk(ast.parse(text)):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                parts = name.split(".")
                if parts[0] == "textual" and any(p.startswith("_") for p in parts[1:]):
                    found.append(f"{path.relative_to(ROOT)}: {name}")
    assert found == []


def test_no_underscore_attribute_of_textual_is_read_outside_textual_compat() -> None:
    ours = defined_names(sources(ROOT))
    textuals = defined_names(sources(Path(textual.__file__).parent)) - ours
    found = []
    for path, text in outside_compat().items():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Attribute) and node.attr in textuals:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: .{node.attr}")
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in textuals:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: def {node.name}")
    assert found == []


def test_no_class_overrides_a_private_textual_name_outside_textual_compat() -> None:
    """What the reading check cannot see: a subclass defining a name its Textual base
    already defines privately (``_render_cell``, ``_on_key`` …) overrides Textual's."""
    import console

    found = []
    for info in pkgutil.walk_packages(console.__path__, "console."):
        if ".textual_compat" in info.name or not info.name.startswith("console.tui"):
            continue
        module = importlib.import_module(info.name)
        for cls in vars(module).values():
            if not inspect.isclass(cls) or cls.__module__ != info.name:
                continue
            bases = [b for b in cls.__mro__[1:] if b.__module__.split(".")[0] == "textual"]
            if not bases:
                continue
            made = set(vars(type("Probe", (cls.__mro__[1],), {})))  # what Textual sets itself
            for name in set(vars(cls)) - made:
                private = name.startswith("_") and not name.startswith("__")
                if private and any(name in vars(base) for base in bases):
                    found.append(f"{info.name}.{cls.__name__}.{name}")
    assert found == []


def test_the_check_sees_a_private_read() -> None:
    """The check above is not blind: Textual's own names it would flag are there."""
    ours = defined_names(sources(ROOT))
    textuals = defined_names(sources(Path(textual.__file__).parent)) - ours
    assert {"_exit", "_message_queue", "_notifications", "_bindings_ready"} <= textuals
