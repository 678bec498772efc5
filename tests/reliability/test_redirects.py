"""Only a 2xx is success: a delete or a note answered with a redirect is not done.

The sandbox answers the next write with 301/302/303/307/308 to another host (as a wrong
domain or a network's sign-in page would) and applies nothing. The change must stay in
the outbox (not done), with an error naming that host and the config.toml keys to
check; the record is still there on the vendor's side and the note was never created.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from benchmarks.soak import VENDORS
from crmtui.http import CrmError, Redirected
from crmtui.model import Change, ChangeState
from crmtui.sandbox.faults import REDIRECTS
from tests.reliability.conftest import Rig
from tests.reliability.test_faults_matrix import ArmWrites

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
