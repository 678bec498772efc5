"""`crmtui serve`: loopback only unless confirmed, and nothing without the printed token."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import httpx
import pytest

from crmtui.cli import main
from tests.helpers.net import free_port, wait_port

pytestmark = pytest.mark.loopback


@contextlib.contextmanager
def served(home: Path) -> Iterator[tuple[int, str]]:
    """`crmtui serve --demo` in a child process: its port and the link it printed."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "crmtui", "serve", "--demo", "--port", str(port)],
        env={**os.environ, "CRMTUI_HOME": str(home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "token=" in line, line + (proc.stderr.read() if proc.stderr else "")
        link = line.split()[-1]
        wait_port(port)
        yield port, link
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


@pytest.mark.parametrize(
    # crm.localhost: a NAME.localhost is looked up like any name (nsswitch "files dns"),
    # so a resolver may answer with a network address; only literal loopback counts.
    "host",
    ["0.0.0.0", "192.168.1.5", "::", "example.com", "crm.localhost", "localhost.example.com"],
)
def test_serve_refuses_a_non_loopback_host_without_allow_remote(
    host: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--host", host, "--port", str(free_port())]) == 2
    err = capsys.readouterr().err
    assert host in err and "--allow-remote" in err
    assert len(err.strip().splitlines()) == 1


def test_serve_refuses_a_non_loopback_host_from_the_command_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "crmtui", "serve", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "CRMTUI_HOME": str(tmp_path)},
    )
    assert result.returncode == 2
    assert "--allow-remote" in result.stderr and "token" not in result.stdout


async def test_the_app_opens_only_with_the_printed_token(tmp_path: Path) -> None:
    with served(tmp_path) as (port, link):
        root = f"http://127.0.0.1:{port}"
        assert link.startswith(f"{root}/?token=")
        token = link.split("token=", 1)[1]
        assert len(token) >= 32
        async with httpx.AsyncClient() as client:
            for url in (
                f"{root}/",
                f"{root}/?token=",
                f"{root}/?token=wrong",
                f"{root}/?token={token[:-1]}",
                f"{root}/?token={token}x",
                f"{root}/static/js/textual.js",
                f"{root}/ws",
            ):
                reply = await client.get(url)
                assert reply.status_code == 403, url
                assert "textual" not in reply.text.lower(), url
            async with httpx.AsyncClient(cookies={f"crmtui_token_{port}": "nope"}) as other:
                assert (await other.get(f"{root}/")).status_code == 403

            page = await client.get(link)
            assert page.status_code == 200
            assert "data-session-websocket-url" in page.text
            cookie = page.cookies.get(f"crmtui_token_{port}")
            assert cookie == token
            assert "httponly" in page.headers["set-cookie"].lower()
            assert "samesite=strict" in page.headers["set-cookie"].lower()
            static = await client.get(f"{root}/static/js/textual.js")  # the cookie now
            assert static.status_code == 200

        async with aiohttp.ClientSession() as session:
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(f"ws://127.0.0.1:{port}/ws")
            assert refused.value.status == 403
            with pytest.raises(aiohttp.WSServerHandshakeError) as foreign:
                await session.ws_connect(
                    f"ws://127.0.0.1:{port}/ws",
                    headers={
                        "Cookie": f"crmtui_token_{port}={token}",
                        "Origin": "http://evil.example",
                    },
                )
            assert foreign.value.status == 403
            ws = await session.ws_connect(
                f"ws://127.0.0.1:{port}/ws",
                headers={"Cookie": f"crmtui_token_{port}={token}", "Origin": root},
            )
            await ws.close()


def test_a_taken_port_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "crmtui", "serve", "--demo", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, "CRMTUI_HOME": str(tmp_path)},
        )
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"crmtui: serve: cannot listen on 127.0.0.1:{port}")
    assert "token=" not in result.stdout  # the link is printed only once it listens


def test_an_ipv6_loopback_host_in_brackets_is_bound(tmp_path: Path) -> None:
    """``--host [::1]`` (as written in a URL) is the address ::1, not a name to resolve."""
    if not socket.has_ipv6:
        pytest.skip("no IPv6 here")
    with socket.socket(socket.AF_INET6) as taken:
        try:
            taken.bind(("::1", 0))
        except OSError:
            pytest.skip("no ::1 here")
        taken.listen()
        port = taken.getsockname()[1]
        port_args = ("--port", str(port))
        result = subprocess.run(
            [*(sys.executable, "-m", "crmtui", "serve", "--demo"), "--host", "[::1]", *port_args],
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, "CRMTUI_HOME": str(tmp_path)},
        )
    # the port is taken on ::1 itself: binding reached the address (no resolver error)
    assert result.returncode == 1
    assert "Name or service not known" not in result.stderr
    assert f"cannot listen on [::1]:{port}" in result.stderr or f"::1:{port}" in result.stderr
