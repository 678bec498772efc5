"""ASGI middlewares in front of a sandbox that rewrite its replies: the bytes of every
reply (``RewriteBodies``), or the JSON of its GET replies (``RewriteReplies``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.types import Message, Receive, Scope, Send

Edit = Callable[[str, Any], bool | None]  # (request path, reply JSON): False = left as is


class RewriteBodies:
    """Passes the body of every reply to a request of ``methods`` (None: any) through
    ``rewrite`` (request path, body) while ``on``; a body it changes is sent with a
    length header to match."""

    methods: frozenset[str] | None = None

    def __init__(self, app: Any, rewrite: Callable[[str, bytes], bytes]) -> None:
        self.app = app
        self.rewrite = rewrite
        self.on = True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        methods = self.methods
        if scope["type"] != "http" or not self.on or (methods and scope["method"] not in methods):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []

        async def keep(message: Message) -> None:
            messages.append(message)

        await self.app(scope, receive, keep)
        start, *parts = messages
        body = b"".join(m.get("body", b"") for m in parts)
        sent = self.rewrite(scope["path"], body)
        if sent is not body:
            start["headers"] = [
                (k, v) for k, v in start["headers"] if k.lower() != b"content-length"
            ] + [(b"content-length", str(len(sent)).encode())]
        await send(start)
        await send({"type": "http.response.body", "body": sent})


class RewriteReplies(RewriteBodies):
    """Passes every GET reply's JSON through ``edit`` (in place) while ``on``; the reply
    is sent again re-encoded (``NaN`` as the vendor would write it) unless ``edit`` says
    ``False``."""

    methods = frozenset({"GET"})

    def __init__(self, app: Any, edit: Edit) -> None:
        super().__init__(app, self._edited)
        self.edit = edit

    def _edited(self, path: str, body: bytes) -> bytes:
        try:
            data = json.loads(body)
        except ValueError:
            data = None
        if data is not None and self.edit(path, data) is not False:
            return json.dumps(data).encode()
        return body
