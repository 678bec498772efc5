"""`crmtui serve`: loopback only unless confirmed, and nothing without the printed token."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import httpx
import pytest

from crmtui.cli import main
from tests.helpers.net import free_port, wait_port

pytestmark = pytest.mark.loopback


@dataclass
class Served:
    """`crmtui serve --demo` running in a child process."""

    port: int
    link: str
    proc: subprocess.Popen[str]

    @property
    def token(self) -> str:
        return self.link.split("token=", 1)[1]

    def stop(self) -> str:
        """Stop it (SIGTERM, as Ctrl+C does); what it printed after the link."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            out, err = self.proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            out, err = self.proc.communicate(timeout=5)
        return out + err


@contextlib.contextmanager
def served(home: Path) -> Iterator[Served]:
    """`crmtui serve --demo` in a child process, until the block ends."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "crmtui", "serve", "--demo", "--port", str(port)],
        env={**os.environ, "CRMTUI_HOME": str(home), "COLUMNS": "200"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "token=" in line, line + (proc.stderr.read() if proc.stderr else "")
        wait_port(port)
        yield Served(port, line.split()[-1], proc)
    finally:
        if proc.poll() is None:
            Served(port, "", proc).stop()


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
    with served(tmp_path) as server:
        port, link = server.port, server.link
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


async def test_the_access_log_never_holds_the_token(tmp_path: Path) -> None:
    """Each request is logged, by its path, with no query and no token in it."""
    with served(tmp_path) as server:
        root = f"http://127.0.0.1:{server.port}"
        async with httpx.AsyncClient() as client:
            assert (await client.get(server.link)).status_code == 200
            js = f"{root}/static/js/textual.js"
            assert (await client.get(f"{js}?token={server.token}")).status_code == 200
            assert (await client.get(f"{root}/?token=wrong")).status_code == 403
            assert (await client.get(f"{root}/{server.token}/x")).status_code == 404
        printed = server.stop()
    assert "/static/js/textual.js" in printed  # the log is there
    assert "?token" not in printed
    assert server.token not in "".join(printed.split())  # nor across a wrapped line


async def test_two_servers_keep_their_own_login(tmp_path: Path) -> None:
    """Cookies are shared by every port of 127.0.0.1: each server's has its own name,
    so opening B's link leaves A's page working."""
    with served(tmp_path / "a") as a, served(tmp_path / "b") as b:
        jar = aiohttp.CookieJar(unsafe=True)  # cookies for an IP host, as browsers keep
        async with aiohttp.ClientSession(cookie_jar=jar) as browser:
            async with browser.get(a.link) as reply:
                assert reply.status == 200
            async with browser.get(b.link) as reply:
                assert reply.status == 200
            names = {cookie.key for cookie in jar}
            assert names == {f"crmtui_token_{a.port}", f"crmtui_token_{b.port}"}
            for server in (a, b):
                root = f"http://127.0.0.1:{server.port}"
                ws = await browser.ws_connect(f"{root}/ws", headers={"Origin": root})
                await ws.close()
