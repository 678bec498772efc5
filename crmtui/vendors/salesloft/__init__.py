"""Salesloft (REST API v2): see ``adapter`` for the adapter and its conventions."""

from crmtui.vendors.salesloft.adapter import Salesloft

__all__ = ["Salesloft"]
