"""The kill's progress, then its report: what was sent, what answered, what is verified.

A progress bar (answers received / planned), per-venue counters with an ETA that knows
each venue's rate limit, the venues nothing could be sent to, the sticky watch and its
revivals, and the per-target report, failures first. ``r`` offers to retry what failed,
is uncertain or did not verify; ``y`` sends it. The operator already confirmed this kill
by typing the label, so the retry asks for one key, not the label again; it goes through
the same dispatcher and journal as everything else.

The screen reads the :class:`~console.tui.kill.run.KillRun` on its own timer (four times
a second), never once per answer, so a 10,000-target kill costs what one redraw costs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Label, ProgressBar, Static

from console.core.plan import Plan
from console.tui.format import Tones
from console.tui.kill.columns import fit, natural_widths
from console.tui.kill.eta import fmt_eta
from console.tui.kill.kill_modal import CSS, KillView
from console.tui.kill.notes import notes_text, retry_question
from console.tui.kill.report import SPECS, report_rows
from console.tui.kill.run import KillRun, VenueCount
from console.tui.theme_follow import following_theme
from console.tui.widgets.header import profile_class

REFRESH_S = 0.25
COUNTER_COLUMNS = ("Plan", "Done", "OK", "Rej", "FAILED", "UNCERT", "Verified", "ETA")
"""Per venue: planned, answered, applied or already, rejected, failed, uncertain,
verified by re-read (and how many were NOT), time left in this pass."""


class KillProgressScreen(ModalScreen[None]):
    CSS_PATH: ClassVar[str] = str(CSS)
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "retry", "Retry failed", id="kill.retry"),
        Binding("y", "confirm_retry", "Yes: send the retry", id="kill.retry_yes"),
        Binding("n", "cancel_retry", "No", id="kill.retry_no", show=False),
        Binding("u", "audit", "Journal", id="kill.audit"),
        Binding("escape,q", "close", "Back to panels", id="kill.close"),
    ]

    def __init__(
        self,
        run: KillRun,
        view: KillView,
        *,
        retry: Callable[[Plan], None],
        audit: Callable[[str | None], None],
        watch_left: Callable[[], float | None],
        auto_restop: bool,
    ) -> None:
        super().__init__(classes="kill-progress")
        self.run = run
        self.view = view
        self.retry = retry
        self.audit = audit
        self.watch_left = watch_left
        self.auto_restop = auto_restop
        self.pending: Plan | None = None
        self.tones = Tones.monochrome()
        self._shown: object = None

    def compose(self) -> ComposeResult:
        view = self.view
        with Vertical(id="progress-dialog"):
            with Horizontal(id="progress-title"):
                yield Label(
                    f" {view.label} ", classes=f"profile-label {profile_class(view.colour)}"
                )
                yield Label(Text(" EMERGENCY STOP ", "reverse bold"))
                yield Label(id="progress-state")
            yield ProgressBar(total=1, show_eta=False, id="kill-bar")
            yield Static(id="kill-summary")
            yield Static(id="kill-question")
            yield Static(id="kill-counters")
            yield Static(id="kill-notes")
            yield DataTable(id="kill-report", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.tones = following_theme(self, self._retone)
        table = self.query_one("#kill-report", DataTable)
        self.refresh_view()
        self.set_interval(REFRESH_S, self.refresh_view, name="kill-progress")
        table.focus()

    def on_resize(self, event: events.Resize) -> None:
        self.call_after_refresh(self._refresh_report)  # once the table has its new size

    def _retone(self, tones: Tones) -> None:
        self.tones = tones
        self._shown = None  # the report's rows are drawn again in the new colours
        self.refresh_view()

    # ----- drawing --------------------------------------------------------------------
    def refresh_view(self) -> None:
        run = self.run
        done, size = run.progress()
        bar = self.query_one("#kill-bar", ProgressBar)
        bar.update(total=max(1, size), progress=done)
        state = self.query_one("#progress-state", Label)
        if run.waiting_for:
            state.update(Text(f" WAITING for {run.waiting_for!r} to finish", "bold"))
        elif run.running:
            what = "RETRY" if run.is_retry else "RUNNING"
            state.update(Text(f" {what} {done}/{size} · {run.kill.plan.title}", "bold"))
        else:
            state.update(f" DONE · {run.kill.plan.title}")
        self.query_one("#kill-summary", Static).update(self._summary())
        self.query_one("#kill-counters", Static).update(self._counters())
        notes = notes_text(
            run, self.tones, watch_left=self.watch_left(), auto_restop=self.auto_restop
        )
        widget = self.query_one("#kill-notes", Static)
        widget.display = bool(notes.plain)
        widget.update(notes)
        self._refresh_question()
        self._refresh_report()

    def _refresh_question(self) -> None:
        """The retry question on its own line right under the headline, never among the
        notes: they are capped in height and grow (re-verifications, revivals), and the
        line that says what y sends must never be pushed out of sight (at 80×24 too)."""
        question = self.query_one("#kill-question", Static)
        pending = self.pending
        question.display = pending is not None
        if pending is not None:
            revived = sum(
                1 for i in pending.items if (i.venue, i.target_id) in self.run.revived_open
            )
            question.update(retry_question(pending, self.tones, revived))

    def _summary(self) -> Text:
        run = self.run
        if run.running or run.waiting_for:
            return Text(run.summary(), "bold")
        if run.all_halted:
            text = Text(" ALL HALTED ", self.tones.ok + Style(reverse=True, bold=True))
            text.append(f" {run.summary()}", "bold")
            return text
        if run.plan_halted:  # halted, but not all verified or not all there is
            appeared = sum(len(found) for found in run.appeared().values())
            words = (
                f" PLAN HALTED — {appeared} NEW NOT HALTED "
                if appeared
                else f" HALTED — {run.by_answer()} by the venue's answer only "
            )
            text = Text(words, self.tones.warn)
            text.append(f" {run.summary()}", "bold")
            if appeared:
                text.append(" — K plans a new kill that includes them")
            return text
        text = Text(" NEEDS ATTENTION ", self.tones.danger)
        text.append(f" {run.summary()}", "bold")
        retry = run.retry_plan()
        if retry is not None:
            revived = len(run.revived_open)
            if revived == len(retry):
                text.append(f" — r stops the {revived} REVIVED again")
            else:
                text.append(
                    f" — r retries the {len(retry)} that failed, are uncertain, did not "
                    "verify" + (f" or REVIVED ({revived})" if revived else "")
                )
        return text

    def _counters(self) -> Table:
        table = Table(box=None, padding=(0, 1), pad_edge=False, show_edge=False)
        table.add_column("Venue", no_wrap=True)
        for name in COUNTER_COLUMNS:
            table.add_column(name, justify="right", no_wrap=True)
        for venue, row in self.run.counts().items():
            table.add_row(self.view.names.get(venue, venue), *self._cells(row))
        for venue in self.run.kill.unreachable:
            table.add_row(
                self.view.names.get(venue, venue),
                "?",
                "",
                "",
                "",
                "",
                "",
                Text(" UNREACHABLE ", self.tones.danger),
                "",
            )
        return table

    def _cells(self, row: VenueCount) -> list[Text | str]:
        def bad(n: int) -> Text | str:
            return Text(f" {n} ", self.tones.danger) if n else "0"

        verified: Text | str = str(row.verified)
        if row.by_answer:
            verified = f"{row.verified} · {row.by_answer} by answer"
        if row.not_verified:
            verified = Text(f" {row.verified} · {row.not_verified} NOT ", self.tones.danger)
        eta: Text | str = fmt_eta(row.eta) if self.run.running else ""
        if row.refused and self.run.running:  # said in words and reverse video, not colour
            eta = Text(f" {row.refused} refused (429), again ", self.tones.warn)
        return [
            str(row.planned),
            str(row.answered),
            str(row.ok),
            str(row.rejected),
            bad(row.failed),
            bad(row.uncertain),
            verified,
            eta,
        ]

    def _refresh_report(self) -> None:
        run = self.run
        signature = (
            len(run.results),
            sum(1 for r in run.results.values() if r.verified),
            len(run.revivals),
            len(run.revived_open),
            len(run.restopped),
            len(run.rechecks),
            run.running,
            self._table_width(),
        )
        if signature == self._shown:
            return
        self._shown = signature
        table = self.query_one("#kill-report", DataTable)
        cursor = table.cursor_row
        rows = report_rows(run, self.view.names, self.tones)
        widths = fit(
            SPECS, natural_widths(SPECS, (cells for _, cells in rows)), self._table_width()
        )
        table.clear(columns=True)
        for spec, width in zip(SPECS, widths, strict=True):
            if width is not None:
                table.add_column(spec.label, width=width, key=spec.label)
        for key, cells in rows:
            shown = (c for c, w in zip(cells, widths, strict=True) if w is not None)
            table.add_row(*shown, key=key)
        if table.row_count:
            table.move_cursor(row=min(cursor, table.row_count - 1))

    def _table_width(self) -> int:
        """What the report's columns may fill: the table less its vertical scrollbar."""
        table = self.query_one("#kill-report", DataTable)
        width = table.size.width or self.app.size.width - 2
        return max(20, width - table.styles.scrollbar_size_vertical)

    # ----- keys -----------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("confirm_retry", "cancel_retry"):
            return self.pending is not None
        if action == "retry":
            return self.pending is None
        return True

    def action_retry(self) -> None:
        if self.run.running or self.run.waiting_for:
            self.notify(
                "The kill is still running: retry once every venue has answered.",
                severity="warning",
            )
            return
        plan = self.run.retry_plan()
        if plan is None:
            self.notify(
                "Nothing to retry: every target answered, verified halted and none revived."
            )
            return
        self.pending = plan
        self.refresh_bindings()
        self.refresh_view()

    def action_confirm_retry(self) -> None:
        plan, self.pending = self.pending, None
        self.refresh_bindings()
        if plan is not None:
            self.retry(plan)
        self.refresh_view()

    def action_cancel_retry(self) -> None:
        self.pending = None
        self.refresh_bindings()
        self.refresh_view()

    def action_audit(self) -> None:
        first = self.run.reports[0] if self.run.reports else None
        self.audit(first.batch_id if first else None)

    def action_close(self) -> None:
        if self.pending is not None:
            self.action_cancel_retry()
            return
        self.dismiss(None)
