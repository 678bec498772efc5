"""httpx and httpcore log full URLs and headers themselves: no secret may reach them."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from benchmarks.soak import no_sleep, profile_for, unpace
from crmtui import sandbox
from crmtui.http import Http, RateBudget, RateLimiter
from crmtui.http.log import REDACTED
from crmtui.model import Query
from crmtui.sandbox.serve import serving
from crmtui.service import Crm
from crmtui.store import Store
from crmtui.vendors.salesseek import SalesSeek

SECRET = "sk-live-7f3a9c1e5b"


@pytest.fixture
def library_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    for name in ("httpx", "httpcore"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


@pytest.mark.loopback
@pytest.mark.off_contract  # a raw request with secrets in its query, not an adapter's
async def test_a_secret_in_a_query_string_never_reaches_the_httpx_log(
    library_logs: pytest.LogCaptureFixture,
) -> None:
    app = sandbox.create_app("freshsales", rate_limit=False)
    http = Http(sleep=no_sleep, max_retries=0)
    try:
        with serving(app) as origin:
            session = http.session(
                profile="p",
                vendor="Freshsales",
                base_url=origin + "/api/",
                auth=None,
                limiter=RateLimiter(RateBudget(100, 1)),
                secrets=(SECRET,),
            )
            for params in ({"token": SECRET}, {"api_key": "unregistered-but-named"}):
                await session.request("GET", "search", params=params, expect_json=False)
    except Exception:  # the sandbox's 401 is beside the point
        pass
    finally:
        await http.aclose()
    lines = [r.getMessage() for r in library_logs.records if r.name.startswith("httpx")]
    assert any("HTTP Request: GET" in line for line in lines), "httpx logged nothing"
    assert SECRET not in library_logs.text
    assert "unregistered-but-named" not in library_logs.text
    assert f"token={REDACTED}" in library_logs.text


@pytest.mark.loopback
async def test_the_salesseek_session_cookie_is_a_secret_once_obtained(
    tmp_path: Path, library_logs: pytest.LogCaptureFixture
) -> None:
    app = sandbox.create_app("salesseek", rate_limit=False)
    with serving(app) as origin:
        http = Http(sleep=no_sleep)
        crm = Crm(Store(tmp_path / "cache.sqlite3"), http, [profile_for("salesseek", origin)])
        unpace(crm)
        try:
            await crm.refresh("salesseek", "contact", Query(per_page=5))
            adapter = crm.adapter("salesseek")
            assert isinstance(adapter, SalesSeek)
            cookie = adapter.auth.cookie
            assert cookie and http.redact(f"salesseek={cookie}") == f"salesseek={REDACTED}"
            assert http.redact(f"the session {cookie} expired") == f"the session {REDACTED} expired"
        finally:
            await crm.close()
            await http.aclose()
            crm.store.close()
    assert any(r.name.startswith("httpcore") for r in library_logs.records)
    assert cookie not in library_logs.text  # nor in httpcore's trace of the login's headers
    password = profile_for("salesseek", origin).secret("password")
    assert password not in library_logs.text
