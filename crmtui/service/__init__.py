"""The service layer: browse, search, edit and sync, shared by the UI and notebooks."""

from crmtui.service.crm import Budget, Crm, ProfileState, ProfileSummary, open_crm
from crmtui.service.events import (
    Event,
    ListChanged,
    Notice,
    OutboxChanged,
    RecordChanged,
    StatusChanged,
)

__all__ = [
    "Budget",
    "Crm",
    "Event",
    "ListChanged",
    "Notice",
    "OutboxChanged",
    "ProfileState",
    "ProfileSummary",
    "RecordChanged",
    "StatusChanged",
    "open_crm",
]
