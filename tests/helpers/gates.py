"""A sandbox whose answer to one read is held: the vendor reads its data at once, the
reply reaches crmtui only when the test lets it go (a read in flight, made exact)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.types import Message, Receive, Scope, Send

WAIT = 30.0  # seconds a step may take before the test gives up

Matches = Callable[[str, str, str], bool]  # (method, path, query string)


@dataclass
class HeldReply:
    """Wraps a sandbox app: the first request that ``matches`` is handled by the app at
    once (its reply holds the data as it was then), and the reply is held until
    ``release()``. Other requests go through. Works in-process and served over
    loopback (the events are threads'; the wait runs in a thread, off the loop)."""

    app: Any
    matches: Matches
    armed: bool = True  # False: every request goes through until it is set again
    reached: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._takes(scope):
            await self.app(scope, receive, send)
            return
        answer: asyncio.Queue[Message] = asyncio.Queue()  # the vendor's reply, kept
        await self.app(scope, receive, answer.put)
        self.reached.set()
        await asyncio.to_thread(self.released.wait, WAIT)
        while not answer.empty():
            await send(answer.get_nowait())

    def _takes(self, scope: Scope) -> bool:
        """Whether this is the request to hold (then no later one is)."""
        if scope["type"] != "http" or not self.armed:
            return False
        query = scope.get("query_string", b"").decode("latin-1")
        self.armed = not self.matches(scope["method"], scope["path"], query)
        return not self.armed

    async def answered(self) -> None:
        """Wait until the vendor has answered the held request (its data is read)."""
        assert await asyncio.to_thread(self.reached.wait, WAIT), "the read never reached it"

    def release(self) -> None:
        self.released.set()
