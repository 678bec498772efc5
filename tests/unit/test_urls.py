"""URL policy: https to vendors, plain http only to loopback."""

from __future__ import annotations

import httpx
import pytest

from crmtui.http import Http, InsecureURL, RateBudget, RateLimiter
from crmtui.http.auth import bearer
from crmtui.http.urls import check_base_url, is_local_name, is_loopback_host, shown


@pytest.mark.parametrize(
    "url",
    [
        "https://acme.myfreshworks.com/crm/sales/api",
        "https://api.salesloft.com/v2",
        "http://127.0.0.1:8000",
        "http://127.0.0.5/api",
        "http://[::1]:8765/api/3",
        "http://localhost:9000",
        "http://LOCALHOST:9000",
        "http://freshsales.localhost",
        "http://freshsales.localhost:8080/api",
    ],
)
def test_accepted(url: str) -> None:
    assert check_base_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://acme.myfreshworks.com/crm/sales/api",
        "http://localhost.evil.example",
        "http://127.0.0.1.nip.io",
        "http://10.0.0.1",
        "http://0.0.0.0:8000",
        "http://[::2]",
    ],
)
def test_plain_http_to_a_remote_host_is_refused(url: str) -> None:
    with pytest.raises(InsecureURL) as caught:
        check_base_url(url)
    message = str(caught.value)
    assert url in message
    assert "use https" in message
    assert "loopback" in message


@pytest.mark.parametrize(
    "url", ["ftp://example.com", "acme.myfreshworks.com", "https://", "", "file:///etc/x"]
)
def test_not_a_web_url_is_refused(url: str) -> None:
    with pytest.raises(InsecureURL, match="not an http"):
        check_base_url(url)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("127.5.6.7", True),
        ("a.b.localhost", False),  # DNS may answer it (nsswitch "hosts: files dns")
        ("crm.localhost", False),
        ("localhost.", False),
        ("example.com", False),
        ("notlocalhost", False),
        ("192.168.1.2", False),
        ("::ffff:127.0.0.1", False),
    ],
)
def test_is_loopback_host(host: str, loopback: bool) -> None:
    """Loopback means no DNS answer can move it: a literal address or exactly localhost."""
    assert is_loopback_host(host) is loopback


@pytest.mark.parametrize(
    ("host", "local"),
    [
        ("freshsales.localhost", True),
        ("a.b.localhost", True),
        ("localhost", False),
        ("evil.com%2f.localhost", False),
        (".localhost", False),
        ("localhost.evil.example", False),
    ],
)
def test_is_local_name(host: str, local: bool) -> None:
    assert is_local_name(host) is local


async def test_an_unmounted_localhost_name_is_never_sent_to_the_network() -> None:
    """``http://NAME.localhost`` is only for in-process sandboxes: the system resolver
    would ask DNS for it, and a DNS answer must not decide where a key goes in clear."""
    sent: list[httpx.Request] = []

    def network(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={})

    http = Http(network=httpx.MockTransport(network), max_retries=0)

    def session(base_url: str) -> object:
        return http.session(
            profile="p",
            vendor="Acme CRM",
            base_url=base_url,
            auth=bearer("tok-secret-123"),
            limiter=RateLimiter(RateBudget(10, 1)),
        )

    try:
        with pytest.raises(InsecureURL, match=r"127\.0\.0\.1:8001") as caught:
            session("http://crm.localhost:18569/api/")
        assert "not an in-process sandbox" in str(caught.value)
        with pytest.raises(httpx.ConnectError, match="not an in-process sandbox"):
            await http.client.get("http://crm.localhost:18569/api/contacts")
        assert sent == []  # nothing went to the network (nor to DNS)
        http.mount_app("http://crm.localhost:18569", _answering_app())
        reached = session("http://crm.localhost:18569/api/")
        assert await reached.json("GET", "contacts") == {"in": "process"}  # type: ignore[attr-defined]
        assert sent == []
    finally:
        await http.aclose()


def _answering_app() -> object:
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    return Starlette(routes=[Route("/api/contacts", lambda r: JSONResponse({"in": "process"}))])


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:80:81/",
        "http://127.0.0.1:99999/",
        "https://acme.freshsales.io:port/api/",
        "https://u:SUPER/SECRET123@acme.freshsales.io/api/",
        "http://[::1%25eth0]/",
        "http://evil.com%2f.localhost/api/",
        "https://acme.freshsales.io%40evil.com/",
        "http://localhost%09/",
    ],
)
def test_a_url_with_a_bad_port_or_host_is_refused_with_an_example(url: str) -> None:
    with pytest.raises(InsecureURL) as caught:
        check_base_url(url)
    message = str(caught.value)
    assert "e.g." in message or "profile's secret settings" in message
    assert "SECRET123" not in message


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://rep:hunter2-secret@acme.freshsales.io/api", "user name or password"),
        ("https://hunter2-secret@acme.freshsales.io/api", "user name or password"),
        ("https://acme.freshsales.io/api?api_key=hunter2-secret", "query"),
        ("https://acme.freshsales.io/api#hunter2-secret", "fragment"),
    ],
)
def test_a_base_url_is_the_api_root_only(url: str, why: str) -> None:
    with pytest.raises(InsecureURL, match=why) as caught:
        check_base_url(url)
    assert "hunter2" not in str(caught.value)  # the message never shows the secret


def test_shown_drops_what_may_be_secret() -> None:
    assert shown("https://u:p@h.example:8443/a/b?k=v#f") == "https://h.example:8443/a/b"


async def test_a_session_fetches_absolute_urls_only_on_its_own_origin() -> None:
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={})

    http = Http(network=httpx.MockTransport(answer))
    session = http.session(
        profile="p",
        vendor="Acme CRM",
        base_url="https://acme.example/api/",
        auth=bearer("tok-secret-123"),
        limiter=RateLimiter(RateBudget(10, 1)),
    )
    try:
        assert await session.json("GET", "https://acme.example/api/contacts?page=2") == {}
        for elsewhere in (
            "https://evil.example/api/contacts?page=3",
            "https://acme.example:8443/api/contacts",
            "https://acme.example.evil.example/api/contacts",
            "https://x:y@acme.example/api/contacts",
        ):
            with pytest.raises(InsecureURL):
                await session.json("GET", elsewhere)
    finally:
        await http.aclose()
    assert [str(r.url) for r in sent] == ["https://acme.example/api/contacts?page=2"]
