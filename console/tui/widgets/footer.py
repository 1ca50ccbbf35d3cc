"""The footer: the keys of the screen, the emergency stop's among them while it may run,
rebuilt only when what it shows changed.

**The emergency stop in the footer.** ``K`` is bound ``show=False`` (it is not a key of
the panel under the cursor, and read-only it only explains itself), so a new operator
found it only in the help screen — at 3 a.m., the one key they came for. While control
is live (armed, or a profile that is not read-only) the footer ends with it, in reverse
video and in words (``K EMERGENCY STOP``), as the operator's keymap spells it. Read-only,
like ``P``/``X``/``R``/``S``, it stays out: the header already says how to arm.

**Rebuilt only on change.** Textual's ``Footer`` recomposes (removes and mounts a widget
per key) whenever its screen publishes a bindings update: a modal opening or closing, a
focus change, a panel switch. Most of those leave the shown keys exactly as they were;
at 200x60 over a 10,000-row world each rebuild cost a few ms of mounting and styling
plus ~15 widgets of cyclic garbage, twice per confirmation, which the full collections
then had to scan. Here the keys are compared first (key, what it shows, enabled,
tooltip, compact, the kill key's) and an identical footer is left alone.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer

from console.tui.textual_compat.footer import FooterKey, bindings_ready

KILL_ID = "kill"
"""The binding id of the emergency stop (``console.tui.keymap.KILL_BINDINGS``)."""


class SteadyFooter(Footer):
    DEFAULT_CSS = """
    SteadyFooter FooterKey.-danger {
        margin-left: 1;
        .footer-key--key, .footer-key--description {
            color: $error;
            background: $footer-background;
            text-style: bold reverse;
        }
    }
    """

    _composed: object = None

    def __init__(
        self,
        *,
        kill_offered: Callable[[], bool],
        compact: bool = True,
        show_command_palette: bool = True,
    ) -> None:
        super().__init__(compact=compact, show_command_palette=show_command_palette)
        self._kill_offered = kill_offered

    def _kill_binding(self) -> Binding | None:
        """The emergency stop's binding when it may run now, else None."""
        if not self._kill_offered():
            return None
        for _, binding, enabled, _ in self.screen.active_bindings.values():
            if binding.id == KILL_ID and enabled:
                return binding
        return None

    def shown(self) -> object:
        """Everything :meth:`compose` reads, as one comparable value."""
        if not bindings_ready(self) or not self.is_attached:
            return None
        app = self.app
        keys = [
            (binding.key, app.get_key_display(binding), binding.description, binding.action)
            for (_, binding, _, _) in self.screen.active_bindings.values()
            if binding.show
        ]
        states = [
            (binding.group, enabled, tooltip)
            for (_, binding, enabled, tooltip) in self.screen.active_bindings.values()
            if binding.show
        ]
        kill = self._kill_binding()
        kill_key = None if kill is None else (kill.key, app.get_key_display(kill))
        return (
            keys,
            states,
            kill_key,
            self.compact,
            self.show_command_palette,
            app.ENABLE_COMMAND_PALETTE,
        )

    def compose(self) -> ComposeResult:
        yield from super().compose()
        kill = self._kill_binding() if bindings_ready(self) else None
        if kill is not None:
            yield FooterKey(
                kill.key,
                self.app.get_key_display(kill),
                kill.description,
                kill.action,
                tooltip="halt every target of every venue (or one venue): opens the plan",
                classes="-danger",
            ).data_bind(compact=Footer.compact)

    async def recompose(self) -> None:
        shown = self.shown()
        if shown is not None and shown == self._composed:
            return
        self._composed = shown
        await super().recompose()
