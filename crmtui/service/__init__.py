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
from crmtui.store import CacheUnusable, CacheWriteError, ChangeBusy  # what the service raises

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
    "StatusChanged",
    "open_crm",
]
