"""Only a 2xx is success: a delete or a note answered with a redirect is not done.

The sandbox answers the next write with 301/302/303/307/308 to another host (as a wrong
domain or a network's sign-in page would) and applies nothing. The change must stay in
the outbox (not done), with an error naming that host and the config.toml keys to
check; the record is still there on the vendor's side and the note was never created.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from benchmarks.soak import VENDORS
from crmtui.http import CrmError, Redirected
from crmtui.model import Change, ChangeState, Query
from crmtui.sandbox.faults import REDIRECTS
from tests.helpers.reliability import ArmWrites, Rig

TARGET = "https://portal.elsewhere.example"


def redirected(rig: Rig, status: str) -> ArmWrites:
    writes = ArmWrites(rig.app)
    rig.crm.http.mount_app(f"http://{rig.vendor}.localhost", writes)
    rig.app.state.faults.update({"redirect_to": TARGET})
    writes.armed.append(status)
    return writes


def assert_not_done(rig: Rig, change: Change, writes: ArmWrites) -> str:
    assert not writes.armed, f"{rig.vendor}: no write was sent"
    stored = rig.crm.store.get_change(change.id)
    assert stored is not None, f"{rig.vendor}: the change was lost"
    assert stored.state is not ChangeState.DONE, f"{rig.vendor}: a redirect counted as done"
    error = stored.last_error or ""
    assert error.startswith(f"{rig.label}: "), error
    assert "portal.elsewhere.example" in error and "config.toml" in error, error
    assert "unreadable" not in error
    return error


@pytest.mark.parametrize("status", REDIRECTS)
@pytest.mark.parametrize("vendor", VENDORS)
async def test_a_redirected_delete_is_not_done(
    rigs: Callable[..., Rig], vendor: str, status: str
) -> None:
    rig = rigs(vendor)
    ref = await rig.some()
    writes = redirected(rig, status)
    change = await rig.crm.delete(ref)
    await rig.settle()
    assert_not_done(rig, change, writes)
    rig.repair()
    still = await rig.crm.adapter(vendor).get(ref.kind, ref.id)  # the vendor still has it
    assert still.id == ref.id


@pytest.mark.parametrize("status", REDIRECTS)
@pytest.mark.parametrize("vendor", VENDORS)
async def test_a_redirected_note_is_not_done(
    rigs: Callable[..., Rig], vendor: str, status: str
) -> None:
    rig = rigs(vendor)
    ref = await rig.some(rig.plan.browse)
    writes = redirected(rig, status)
    text = f"redirected note {status}"
    change = await rig.crm.add_note(ref, text)
    await rig.settle()
    assert_not_done(rig, change, writes)
    rig.repair()
    timeline = await rig.crm.adapter(vendor).timeline(ref.kind, ref.id)
    assert not [a for a in timeline if text in f"{a.summary} {a.body}"]


async def test_the_error_is_typed_and_says_where_it_went(rigs: Callable[..., Rig]) -> None:
    rig = rigs("salesforceiq")
    ref = await rig.some(rig.plan.browse)
    redirected(rig, "302")
    with pytest.raises(CrmError) as caught:
        await rig.crm.call("salesforceiq", rig.crm.adapter("salesforceiq").add_note(ref, "x"))
    assert isinstance(caught.value, Redirected)
    assert caught.value.maybe_applied is False
    assert "another host, portal.elsewhere.example" in str(caught.value)


class Redirect:
    """In front of a sandbox: answers the first request of ``method`` (``"write"``: any
    but GET) with a redirect."""

    def __init__(self, app: Any, method: str, location: str, status: int = 302) -> None:
        self.app, self.method, self.location, self.status = app, method, location, status
        self.sent = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        login = str(scope.get("path", "")).endswith("/login")
        method = scope.get("method")
        wanted = method != "GET" if self.method == "write" else method == self.method
        if scope["type"] == "http" and wanted and not login:
            self.sent += 1
            if self.sent == 1:
                headers = {"Location": self.location}
                await Response(status_code=self.status, headers=headers)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class Witness:
    """Another server: records what reached it (it must be nothing)."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.seen.append({k.decode(): v.decode() for k, v in scope["headers"]})
            await JSONResponse({})(scope, receive, send)


@pytest.mark.parametrize(
    "where", ["https://freshsales.localhost", "http://freshsales.localhost:8080"]
)
async def test_a_documented_read_redirect_goes_to_the_same_origin_only(
    rigs: Callable[..., Rig], where: str
) -> None:
    """Freshsales documents 301/302 on reads; crmtui follows them only to the same scheme,
    host and port: an http->https "upgrade" is port 443, another server, and the
    Authorization header must not go there."""
    rig = rigs("freshsales")
    await rig.some()
    other = Witness()
    rig.crm.http.mount_app(where, other)
    rig.crm.http.mount_app(
        "http://freshsales.localhost",
        Redirect(rig.app, "GET", f"{where}/api/contacts/view/1", status=301),
    )
    with pytest.raises(Redirected, match="was answered with a redirect"):
        await rig.crm.refresh("freshsales", "contact", Query(per_page=3))
    assert other.seen == []


@pytest.mark.parametrize(
    "where", ["https://evil.example:99999/", "http://[evil/", "https://evil.example:port/"]
)
@pytest.mark.parametrize("vendor", VENDORS)
async def test_a_write_redirected_to_no_valid_address_is_redirected_not_dropped(
    rigs: Callable[..., Rig], vendor: str, where: str
) -> None:
    """httpx raises on a Location it cannot parse, even when it does not follow it: that
    read as "the connection was dropped after sending" (maybe applied). It is a redirect,
    the write was not applied, and the error says so."""
    rig = rigs(vendor)
    ref = await rig.some()
    change = rig.update_of(ref, "redirected")
    gate = Redirect(rig.app, "write", where)
    rig.crm.http.mount_app(f"http://{vendor}.localhost", gate)
    with pytest.raises(CrmError) as caught:
        await rig.crm.call(vendor, rig.crm.adapter(vendor).update(change))
    assert gate.sent == 1, f"{vendor}: no write, or more than one, was sent"
    assert isinstance(caught.value, Redirected), str(caught.value)
    assert "no valid address" in str(caught.value) and "dropped" not in str(caught.value)
    assert caught.value.maybe_applied is False
