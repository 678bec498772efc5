"""No write is sent twice by the transport: a note, an edit or a delete whose outcome is
unknown reaches the vendor once and comes back as an error with ``maybe_applied``.

SalesforceIQ's note is ``PUT /events``, a create: the HTTP layer used to retry it after a
lost reply, as it did every PUT, PATCH and DELETE. Each vendor's sandbox is armed so the
next write gets the fault; a counter in front of it sees how many writes arrived.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from benchmarks.soak import VENDORS
from crmtui.http import CrmError
from crmtui.model import RecordRef
from tests.helpers.reliability import Rig

# "503": some proxies answer it after passing the request on, so it is not proof that
# the write was not applied (only a 429 is; a connect error sends nothing).
UNKNOWN = ["lost", "drop", "500", "502", "503", "html", "malformed"]


class CountWrites:
    """In front of a sandbox: counts writes (not a login) and arms the next one's fault."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.writes = 0
        self.armed: str | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] != "GET"
            and not scope["path"].endswith("/login")
        ):
            self.writes += 1
            if self.armed:
                self.app.state.faults.next.appendleft(self.armed)
                self.armed = None
        await self.app(scope, receive, send)


async def send_once(rig: Rig, fault: str, work: Coroutine[Any, Any, Any]) -> None:
    """Run an adapter write through the service with ``fault`` on its first write."""
    counter = CountWrites(rig.app)
    rig.crm.http.mount_app(f"http://{rig.vendor}.localhost", counter)
    counter.armed = fault
    where = f"{rig.vendor} under {fault}"
    try:
        await rig.crm.call(rig.vendor, work)
    except CrmError as exc:
        assert exc.maybe_applied, f"{where}: {exc} does not say it may have been applied"
        assert str(exc).startswith(f"{rig.label}: ")
    else:  # a 2xx with a cut body, where the adapter needs nothing of the body: done
        assert fault == "malformed", f"{where}: no error"
    assert counter.writes == 1, f"{where}: the write was sent {counter.writes} times"


@pytest.mark.parametrize("fault", UNKNOWN)
@pytest.mark.parametrize("vendor", VENDORS)
async def test_a_note_is_sent_once(rigs: Callable[..., Rig], vendor: str, fault: str) -> None:
    rig = rigs(vendor)
    ref = await rig.some(rig.plan.browse)
    await send_once(rig, fault, rig.crm.adapter(vendor).add_note(ref, f"note {fault}"))


@pytest.mark.parametrize("fault", UNKNOWN)
@pytest.mark.parametrize("vendor", VENDORS)
async def test_an_edit_is_sent_once(rigs: Callable[..., Rig], vendor: str, fault: str) -> None:
    rig = rigs(vendor)
    ref = await rig.some()
    change = rig.update_of(ref, f"edit {fault}")
    await send_once(rig, fault, rig.crm.adapter(vendor).update(change))


class Forbid:
    """In front of a sandbox: every write (not a login) is refused 403, as ActiveCampaign
    does now and then under load."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.writes = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] != "GET"
            and not scope["path"].endswith("/login")
        ):
            self.writes += 1
            await JSONResponse({"message": "Forbidden"}, status_code=403)(scope, receive, send)
            return
        await self.app(scope, receive, send)


@pytest.mark.parametrize("vendor", VENDORS)
async def test_a_write_refused_with_403_is_not_sent_again(
    rigs: Callable[..., Rig], vendor: str
) -> None:
    """A stray 403 may be retried on a read, never on a write: the edit is sent once and
    the outbox decides (ActiveCampaign sent it twice)."""
    rig = rigs(vendor)
    ref = await rig.some()
    change = rig.update_of(ref, "forbidden")
    gate = Forbid(rig.app)
    rig.crm.http.mount_app(f"http://{vendor}.localhost", gate)
    with pytest.raises(CrmError) as caught:
        await rig.crm.call(vendor, rig.crm.adapter(vendor).update(change))
    assert gate.writes == 1, f"{vendor}: the write was sent {gate.writes} times"
    assert caught.value.maybe_applied is False


class FailAfterWrite:
    """In front of a sandbox: once a write has been answered, every request fails (500)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.written = False
        self.after = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.written:
            self.after += 1
            self.app.state.faults.next.appendleft("500")
        await self.app(scope, receive, send)
        if (
            scope["type"] == "http"
            and scope["method"] != "GET"
            and not scope["path"].endswith("/login")
        ):
            self.written = True


@pytest.mark.parametrize("vendor", VENDORS)
async def test_a_create_whose_read_back_fails_may_have_been_applied(
    rigs: Callable[..., Rig], vendor: str
) -> None:
    """The post landed; reading the new record back failed: the error must say the create
    may have been applied, or the outbox would post it again."""
    rig = rigs(vendor)
    plan = rig.plan
    if plan.direct:
        pytest.skip("the create needs a field the user cannot set")
    await rig.crm.fields(vendor, plan.create_kind)
    ref = RecordRef(profile=vendor, kind=plan.create_kind, id="new")
    values = await rig.crm.validate(ref, plan.create_values("read back", rig.app.state.db))
    gate = FailAfterWrite(rig.app)
    rig.crm.http.mount_app(f"http://{vendor}.localhost", gate)
    adapter = rig.crm.adapter(vendor)
    try:
        await rig.crm.call(vendor, adapter.create(plan.create_kind, values, "key-read-back"))
    except CrmError as exc:
        assert gate.after, f"{vendor}: failed before the write: {exc}"
        assert exc.maybe_applied, f"{vendor}: {exc} does not say it may have been applied"
    else:
        assert not gate.after, f"{vendor}: a request after the write failed, yet no error"
