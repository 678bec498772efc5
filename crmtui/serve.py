"""`crmtui serve`: the app in a browser (textual-serve), for its user only.

The page drives the user's authenticated CRM, so:

- It listens on loopback unless the command line names another address *and* says
  ``--allow-remote`` (checked by the CLI).
- Every request needs the session's secret token (``secrets.token_urlsafe``), printed at
  start inside the link to open, as Jupyter does. The link's ``?token=`` is traded for an
  HttpOnly, SameSite=Strict cookie on the first page, which the page's own websocket and
  static files then carry. Its name holds the port (``crmtui_token_<port>``, as Jupyter
  does): browsers do not scope cookies by port, so two servers side by side would
  otherwise overwrite each other's. A request without the token, or with a wrong one (compared in
  constant time), gets 403 and nothing of the app: no page, no websocket, no static file.
- The websocket (which starts the app) also needs an ``Origin`` of this server, so another
  web site open in the same browser cannot drive it.
- Server logs never print tracebacks with local variables, nor the token: the access log
  shows each request's path without its query, the token in a path as ``<token>``.
- No directory listing of the static files; a plain GET of the websocket URL is a 400.
- Each app runs in a session of its own (``start_new_session``), without a shell; when
  the server stops, the apps are told to quit, and after ``QUIT_SECONDS`` the ones still
  running are terminated, then killed, with whatever they started.

``serve_in_background`` runs the same server on a thread of its own for a notebook
(``Client.app()``): the page is shown in an iframe, where the cookie may not be sent
(the frame is on another site than the notebook's page: ``127.0.0.1`` under
``localhost``, and browsers block third-party cookies), so the page's own URLs (its
websocket and static files) carry the token in their path instead (``token_in_urls``).
``python -m crmtui.serve`` is the app it serves: one demo vendor or one profile, on the
notebook's cache file.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import os
import secrets
import shlex
import signal
import socket
import sys
import threading
from asyncio.subprocess import Process
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.web_request import BaseRequest
from rich.logging import RichHandler
from textual_serve.app_service import AppService
from textual_serve.server import Server, log, to_int

COOKIE = "crmtui_token"  # the cookie's name is this, "_", and the server's port
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
QUIT_SECONDS = 3.0  # what an app has to quit once told to, before it is terminated
TERM_SECONDS = 2.0  # what it has to end once terminated, before it is killed
CLOSE_SECONDS = 2.0  # what a browser has to answer a websocket's close


def new_token() -> str:
    return secrets.token_urlsafe(32)


def _same(given: str, token: str) -> bool:
    return secrets.compare_digest(given.encode("utf-8", "replace"), token.encode("utf-8"))


_TOKEN = web.AppKey("crmtui_token", str)


def _logged_path(request: BaseRequest) -> str:
    """The request's path as the access log shows it: no query (``?token=``), and the
    server's token, where the path holds it, as ``<token>``."""
    token = request.app.get(_TOKEN) if isinstance(request, web.Request) else None
    path = request.path
    return path.replace(token, "<token>") if token else path


class AccessLog(AbstractAccessLogger):
    """aiohttp's access log without the token: client, method, path (see
    ``_logged_path``), status and size."""

    def log(self, request: BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            '%s "%s %s" %s %s',
            request.remote,
            request.method,
            _logged_path(request),
            response.status,
            response.body_length,
        )


class _App(AppService):
    """textual-serve's app service, its process run without a shell, in a session of its
    own (so that it and what it starts can be terminated together), and known to the
    server (``TokenServer.stop_apps``)."""

    def __init__(self, server: TokenServer, websocket: web.WebSocketResponse) -> None:
        async def close() -> None:
            await websocket.close()

        super().__init__(
            server.command,
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=close,
            download_manager=server.download_manager,
            debug=server.debug,
        )
        self.websocket = websocket

    async def _open_app_process(self, width: int = 80, height: int = 24) -> Process:
        self._process = process = await asyncio.create_subprocess_exec(
            *shlex.split(self.command),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self._build_environment(width=width, height=height),
            start_new_session=True,
        )
        assert process.stdin is not None
        self._stdin = process.stdin
        return process

    @property
    def process(self) -> Process | None:
        return self._process

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the app and what it started (its process group), while the
        app's process is not reaped (its pid not reusable)."""
        process = self._process
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signum)


async def _ended(processes: list[Process], timeout: float) -> list[Process]:
    """Wait up to ``timeout`` for ``processes`` to end: those still running."""
    running = [p for p in processes if p.returncode is None]
    if running:
        await asyncio.wait([asyncio.ensure_future(p.wait()) for p in running], timeout=timeout)
    return [p for p in running if p.returncode is None]


class TokenServer(Server):
    """textual-serve's server behind a secret token (see the module docstring)."""

    def __init__(
        self, command: str, *, host: str, port: int, token: str, token_in_urls: bool = False
    ) -> None:
        super().__init__(command, host=host, port=port, title="crmtui")
        self.token = token
        self.token_in_urls = token_in_urls  # the page's URLs carry it (a frame: no cookie)
        self.apps: set[_App] = set()  # the apps running, each for its websocket
        if ":" in host:  # an IPv6 address: in brackets inside a URL
            self.public_url = f"http://[{host.strip('[]')}]:{port}"

    @property
    def link(self) -> str:
        return f"{self.public_url}/?token={self.token}"

    @property
    def cookie(self) -> str:
        """The cookie's name, this port's (cookies are shared by every port of a host)."""
        return f"{COOKIE}_{self.port}"

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
        """textual-serve's routes (its static files without a directory listing), behind
        ``_guard``."""
        app = web.Application(middlewares=[self._guard])
        app[_TOKEN] = self.token
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path))
        routes = [
            web.get("/", self.handle_index, name="index"),
            web.get("/ws", self.handle_websocket, name="websocket"),
            web.get("/download/{key}", self.handle_download, name="download"),
            web.static("/static", self.statics_path, name="static"),
        ]
        if self.token_in_urls:
            routes += [
                web.get(f"/{self.token}/ws", self.handle_websocket),
                web.static(f"/{self.token}/static", self.statics_path),
            ]
        app.add_routes(routes)
        app.on_startup.append(self.on_startup)
        app.on_shutdown.append(self.on_shutdown)
        return app

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """textual-serve's websocket (one app each), a plain GET answered 400, and the
        app known to ``stop_apps``."""
        websocket = web.WebSocketResponse(heartbeat=15, timeout=CLOSE_SECONDS)
        if not websocket.can_prepare(request).ok:
            raise web.HTTPBadRequest(text="crmtui: this URL is the page's websocket.\n")
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        await websocket.prepare(request)
        app = _App(self, websocket)
        self.apps.add(app)
        try:
            await app.start(width, height)
            await self._process_messages(websocket, app)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception as error:  # a message not of the page's protocol
            log.warning("crmtui: the page's websocket closed: %s", type(error).__name__)
        finally:
            await self._end(app)
        return websocket

    async def _end(self, app: _App) -> None:
        """End ``app``: told to quit, terminated if it has not after ``QUIT_SECONDS``,
        then killed; its websocket closed."""
        with contextlib.suppress(Exception):
            await app.send_meta({"type": "quit"})
        processes = [app.process] if app.process is not None else []
        if await _ended(processes, QUIT_SECONDS):
            app.signal(signal.SIGTERM)
            if await _ended(processes, TERM_SECONDS):
                app.signal(signal.SIGKILL)
                await _ended(processes, TERM_SECONDS)
        with contextlib.suppress(Exception):  # its output read to the end (it has ended)
            await asyncio.wait_for(app.stop(), TERM_SECONDS)
        with contextlib.suppress(Exception):
            await app.websocket.close()
        self.apps.discard(app)

    async def stop_apps(self) -> None:
        """End every app (``_end``), together."""
        await asyncio.gather(*(self._end(app) for app in list(self.apps)))

    async def on_shutdown(self, app: web.Application) -> None:
        await self.stop_apps()

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        """The page; with ``token_in_urls``, its websocket and static URLs hold the token."""
        if not self.token_in_urls:
            response: web.StreamResponse = await super().handle_index(request)
            return response
        ws_root = "ws:" + self.public_url.split(":", 1)[1]
        context = {
            "font_size": 16,
            "app_websocket_url": f"{ws_root}/{self.token}/ws",
            "config": {"static": {"url": f"{self.public_url}/{self.token}/static/"}},
            "application": {"name": self.title},
        }
        return aiohttp_jinja2.render_template("app_index.html", request, context)

    def _given(self, request: web.Request) -> str | None:
        """The token the request carries: in its query, its path (``token_in_urls``) or
        its cookie."""
        given = request.query.get("token")
        if given is not None:
            return given
        first = request.path.lstrip("/").split("/", 1)[0]
        if self.token_in_urls:  # no cookie in a frame
            return first if _same(first, self.token) else None
        return request.cookies.get(self.cookie)

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        given = request.query.get("token")
        if not _same(self._given(request) or "", self.token):
            return web.Response(
                status=403,
                text="crmtui: open the link with its token, as printed by `crmtui serve`.\n",
            )
        if request.path in ("/ws", f"/{self.token}/ws") and not self._same_origin(request):
            return web.Response(status=403, text="crmtui: not from this page.\n")
        response = await handler(request)
        if given is not None and not isinstance(response, web.WebSocketResponse):
            if not self.token_in_urls:
                response.set_cookie(
                    self.cookie, self.token, httponly=True, samesite="Strict", path="/"
                )
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
            access_log_class=AccessLog,
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


# what stopping a server served in the background may take: its apps ended (told to quit,
# terminated, killed: ``TokenServer._end``), its websockets closed
STOP_SECONDS = QUIT_SECONDS + 3 * TERM_SECONDS + CLOSE_SECONDS + 2


class Background:
    """A ``TokenServer`` on a thread of its own, for a notebook (``serve_in_background``):
    its ``link`` opens the app; ``stop`` ends it, and the apps it started."""

    def __init__(self, server: TokenServer, sock: socket.socket) -> None:
        self.server = server
        self.loop = asyncio.new_event_loop()
        self._sock = sock
        self._runner: web.AppRunner | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="crmtui-serve", daemon=True)

    @property
    def link(self) -> str:
        return self.server.link

    def start(self) -> Background:
        self.thread.start()
        self._started.wait()
        if self._error is not None:
            raise self._error
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self._runner = self.loop.run_until_complete(self._listen())
        except BaseException as exc:  # the caller raises it
            self._error = exc
            self._started.set()
            self.loop.close()
            return
        self._started.set()
        try:
            self.loop.run_forever()
        finally:
            self._drain()
            self.loop.close()

    def _drain(self) -> None:
        """Let what the server left running end (the apps' processes being stopped)
        before the loop closes: their transports close on it."""
        tasks = asyncio.all_tasks(self.loop)
        with contextlib.suppress(Exception):
            if tasks:  # the apps have ended (``stop``): what is left ends within a moment
                self.loop.run_until_complete(asyncio.wait(tasks, timeout=TERM_SECONDS))
            for task in tasks:
                task.cancel()
            self.loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            # textual-serve leaves an ended app's subprocess transport to the collector,
            # which closes it on its loop: collected while the loop still runs
            gc.collect()
            self.loop.run_until_complete(asyncio.sleep(0))
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())

    async def _listen(self) -> web.AppRunner:
        runner = web.AppRunner(
            await self.server._make_app(),
            handle_signals=False,
            access_log=None,
            shutdown_timeout=TERM_SECONDS,  # after the apps have ended (``on_shutdown``)
        )
        await runner.setup()
        await web.SockSite(runner, self._sock).start()
        return runner

    @property
    def running(self) -> bool:
        return self.thread.is_alive()

    def stop(self) -> None:
        """Close the server, end the apps it runs (told to quit, then terminated, then
        killed: within ``STOP_SECONDS``) and its thread."""
        if not self.running:
            return
        if self._runner is not None:
            done = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self.loop)
            with contextlib.suppress(Exception):
                done.result(timeout=STOP_SECONDS)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=TERM_SECONDS + 3)


def serve_in_background(command: Sequence[str], *, host: str = "127.0.0.1") -> Background:
    """Serve ``command`` (the app) on ``host`` (loopback) and a free port, on a thread:
    for a page shown in a frame (``token_in_urls``), behind a fresh secret token."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    server = TokenServer(
        shlex.join(command), host=host, port=port, token=new_token(), token_in_urls=True
    )
    return Background(server, sock).start()


# -- the app a notebook serves ------------------------------------------------------------


def app_command(*args: str) -> list[str]:
    """The command that runs ``app_main`` with ``args``, in this Python."""
    return [sys.executable, "-m", "crmtui.serve", *args]


def app_main(argv: Sequence[str] | None = None) -> int:
    """``python -m crmtui.serve``: the app on one demo vendor or one profile of a config,
    on the cache file ``--store`` (the notebook's, so both see what either fetched)."""
    parser = argparse.ArgumentParser(
        prog="python -m crmtui.serve",
        description="the crmtui app a notebook serves (crmtui's Client.app())",
    )
    parser.add_argument("--store", type=Path, required=True, help="the cache file")
    parser.add_argument("--demo", metavar="VENDOR", help="a demo sandbox, in-process")
    parser.add_argument("--seed", type=int, default=0, help="the demo data's seed")
    parser.add_argument("--now", help="the demo's clock (ISO 8601), as the notebook's")
    parser.add_argument("--profile", help="a profile of the config")
    parser.add_argument("--config", type=Path, help="the config file")
    args = parser.parse_args(argv)

    from crmtui.config import Config
    from crmtui.fields import parse_datetime
    from crmtui.model import utcnow
    from crmtui.service import open_crm
    from crmtui.ui.app import CrmApp
    from crmtui.ui.launch import demo_config, demo_crm

    if args.demo:
        now = parse_datetime(args.now) if args.now else None
        crm, _ = demo_crm(
            vendors=[args.demo], seed=args.seed, now=now or utcnow(), store_path=args.store
        )
        app = CrmApp(crm, title="crmtui demo", config=demo_config())
    else:
        config = Config.load(args.config)
        if args.profile not in config.profiles:
            parser.error(f"{config.path} has no profile {args.profile!r}")
        profile = config.profiles[args.profile].resolve()
        app = CrmApp(open_crm([profile], store=args.store), title="crmtui", config=config)
    app.run()
    return app.return_code or 0


if __name__ == "__main__":
    sys.exit(app_main())
