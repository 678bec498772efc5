"""The service layer: browse, search, edit and sync, shared by the UI and notebooks."""

from crmtui.service.crm import (
    Budget,
    Crm,
    ProfileState,
    ProfileStatus,
    ProfileSummary,
    open_crm,
)
from crmtui.service.events import (
    Event,
    ListChanged,
    Notice,
    OutboxChanged,
    RecordChanged,
    StatusChanged,
)
from crmtui.store import (  # what the service raises, and its record screen's read
    CacheUnusable,
    CacheWriteError,
    ChangeBusy,
    RecordPreview,
)

__all__ = [
    "Budget",
    "CacheUnusable",
    "CacheWriteError",
    "ChangeBusy",
    "Crm",
    "Event",
    "ListChanged",
    "Notice",
    "OutboxChanged",
    "ProfileState",
    "ProfileStatus",
    "ProfileSummary",
    "RecordChanged",
    "RecordPreview",
    "StatusChanged",
    "open_crm",
]
