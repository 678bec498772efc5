"""crmtui: a keyboard-first terminal app for your CRM, online and offline.

From Python or Jupyter (top-level ``await``)::

    import crmtui
    crm = await crmtui.open_demo("freshsales")
    await crm.records("deal", sort="amount", descending=True)

The notebook API (``crmtui.api``) is imported on first use, so ``import crmtui`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "CacheUnusable",
    "Changes",
    "Client",
    "ConfigError",
    "RecordList",
    "RecordView",
    "Timeline",
    "__version__",
    "open_demo",
    "open_profile",
]
_API = frozenset(__all__) - {"__version__"}

if TYPE_CHECKING:
    from crmtui.api import (
        CacheUnusable,
        Changes,
        Client,
        ConfigError,
        RecordList,
        RecordView,
        Timeline,
        open_demo,
        open_profile,
    )


def __getattr__(name: str) -> Any:
    if name in _API:
        from crmtui import api

        return getattr(api, name)
    raise AttributeError(f"module 'crmtui' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])
