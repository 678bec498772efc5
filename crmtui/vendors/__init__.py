"""Vendor adapters, found through the ``crmtui.vendors`` entry-point group."""

from __future__ import annotations

from functools import cache
from importlib import import_module
from importlib.metadata import entry_points

from crmtui.vendors.base import Profile, Setting, Vendor

# Used when crmtui runs from a source tree that was never installed.
BUILTIN = {
    "freshsales": "crmtui.vendors.freshsales:Freshsales",
    "salesseek": "crmtui.vendors.salesseek:SalesSeek",
    "salesloft": "crmtui.vendors.salesloft:Salesloft",
    "activecampaign": "crmtui.vendors.activecampaign:ActiveCampaign",
    "salesforceiq": "crmtui.vendors.salesforceiq:SalesforceIQ",
}


@cache
def available() -> dict[str, str]:
    """Vendor name -> "module:Class" for every installed adapter."""
    found = dict(BUILTIN)
    for ep in entry_points(group="crmtui.vendors"):
        found[ep.name] = ep.value
    return found


def load(name: str) -> type[Vendor]:
    try:
        target = available()[name]
    except KeyError:
        known = ", ".join(sorted(available()))
        raise KeyError(f"unknown vendor {name!r}; known vendors: {known}") from None
    module, _, attr = target.partition(":")
    cls = getattr(import_module(module), attr)
    if not (isinstance(cls, type) and issubclass(cls, Vendor)):
        raise TypeError(f"{target} is not a crmtui Vendor")
    return cls


__all__ = ["Profile", "Setting", "Vendor", "available", "load"]
