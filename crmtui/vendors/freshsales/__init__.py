"""Freshsales: ``adapter`` (the Vendor), ``resources`` (kinds and fields, declared),
``auth`` (host, token, error bodies), ``paging`` (views, sorts), ``records`` (names,
related records) and ``timeline`` (activities)."""

from crmtui.vendors.freshsales.adapter import Freshsales

__all__ = ["Freshsales"]
