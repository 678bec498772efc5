"""URL policy: https to vendors, plain http only to loopback."""

from __future__ import annotations

import pytest

from crmtui.http import InsecureURL
from crmtui.http.urls import check_base_url, is_loopback_host


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
        ("a.b.localhost", True),
        ("example.com", False),
        ("notlocalhost", False),
        ("192.168.1.2", False),
    ],
)
def test_is_loopback_host(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback
