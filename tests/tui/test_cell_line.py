"""The fast cell render gives exactly the segments DataTable's generic render gives."""

from __future__ import annotations

import pytest
from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from console.tui.format import Cell, LazyCell
from console.tui.panels.cell_line import cell_line
from console.tui.panels.table import TargetTable


def spanned() -> Cell:
    cell = Cell("▲ 12.50 P&L", style="green")
    cell.stylize(Style(bold=True), 0, 1)
    cell.stylize("reverse", 2, 7)
    return cell


def justified(text: str, justify: str, style: str = "") -> Cell:
    cell = Cell(text, style=style)
    cell.justify = justify  # type: ignore[assignment]
    return cell


CELLS: list[Cell | LazyCell] = [
    Cell("RUNNING"),
    Cell("", style="bold"),
    Cell("exactly ten"),  # 11 cells: one over the column's inner width
    Cell("a name far longer than the column is wide", style=Style(color="red", bold=True)),
    Cell("東京 strategy 名前", style="reverse"),  # wide characters, cut mid-glyph
    Cell("emoji 🚀🚀🚀🚀", style="italic"),
    Cell("  padded  "),
    spanned(),
    LazyCell(lambda text, style: Cell(text, style=style), "lazy one", "underline"),
    justified("12.50", "right", "reverse"),
    justified("a long right-justified value", "right", "bold"),
    justified("trailing  ", "right"),
    justified("mid", "center", "underline"),
    justified("wide 東京 centred text", "center"),
    justified("left", "left", "reverse"),
    justified("full justify", "full"),
]


class Harness(App[None]):
    def compose(self) -> ComposeResult:
        yield TargetTable(id="t")


@pytest.mark.parametrize("width", [1, 2, 3, 8, 12, 40])
async def test_every_cell_renders_as_datatable_renders_it(width: int) -> None:
    app = Harness()
    async with app.run_test(size=(120, 20)):
        table = app.query_one(TargetTable)
        for index in range(len(CELLS)):
            table.add_column(f"c{index}", key=f"c{index}", width=width)
        table.add_rows_keyed([(f"r{n}", CELLS[n:] + CELLS[:n]) for n in range(3)])
        compared = 0
        for row in range(3):
            for column in range(len(CELLS)):
                for cursor, hover in [(False, False), (True, False), (False, True)]:
                    base = Style(bgcolor="grey11") if row == 1 else Style()
                    args = (row, column, base, width + 2, cursor, hover)
                    table._cell_render_cache.clear()
                    fast = table._render_cell(*args)
                    table._cell_render_cache.clear()
                    generic = DataTable._render_cell(table, *args)
                    assert fast == generic, (row, column, cursor, hover)
                    compared += 1
        assert compared == 3 * len(CELLS) * 3
        # ... and every one of them took the fast path (a fallback would compare equal)
        for cell in CELLS:
            plain = cell.__rich__() if isinstance(cell, LazyCell) else cell
            assert cell_line(app.console, plain, width + 2, 1, Style(), Style()) is not None


async def test_other_renderables_and_the_header_take_the_generic_path() -> None:
    app = Harness()
    async with app.run_test(size=(60, 10)):
        table = app.query_one(TargetTable)
        table.add_column("c", key="c", width=10)
        table.add_rows_keyed([("r", [Text("plain Text")])])  # type: ignore[list-item]
        for row in (-1, 0):
            table._cell_render_cache.clear()
            fast = table._render_cell(row, 0, Style(), 12)
            table._cell_render_cache.clear()
            assert fast == DataTable._render_cell(table, row, 0, Style(), 12)
