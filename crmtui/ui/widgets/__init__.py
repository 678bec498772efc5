"""The app's own widgets, and one rule every ``Static`` it updates follows."""

from __future__ import annotations

from textual.visual import VisualType
from textual.widgets import Static


def show(widget: Static, content: VisualType) -> None:
    """``widget.update(content)`` unless it shows exactly that already.

    An update lays out and paints the whole screen again (a hidden tab's line too), and
    most callers set the same text over and over (each cursor move, each reply): the same
    text, spans and style is left as it is.
    """
    old = widget.content
    if (
        type(old) is type(content)
        and old == content
        and getattr(old, "style", None) == getattr(content, "style", None)
    ):
        return
    widget.update(content)
