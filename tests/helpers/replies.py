"""An ASGI middleware in front of a sandbox that rewrites its GET replies (JSON)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.types import Message, Receive, Scope, Send

Edit = Callable[[str, Any], bool | None]  # (request path, reply JSON): False = left as is


class RewriteReplies:
    """Passes every GET reply's JSON through ``edit`` (in place) while ``on``; the reply
    is sent again re-encoded (``NaN`` as the vendor would write it) unless ``edit`` says
    ``False``."""

    def __init__(self, app: Any, edit: Edit) -> None:
        self.app = app
        self.edit = edit
        self.on = True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not self.on:
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []

        async def keep(message: Message) -> None:
            messages.append(message)

        await self.app(scope, receive, keep)
        start, *parts = messages
        body = b"".join(m.get("body", b"") for m in parts)
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if data is not None and self.edit(scope["path"], data) is not False:
            body = json.dumps(data).encode()
            start["headers"] = [
                (k, v) for k, v in start["headers"] if k.lower() != b"content-length"
            ] + [(b"content-length", str(len(body)).encode())]
        await send(start)
        await send({"type": "http.response.body", "body": body})
