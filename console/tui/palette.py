"""Every action by name in the command palette (ctrl+p), with the key that does it.

The commands come from the app (:meth:`ConsoleApp.palette_commands`), which leaves out
what cannot run now: control actions while read-only and not armed, and actions the
current panel does not offer. Choosing a control command opens the same confirmation
as its key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from console.tui.app import ConsoleApp


@dataclass(frozen=True)
class Command:
    title: str
    help: str
    run: Callable[[], object]


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
