"""The served app's server (crmtui.serve) on its edges: apps that will not quit, requests
that are not the page's, and what it tells about itself (no cookie in a frame, no
listing of its files, no tracebacks)."""

from __future__ import annotations

import asyncio
import logging
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import httpx
import pytest

from crmtui.serve import Background, serve_in_background
from tests.helpers.waits import eventually

pytestmark = pytest.mark.loopback

# A served command that ignores textual-serve's quit and SIGTERM, and starts a child of
# its own: both write their pid, then sleep.
STUBBORN = textwrap.dedent(
    """
    import os, signal, subprocess, sys, time
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    open(sys.argv[1], "w").write(f"{os.getpid()} {child.pid}")
    time.sleep(600)
    """
)


def alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie, ended but not reaped, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture
def background() -> Iterator[Background]:
    served = serve_in_background([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        yield served
    finally:
        served.stop()


async def test_stop_ends_an_app_that_will_not_quit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # told to quit, it has half a second before it is terminated (3 s in the product)
    monkeypatch.setattr("crmtui.serve.QUIT_SECONDS", 0.5)
    pids_file = tmp_path / "pids"
    served = serve_in_background([sys.executable, "-c", STUBBORN, str(pids_file)])
    try:
        root, token = served.server.public_url, served.server.token
        async with aiohttp.ClientSession() as page:
            ws = await page.ws_connect(f"{root}/{token}/ws", headers={"Origin": root})
            await eventually(lambda: pids_file.exists() and pids_file.read_text(), 30)
            pids = [int(pid) for pid in pids_file.read_text().split()]
            assert all(alive(pid) for pid in pids)
            await asyncio.to_thread(served.stop)
            assert not served.running
            await ws.close()
    finally:
        served.stop()
    await eventually(lambda: not any(alive(pid) for pid in pids), 5)


async def test_a_plain_get_of_the_websocket_is_a_bad_request(
    background: Background, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    root, token = background.server.public_url, background.server.token
    async with httpx.AsyncClient() as client:
        for url in (f"{root}/{token}/ws", f"{root}/ws?token={token}"):
            reply = await client.get(url)
            assert reply.status_code == 400, url
            assert "websocket" in reply.text
    assert not [record for record in caplog.records if record.exc_info], caplog.text
    assert "Traceback" not in caplog.text and "Unhandled" not in caplog.text


async def test_the_static_files_are_not_listed(background: Background) -> None:
    root, token = background.server.public_url, background.server.token
    async with httpx.AsyncClient() as client:
        for url in (
            f"{root}/{token}/static/",
            f"{root}/{token}/static/js/",
            f"{root}/static/?token={token}",
        ):
            reply = await client.get(url)
            assert reply.status_code in (403, 404), url
            assert "textual.js" not in reply.text and "Index of" not in reply.text, url
        script = await client.get(f"{root}/{token}/static/js/textual.js")
        assert script.status_code == 200  # the files themselves are served


async def test_a_frame_gets_no_cookie(background: Background) -> None:
    """In a frame the token is in the page's URLs: no cookie, which every other server on
    127.0.0.1 would be sent too."""
    async with httpx.AsyncClient() as client:
        page = await client.get(background.link)
        assert page.status_code == 200
        assert "set-cookie" not in page.headers
        root, token = background.server.public_url, background.server.token
        cookie = {"Cookie": f"crmtui_token_{background.server.port}={token}"}
        assert (await client.get(f"{root}/", headers=cookie)).status_code == 403
