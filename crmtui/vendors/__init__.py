"""Vendor adapters: the five built in, those of the ``crmtui.vendors`` entry-point group
(a CRM shipped as its own package), and those ``register`` ed at run time."""

from __future__ import annotations

from collections.abc import Iterable
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


# Registered at run time (``register``): name -> the adapter class.
_REGISTERED: dict[str, type[Vendor]] = {}


@cache
def _installed() -> dict[str, str]:
    found = dict(BUILTIN)
    for ep in entry_points(group="crmtui.vendors"):
        found[ep.name] = ep.value
    return found


def available() -> dict[str, str]:
    """Vendor name -> "module:Class" for every adapter: built in, installed (entry points)
    or registered at run time."""
    found = dict(_installed())
    for name, cls in _REGISTERED.items():
        found[name] = f"{cls.__module__}:{cls.__qualname__}"
    return found


def register(cls: type[Vendor]) -> type[Vendor]:
    """Make an adapter known under ``cls.name`` (e.g. a CRM a notebook or a test defines;
    usable as a class decorator). A name already taken by another adapter is refused."""
    if not (isinstance(cls, type) and issubclass(cls, Vendor)):
        raise TypeError(f"{cls!r} is not a crmtui Vendor")
    taken = _REGISTERED.get(cls.name)
    if (taken is not None and taken is not cls) or (taken is None and cls.name in _installed()):
        raise ValueError(f"a vendor named {cls.name!r} is already known")
    _REGISTERED[cls.name] = cls
    return cls


def canonical(name: object, known: Iterable[str] | None = None) -> str | None:
    """The vendor a person named, in any case and without surrounding spaces
    (``"FreshSales "`` -> ``"freshsales"``); None when none of ``known`` (default: every
    ``available()`` vendor; the CLI passes the sandboxes') is named so."""
    if not isinstance(name, str):
        return None
    wanted = name.strip().casefold()
    return next(
        (n for n in (available() if known is None else known) if n.casefold() == wanted), None
    )


def load(name: str) -> type[Vendor]:
    if name in _REGISTERED:
        return _REGISTERED[name]
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


__all__ = ["Profile", "Setting", "Vendor", "available", "canonical", "load", "register"]
