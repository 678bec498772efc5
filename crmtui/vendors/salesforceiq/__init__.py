"""SalesforceIQ (API v2, ex-RelateIQ): see ``adapter`` for the adapter and its decisions."""

from crmtui.vendors.salesforceiq.adapter import SalesforceIQ

__all__ = ["SalesforceIQ"]
