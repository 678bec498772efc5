"""The key footer of every screen, rebuilt only when the keys it shows change.

Textual's ``Footer`` throws away and rebuilds every key it shows each time the screen's
bindings are refreshed: at every focus change, every screen switch, every ``check_action``
refresh. Most of those refreshes leave the keys exactly as they were, yet each rebuild
mounts and styles a dozen widgets (profiled: a tenth of the app's CPU while a rep moves
through a record). This footer compares what it would show with what it shows and keeps
its keys when nothing changed; it draws the same keys as Textual's.

When it does rebuild, each key is made with the footer's ``compact`` already set: Textual's
keys start compact and are then bound to the footer's (not compact), so every key was
styled three times as it was mounted, its class added then taken away (profiled: a
thirtieth of the app's CPU through the UI tests).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class KeysFooter(Footer):
    """``Footer`` that recomposes only when its keys, labels or states change."""

    _shown: object = None

    def _keys(self) -> object:
        """What the footer draws: each shown binding's key, label, action and state."""
        app = self.app
        return (
            tuple(
                (
                    binding.key,
                    app.get_key_display(binding),
                    binding.description,
                    binding.action,
                    binding.group,
                    enabled,
                    tooltip,
                )
                for (_node, binding, enabled, tooltip) in self.screen.active_bindings.values()
                if binding.show or binding.key == app.COMMAND_PALETTE_BINDING
            ),
            self.show_command_palette and app.ENABLE_COMMAND_PALETTE,
        )

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            bound = isinstance(widget, FooterKey) and "compact" in (widget._reactive_connect or {})
            if bound:  # as its binding to the footer's ``compact`` will leave it
                widget.set_reactive(FooterKey.compact, self.compact)
                widget.set_class(self.compact, "-compact", update=False)
            yield widget

    async def recompose(self) -> None:
        if not self.is_attached:
            return
        keys = self._keys()
        if keys == self._shown and self.children:
            return
        self._shown = keys
        await super().recompose()
