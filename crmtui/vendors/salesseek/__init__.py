"""SalesSeek (REST API, 2017 docs): see ``adapter`` for the adapter and its conventions."""

from crmtui.vendors.salesseek.adapter import SalesSeek

__all__ = ["SalesSeek"]
