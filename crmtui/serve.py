"""`crmtui serve`: the app in a browser (textual-serve), for its user only.

The page drives the user's authenticated CRM, so:

- It listens on loopback unless the command line names another address *and* says
  ``--allow-remote`` (checked by the CLI).
- Every request needs the session's secret token (``secrets.token_urlsafe``), printed at
  start inside the link to open, as Jupyter does. The link's ``?token=`` is traded for an
  HttpOnly, SameSite=Strict cookie on the first page, which the page's own websocket and
  static files then carry. A request without the token, or with a wrong one (compared in
  constant time), gets 403 and nothing of the app: no page, no websocket, no static file.
- The websocket (which starts the app) also needs an ``Origin`` of this server, so another
  web site open in the same browser cannot drive it.
- Server logs never print tracebacks with local variables.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import shlex
import signal
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import urlsplit

from aiohttp import web
from rich.logging import RichHandler
from textual_serve.server import Server

COOKIE = "crmtui_token"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def new_token() -> str:
    return secrets.token_urlsafe(32)


def _same(given: str, token: str) -> bool:
    return secrets.compare_digest(given.encode("utf-8", "replace"), token.encode("utf-8"))


class TokenServer(Server):
    """textual-serve's server behind a secret token (see the module docstring)."""

    def __init__(self, command: str, *, host: str, port: int, token: str) -> None:
        super().__init__(command, host=host, port=port, title="crmtui")
        self.token = token
        if ":" in host:  # an IPv6 address: in brackets inside a URL
            self.public_url = f"http://[{host.strip('[]')}]:{port}"

    @property
    def link(self) -> str:
        return f"{self.public_url}/?token={self.token}"

    def initialize_logging(self) -> None:
        logging.basicConfig(
            level="INFO",
            format="%(message)s",
            handlers=[
                RichHandler(
                    show_path=False,
                    show_time=False,
                    rich_tracebacks=True,
                    tracebacks_show_locals=False,
                    console=self.console,
                )
            ],
        )

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self._guard)
        return app

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        given = request.query.get("token")
        if not _same(given if given is not None else request.cookies.get(COOKIE, ""), self.token):
            return web.Response(
                status=403,
                text="crmtui: open the link with its token, as printed by `crmtui serve`.\n",
            )
        if request.path == "/ws" and not self._same_origin(request):
            return web.Response(status=403, text="crmtui: not from this page.\n")
        response = await handler(request)
        if given is not None and not isinstance(response, web.WebSocketResponse):
            response.set_cookie(COOKIE, self.token, httponly=True, samesite="Strict", path="/")
            response.headers["Referrer-Policy"] = "no-referrer"  # the link holds the token
        return response

    @staticmethod
    def _same_origin(request: web.Request) -> bool:
        origin = request.headers.get("Origin")
        if origin is None:
            return True  # not a browser: it had the token
        return urlsplit(origin).netloc.lower() == request.host.lower()

    async def on_startup(self, app: web.Application) -> None:
        """Nothing yet: the link is printed once the socket listens (``_listening``)."""

    def _listening(self, *_: object) -> None:
        print(f"crmtui in your browser:  {self.link}", flush=True)
        print("Anyone with this link can use your CRM profiles. Press Ctrl+C to stop.", flush=True)

    def serve(self, debug: bool = False) -> None:
        """textual-serve's ``serve``, but the link is printed only after every socket is
        bound (aiohttp calls ``print`` then): a port taken or an address not this
        machine's fails with no link shown."""
        self.debug = debug
        self.initialize_logging()
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signal.SIGINT, self.request_exit)
            loop.add_signal_handler(signal.SIGTERM, self.request_exit)
        web.run_app(
            self._make_app(),
            host=self.host,
            port=self.port,
            handle_signals=False,
            loop=loop,
            print=self._listening,
        )


def serve(command: Sequence[str], *, host: str, port: int, token: str | None = None) -> int:
    """Serve ``command`` (the crmtui app) until interrupted.

    ``localhost`` is bound as ``127.0.0.1``: the address comes from no resolver.
    """
    host = "127.0.0.1" if host.lower() == "localhost" else host
    if host.startswith("[") and host.endswith("]"):  # [::1] as written in a URL: the address
        host = host[1:-1]
    server = TokenServer(shlex.join(command), host=host, port=port, token=token or new_token())
    server.serve()
    return 0
