"""Textual messages that carry service events to screens."""

from __future__ import annotations

from textual.message import Message

from crmtui.service.events import Event


class CrmEvent(Message, bubble=False):
    """A service event (list/record/outbox/status changed, notice), for every screen.

    It does not bubble: a screen hands it down to the widgets that care.
    """

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event
