"""Every action by name in the command palette (ctrl+p or :), with the key that does it.

The commands come from the app (:meth:`ConsoleApp.palette_commands`), which leaves out
what cannot run now: control actions (and the emergency stop) while read-only and not
armed, actions the current panel does not offer, the last kill's report before any kill.
Choosing a control command opens the same confirmation as its key; the emergency stop
opens the kill modal, as ``K`` does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from console.tui.keymap import CONTROL_KINDS, SKIP_ID, display_key, effective_keys

if TYPE_CHECKING:
    from console.tui.app import ConsoleApp


@dataclass(frozen=True)
class Command:
    title: str
    help: str
    run: Callable[[], object]


def console_commands(app: ConsoleApp) -> list[Command]:
    """The palette's console commands for the app's state right now."""
    keys = effective_keys(app.keys)
    commands: list[Command] = []
    panel = app.active_panel
    for name, kind in CONTROL_KINDS.items():
        if app.controls.allowed(name):
            what = "the selected rows" if panel.selected else "the row under the cursor"
            commands.append(
                Command(
                    f"{kind.value.capitalize()} {what} ({panel.TITLE})",
                    f"{display_key(keys[name])} · opens a confirmation",
                    partial(app.action_control, name),
                )
            )
    if app.kill.offered:
        commands.append(
            Command(
                "EMERGENCY STOP: halt every target of every venue (or one venue)",
                f"{display_key(keys['kill'])} · freezes the plan, then asks you to type a label",
                app.action_kill,
            )
        )
    if app.kill.run is not None:
        commands.append(
            Command(
                "Last emergency stop: its progress and report",
                display_key(keys["kill_report"]),
                app.action_kill_report,
            )
        )
    if app.last_report and app.last_report.retry_plan():
        commands.append(
            Command(
                "Retry failed targets of the last plan",
                "opens a confirmation for what failed or did not verify",
                app.action_retry,
            )
        )
    for n, shown in enumerate(app.panels):
        commands.append(
            Command(
                f"Show panel {n + 1}: {shown.TITLE}",
                f"key {n + 1}",
                partial(app.main.show_panel, n),
            )
        )
    if app.arm.readonly:
        armed = app.arm.left(app.clock()) is not None
        title = (
            "Disarm (read-only now)" if armed else f"Arm control keys for {app.arm.minutes:g} min"
        )
        commands.append(Command(title, display_key(keys["arm"]), app.action_arm))
    if app.automation.configured:
        commands.append(
            Command(
                "Automation: schedules, guards, dead-man timer",
                display_key(keys["automation"]),
                app.action_automation,
            )
        )
        if app.arm.enabled(app.clock()):
            commands.append(
                Command(
                    "Skip the next run of a schedule",
                    f"{display_key(keys[SKIP_ID])} · asks which and why",
                    app.action_automation_skip,
                )
            )
    for title, key, run in (
        ("Filter rows", "filter", app.action_filter),
        ("Sort by the next column", "sort", app.action_sort),
        ("Reverse the sort order", "reverse_sort", app.action_reverse_sort),
        ("Select every row shown", "select_all", app.action_select_all),
        ("Clear selection / filter", "clear", app.action_clear),
        ("Show or enlarge the outcome log", "outcomes", app.action_outcomes),
        ("Journal (audit): what was done, by whom, and its outcome", "audit", app.action_audit),
        ("Help: every key", "help", app.action_help),
    ):
        commands.append(Command(title, display_key(keys[key]), run))
    return commands


class ConsoleCommands(Provider):
    """The console's own commands, next to Textual's system commands."""

    def _commands(self) -> list[Command]:
        app = cast("ConsoleApp", self.app)
        return app.palette_commands()

    async def discover(self) -> Hits:
        for command in self._commands():
            yield DiscoveryHit(command.title, command.run, help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            score = matcher.match(command.title)
            if score > 0:
                yield Hit(score, matcher.highlight(command.title), command.run, help=command.help)
