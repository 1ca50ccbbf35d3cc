"""The fast cell render gives exactly the segments DataTable's generic render gives, and the
panel table draws every line exactly as Textual's DataTable draws the same rows."""

from __future__ import annotations

import pytest
from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from console.tui.format import Cell, LazyCell
from console.tui.panels.cell_line import cell_line
from console.tui.panels.table import TargetTable
from console.tui.panels.table_line import generic_cell


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
async def test_every_cell_renders_as_the_generic_render_does(width: int) -> None:
    app = Harness()
    async with app.run_test(size=(120, 20)):
        table = app.query_one(TargetTable)
        compared = 0
        for cell in CELLS:
            plain = cell.__rich__() if isinstance(cell, LazyCell) else cell
            for pre in (Style(), Style(bgcolor="grey11"), Style(color="red", reverse=True)):
                pre = pre + Style.from_meta({"row": 1, "column": 2})
                fast = cell_line(app.console, plain, width + 2, 1, pre, Style.null())
                generic = generic_cell(table, plain, width + 2, 1, pre, Style.null())
                assert fast == generic, (plain.plain, width, pre)
                compared += 1
        assert compared == 3 * len(CELLS)


async def test_other_renderables_take_the_generic_path() -> None:
    app = Harness()
    async with app.run_test(size=(60, 10)):
        assert cell_line(app.console, Text("two\nlines"), 12, 1, Style(), Style()) is None
        assert cell_line(app.console, Text("wraps"), 12, 1, Style(), Style()) is None


class Both(App[None]):
    """The panel table and Textual's DataTable, same rows, same size."""

    CSS = "TargetTable, DataTable { height: 8; }"
    AUTO_FOCUS = None

    def compose(self) -> ComposeResult:
        yield TargetTable(id="t")
        yield DataTable(
            id="d", cursor_type="row", zebra_stripes=False, cursor_foreground_priority="renderable"
        )


def lines(widget: TargetTable | DataTable[object]) -> list[object]:
    return [list(widget.render_line(y)) for y in range(widget.size.height)]


@pytest.mark.parametrize("width", [3, 12])
async def test_every_line_is_drawn_as_datatable_draws_it(width: int) -> None:
    app = Both()
    async with app.run_test(size=(100, 20)) as pilot:
        table, data = app.query_one(TargetTable), app.query_one(DataTable)
        rows = [(f"r{n}", CELLS[n:] + CELLS[:n]) for n in range(12)]
        for index in range(len(CELLS)):
            label = Text(f"c{index}", style="bold") if index == 2 else Text(f"c{index}")
            table.add_column(label, key=f"c{index}", width=width)
            data.add_column(label, key=f"c{index}", width=width)
        table.add_rows_keyed(rows)
        for key, cells in rows:
            data.add_row(*cells, key=key)
        await pilot.pause()
        assert lines(table) == lines(data)
        for target in (table, data):  # the cursor moved, the window scrolled
            target.move_cursor(row=9)
        await pilot.pause()
        assert lines(table) == lines(data)
        table.focus()  # the focused one draws its cursor and header in focus colours
        await pilot.pause()
        focused = lines(table)
        data.focus()
        await pilot.pause()
        assert focused == lines(data)
        app.set_focus(None)
        data.sort("c1", key=str, reverse=True)
        table.sort("c1", key=str, reverse=True)
        await pilot.pause()
        assert lines(table) == lines(data)
        assert [r.key.value for r in data.ordered_rows] == table.ordered_keys()
