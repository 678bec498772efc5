"""An ``Input`` that draws vendor text inert: a pre-filled value, a placeholder, a suggestion.

Textual's ``Input`` draws its value with ``rich.text.Text``, which passes ESC and the
C1 controls to the terminal: a field editor opened on a job title holding
``\\x1b]52;…`` would write the clipboard. Here the value is drawn through
``crmtui.text.visible`` (one placeholder per character, so the cursor and selection stay
where they are) and the value itself is left as it is: saving it unchanged sends back
what the vendor had. Placeholders and suggestions (choice labels: vendor text) are
cleaned when set.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Input

from crmtui.text import clean, visible


class InertInput(Input):
    """An ``Input`` whose value, placeholder and suggestion reach the screen inert."""

    @property
    def _value(self) -> Text:
        if self.password:
            return super()._value
        text = Text(visible(self.value), no_wrap=True, overflow="ignore", end="")
        return self.highlighter(text) if self.highlighter is not None else text

    def validate_placeholder(self, placeholder: str) -> str:
        return clean(placeholder)

    def validate__suggestion(self, suggestion: str) -> str:
        return visible(suggestion)
