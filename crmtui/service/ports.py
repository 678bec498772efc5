"""What the outbox and sync need of the service, and no more (their ports).

``Crm`` builds one ``Ports`` and hands it to its ``Outbox`` and to each ``Sync``: the
cache, a way to find a profile's adapter, the call wrapper that tracks whether a
profile is online, and the event sink. Neither of them sees the ``Crm`` itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from crmtui.service.events import Listener
from crmtui.store import Store
from crmtui.vendors.base import Vendor

T = TypeVar("T")


class Call(Protocol):
    """Run an adapter call for a profile, tracking whether the profile is online."""

    def __call__(self, profile: str, work: Awaitable[T], /) -> Awaitable[T]: ...


@dataclass(frozen=True)
class Ports:
    store: Store
    adapter: Callable[[str], Vendor]  # the profile's adapter (``CrmError`` if it has none)
    call: Call
    emit: Listener  # tell the service's listeners (the UI, a notebook)
    online: Callable[[str], bool | None]  # None: not contacted yet
    redact: Callable[[str], str]  # every secret out of a text shown or stored (``Redactor``)
