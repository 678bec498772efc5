"""A user's card: enter on an owner (assignee, user...) field of a record.

The vendors' users are not records crmtui lists: the card shows what the vendor gives of
the user (its name, email and role, as the field's choices hold them: cached with the
specs, so offline too), "(you)" when it is the profile's own user, and how many of the
cached records of the kind the field names this user (counted in the cache). ``y``
copies the email; escape or enter closes the card.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from crmtui.model import FieldSpec
from crmtui.service import Crm
from crmtui.service.references import UserCard, user_card
from crmtui.text import inert

LABEL_CELLS = 8  # the card's labels' column


class UserCardScreen(ModalScreen[None]):
    """The card of the user the field ``spec`` of a ``kind`` record holds (``value``)."""

    DEFAULT_CSS = """
    UserCardScreen { align: center middle; }
    #user-card {
        width: 64; max-width: 100%; height: auto;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,enter,q", "close", "Close"),
        Binding("y", "copy_email", "Copy email"),
    ]

    def __init__(self, crm: Crm, profile: str, kind: str, spec: FieldSpec, value: object) -> None:
        super().__init__()
        self.crm, self.profile, self.kind, self.spec = crm, profile, kind, spec
        self.card: UserCard | None = user_card(spec, value, crm.cached_me(profile))

    def compose(self) -> ComposeResult:
        with Vertical(id="user-card"):
            yield Static(inert(f"{self.spec.label} — user"), classes="screen-title")
            yield Static(inert(self.body(), multiline=True), id="user-card-body")
            yield Static("", id="user-card-owns", classes="hint")
            yield Static("y copies the email · escape closes", classes="hint")

    def body(self) -> str:
        card = self.card
        if card is None:
            return "No user"
        rows = card.lines()
        if not card.known:
            rows.append(("", "not among the vendor's users as last read; r reads them again"))
        return "\n".join(f"{label:<{LABEL_CELLS}}{value}" for label, value in rows)

    def on_mount(self) -> None:
        self._facts()

    @work(exit_on_error=False)
    async def _facts(self) -> None:
        """ "(you)" once the vendor said who the profile is; the cached records it names."""
        card = self.card
        if card is None:
            return
        me = await self.crm.me(self.profile)
        if me is not None and str(me) == card.id and not card.you:
            self.card = user_card(self.spec, card.id, me)
            self.query_one("#user-card-body", Static).update(inert(self.body(), multiline=True))
        count = await asyncio.to_thread(
            self.crm.count, self.profile, self.kind, filters={self.spec.key: card.id}
        )
        info = self.crm.kind_info(self.profile, self.kind)
        plural = (info.label if info else self.kind).lower()
        said = f"{self.spec.label} of {count:,} cached {plural}"
        self.query_one("#user-card-owns", Static).update(inert(said))

    def action_copy_email(self) -> None:
        email = self.card.email if self.card else ""
        if not email:
            self.notify("This user has no email the vendor gives", severity="warning")
            return
        self.app.copy_to_clipboard(email)
        self.notify(f"Copied {email}")

    def action_close(self) -> None:
        self.dismiss(None)
