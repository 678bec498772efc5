"""What the service tells its listeners (the UI, a notebook) as things change."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from crmtui.model import Change, RecordRef

Severity = Literal["information", "warning", "error"]  # Textual's notification levels


@dataclass(frozen=True)
class ListChanged:
    """Rows of a kind changed in the cache: re-read the window."""

    profile: str
    kind: str


@dataclass(frozen=True)
class RecordChanged:
    ref: RecordRef


@dataclass(frozen=True)
class OutboxChanged:
    profile: str
    queued: int


@dataclass(frozen=True)
class StatusChanged:
    profile: str
    online: bool | None
    message: str = ""
    auth_failed: bool = False  # the vendor answered and refused the credentials


@dataclass(frozen=True)
class ChangeSent:
    """The vendor confirmed a queued change (the status line says ``sent ✓`` a while)."""

    change: Change  # as it was sent (a create: with its placeholder ref; ``Crm.describe``)


@dataclass(frozen=True)
class Notice:
    """Something the user should read (an error, a conflict, a sent edit)."""

    text: str
    severity: Severity = "information"
    profile: str = ""


Event = ListChanged | RecordChanged | OutboxChanged | StatusChanged | ChangeSent | Notice
Listener = Callable[[Event], None]
