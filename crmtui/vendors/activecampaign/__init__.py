"""ActiveCampaign (API v3, deals): see ``adapter`` for the adapter and its conventions."""

from crmtui.vendors.activecampaign.adapter import ActiveCampaign

__all__ = ["ActiveCampaign"]
