"""The service layer: browse, search, edit and sync, shared by the UI and notebooks."""

from crmtui.service.crm import Crm, ProfileState
from crmtui.service.events import (
    Event,
    ListChanged,
    Notice,
    OutboxChanged,
    RecordChanged,
    StatusChanged,
)

__all__ = [
    "Crm",
    "Event",
    "ListChanged",
    "Notice",
    "OutboxChanged",
    "ProfileState",
    "RecordChanged",
    "StatusChanged",
]
