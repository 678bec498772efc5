"""`crm.app()`: the whole app in a notebook cell, served by textual-serve on loopback.

Headless: the frame's page is fetched as a browser in an iframe would (no cookie: a
frame on another site than the notebook's page gets none), its websocket opened with
the page's own origin, and the terminal output read until the home screen is drawn.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import pytest

from crmtui.api import AppFrame, Client, open_demo
from tests.helpers.net import listening

pytestmark = pytest.mark.loopback

HOME_TEXT = b"your CRM profiles"
ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture
async def crm(tmp_path: Path) -> AsyncIterator[Client]:
    client = await open_demo("freshsales", store_path=tmp_path / "cache.sqlite3")
    try:
        yield client
    finally:
        await client.close()


async def frame_socket(
    frame: AppFrame, session: aiohttp.ClientSession
) -> aiohttp.ClientWebSocketResponse:
    """The frame page's websocket, opened as its script does (no cookie, its origin)."""
    async with session.get(frame.link) as reply:
        page = await reply.text()
    found = re.search(r'data-session-websocket-url="([^"]+)"', page)
    assert found is not None
    origin = "http://" + urlsplit(frame.link).netloc
    url = found.group(1) + "?width=120&height=36"
    return await session.ws_connect(url, headers={"Origin": origin})


async def home_screen_drawn(frame: AppFrame, *, timeout: float = 60) -> bytes:
    """Open the frame's page and its websocket as the page would; the terminal output
    once the home screen's words are in it."""
    async with aiohttp.ClientSession() as browser, browser.get(frame.link) as reply:
        assert reply.status == 200
        page = await reply.text()
    found = re.search(r'data-session-websocket-url="([^"]+)"', page)
    script = re.search(r'<script src="([^"]+)"', page)
    assert found is not None and script is not None
    origin = "http://" + urlsplit(frame.link).netloc
    async with aiohttp.ClientSession() as frame_session:  # no cookie, as in an iframe
        async with frame_session.get(script.group(1)) as reply:
            assert reply.status == 200  # the page's script, by the token in its path
        url = found.group(1) + "?width=120&height=36"  # as the page's script asks
        async with frame_session.ws_connect(url, headers={"Origin": origin}) as ws:
            seen = b""
            deadline = time.monotonic() + timeout
            while HOME_TEXT not in ANSI.sub(b"", seen):
                assert time.monotonic() < deadline, seen[-2000:]
                message = await ws.receive(timeout=timeout)
                assert message.type in (aiohttp.WSMsgType.BINARY, aiohttp.WSMsgType.TEXT)
                data = message.data
                seen += data if isinstance(data, bytes) else data.encode()
            return seen


@pytest.mark.slow
async def test_the_app_renders_its_home_screen_in_the_frame(crm: Client) -> None:
    frame = crm.app()
    assert crm.app() is frame  # one server per client
    html = frame._repr_html_()
    assert html.startswith("<iframe ") and frame.link.replace("&", "&amp;") in html
    assert frame.link.startswith("http://127.0.0.1:") and "token=" in frame.link
    assert "token" not in repr(frame)  # a text output may be shared
    drawn = ANSI.sub(b"", await home_screen_drawn(frame))
    assert b"demo-freshsales" in drawn  # the client's profile


async def test_the_app_shares_the_notebook_cache(crm: Client) -> None:
    frame = crm.app()
    store = crm.service.store.path
    assert store is not None
    command = frame._served.server.command
    assert f"--store {store}" in command and "--demo freshsales" in command


async def test_nothing_is_served_without_the_token(crm: Client) -> None:
    frame = crm.app()
    root = frame.link.split("/?token=")[0]
    wrong = "x" * len(frame.link.split("token=")[1])
    async with aiohttp.ClientSession() as stranger:
        for path in ("/", "/ws", "/static/js/textual.js", f"/{wrong}/static/js/textual.js"):
            async with stranger.get(root + path) as reply:
                assert reply.status == 403, path
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await stranger.ws_connect(f"{root}/{wrong}/ws")


async def test_the_websocket_refuses_another_origin(crm: Client) -> None:
    frame = crm.app()
    token = frame.link.split("token=")[1]
    root = frame.link.split("/?token=")[0]
    async with aiohttp.ClientSession() as page:
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await page.ws_connect(f"{root}/{token}/ws", headers={"Origin": "http://evil.test"})


async def test_close_stops_the_server(tmp_path: Path) -> None:
    crm = await open_demo("freshsales", store_path=tmp_path / "cache.sqlite3")
    frame = crm.app()
    port = urlsplit(frame.link).port
    assert port is not None and listening(port)
    await crm.close()
    assert not frame.running and not listening(port)
    assert "stopped" in frame._repr_html_() and "token" not in frame._repr_html_()


@pytest.mark.slow
async def test_o_in_the_frame_opens_the_record_in_the_users_browser(crm: Client) -> None:
    """The browser build: ``App.open_url`` reaches the page (textual-serve's "open_url"),
    which opens it in the user's browser."""
    frame = crm.app()
    async with aiohttp.ClientSession() as session:
        ws = await frame_socket(frame, session)
        async with ws:
            seen, opened = b"", None
            deadline = time.monotonic() + 90
            while HOME_TEXT not in ANSI.sub(b"", seen):
                assert time.monotonic() < deadline
                message = await ws.receive(timeout=60)
                seen += message.data if isinstance(message.data, bytes) else b""
            await ws.send_json(["stdin", "\r"])  # the profile: its first tab, a row
            while opened is None:
                assert time.monotonic() < deadline, "no open_url reached the page"
                await ws.send_json(["stdin", "o"])  # o on the home screen: nothing
                with contextlib.suppress(TimeoutError):
                    message = await ws.receive(timeout=1)
                    if message.type == aiohttp.WSMsgType.TEXT and "open_url" in message.data:
                        opened = json.loads(message.data)
    assert opened[0] == "open_url"
    assert opened[1]["url"].startswith("https://sandbox.freshsales.io/contacts/")
