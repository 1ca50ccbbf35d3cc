"""The footer, rebuilt only when what it shows changed.

Textual's ``Footer`` recomposes (removes and mounts a widget per key) whenever its
screen publishes a bindings update: a modal opening or closing, a focus change, a panel
switch. Most of those leave the shown keys exactly as they were; at 200x60 over a
10,000-row world each rebuild cost a few ms of mounting and styling plus ~15 widgets of
cyclic garbage, twice per confirmation, which the full collections then had to scan.
Here the keys are compared first (key, what it shows, enabled, tooltip, compact) and an
identical footer is left alone.
"""

from __future__ import annotations

from textual.widgets import Footer

from console.tui.textual_compat.footer import bindings_ready


class SteadyFooter(Footer):
    _composed: object = None

    def shown(self) -> object:
        """Everything :meth:`Footer.compose` reads, as one comparable value."""
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
        return (keys, states, self.compact, self.show_command_palette, app.ENABLE_COMMAND_PALETTE)

    async def recompose(self) -> None:
        shown = self.shown()
        if shown is not None and shown == self._composed:
            return
        self._composed = shown
        await super().recompose()
