"""`crmtui serve --demo` in a real headless Chromium: the home screen reaches the page.

The browser is driven over the Chrome DevTools Protocol (aiohttp, which textual-serve
already brings): it opens the page, and the test reads the websocket frames the page
receives from the app until the home screen's title is among them, then takes a
screenshot to check that the terminal was drawn (not a blank page).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.helpers.net import free_port, wait_port
from tests.helpers.waits import eventually

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
HOME_TEXT = "your CRM profiles"
DRAWN = 20_000  # bytes: a screenshot of a blank page is far smaller
ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.loopback,
    pytest.mark.skipif(
        CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)"
    ),
]


@contextlib.contextmanager
def running(
    command: list[str], env: dict[str, str], stdout: int = subprocess.DEVNULL
) -> Iterator[subprocess.Popen[bytes]]:
    """A child process in its own group, ended (with its children) afterwards."""
    proc = subprocess.Popen(
        command, env=env, stdout=stdout, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 15)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait(5)


class Cdp:
    """The smallest Chrome DevTools Protocol client: commands and the events seen."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.next_id = 0
        self.events: list[dict[str, Any]] = []
        self.replies: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            data = json.loads(message.data)
            if "id" in data and data["id"] in self.replies:
                self.replies.pop(data["id"]).set_result(data)
            else:
                self.events.append(data)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.replies[self.next_id] = future
        await self.ws.send_json({"id": self.next_id, "method": method, "params": params})
        reply = await asyncio.wait_for(future, 30)
        assert "error" not in reply, reply
        return reply.get("result", {})

    def frames(self) -> bytes:
        """Every websocket payload the page received, ANSI codes removed."""
        out = []
        for event in self.events:
            if event.get("method") == "Network.webSocketFrameReceived":
                response = event["params"]["response"]
                data = response["payloadData"]
                out.append(base64.b64decode(data) if response["opcode"] == 2 else data.encode())
        return ANSI.sub(b"", b"".join(out))


@contextlib.asynccontextmanager
async def browser(tmp_path: Path) -> AsyncIterator[Cdp]:
    profile = tmp_path / "chromium"
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,800",
        f"--user-data-dir={profile}",
        "--remote-debugging-port=0",
        "about:blank",
    ]
    with running(command, dict(os.environ)):
        active = profile / "DevToolsActivePort"
        await eventually(lambda: active.exists() and len(active.read_text().split()) >= 2, 30)
        port = int(active.read_text().split()[0])
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/json/list") as reply:
                targets = await reply.json()
            page = next(t for t in targets if t["type"] == "page")
            async with session.ws_connect(
                page["webSocketDebuggerUrl"], max_msg_size=64 * 2**20
            ) as ws:
                cdp = Cdp(ws)
                try:
                    yield cdp
                finally:
                    cdp.reader.cancel()


async def test_serve_demo_shows_the_home_screen_in_a_browser(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "CRMTUI_HOME": str(tmp_path / "home")}
    command = [sys.executable, "-m", "crmtui", "serve", "--demo", "--port", str(port)]
    with running(command, env, stdout=subprocess.PIPE) as server:
        assert server.stdout is not None
        link = server.stdout.readline().decode().split()[-1]  # the link with its token
        assert link.startswith(f"http://127.0.0.1:{port}/?token=")
        wait_port(port)
        async with browser(tmp_path) as cdp:
            await cdp.send("Network.enable")
            await cdp.send("Page.enable")
            await cdp.send("Page.navigate", url=link)
            await eventually(lambda: HOME_TEXT.encode() in cdp.frames(), 60)
            # xterm draws the frames it has: screenshots until one is not blank
            shots: list[bytes] = []
            deadline = time.monotonic() + 30
            while not shots or (len(shots[-1]) <= DRAWN and time.monotonic() < deadline):
                shot = await cdp.send("Page.captureScreenshot", format="png")
                shots.append(base64.b64decode(shot["data"]))
    png = shots[-1]
    (tmp_path / "serve.png").write_bytes(png)
    assert png.startswith(b"\x89PNG") and len(png) > DRAWN, "the page looks blank"
