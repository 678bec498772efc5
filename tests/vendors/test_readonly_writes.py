"""What the specs say may not be changed is never sent: a kind that is not editable
offers no writable field, and an adapter asked to write a field its own specs mark
read-only (validation bypassed) refuses it with no write request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.types import Receive, Scope, Send

from benchmarks.soak import VENDORS
from crmtui.http import CrmError
from crmtui.model import Change, Query, RecordRef
from tests.helpers.reliability import build, close


class Writes:
    """Counts the requests that are not reads."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        signing_in = "login" in path or "token" in path
        if scope["type"] == "http" and scope["method"] not in ("GET", "HEAD") and not signing_in:
            self.seen.append(f"{scope['method']} {path}")
        await self.app(scope, receive, send)


@pytest.mark.parametrize("vendor", VENDORS)
async def test_specs_agree_with_editable(tmp_path: Path, vendor: str) -> None:
    """Salesloft offered a call's owner as writable on a kind that is not editable: the
    edit was queued, then rejected by the adapter."""
    rig = build(vendor, tmp_path / "cache.sqlite3")
    try:
        for info in await rig.crm.kinds(vendor):
            if not info.editable:
                writable = [s.key for s in await rig.crm.fields(vendor, info.kind) if s.writable]
                assert writable == [], (info.kind, writable)
    finally:
        await close(rig)


@pytest.mark.parametrize("vendor", VENDORS)
async def test_an_adapter_never_sends_a_field_its_specs_mark_read_only(
    tmp_path: Path, vendor: str
) -> None:
    """Salesloft sent a task's status as current_state, SalesforceIQ a list item's
    contact as contactIds, though their specs mark them read-only."""
    rig = build(vendor, tmp_path / "cache.sqlite3")
    writes = Writes(rig.app)
    rig.crm.http.mount_app(f"http://{vendor}.localhost", writes)
    sent: list[tuple[str, str, list[str]]] = []
    tried = 0
    try:
        adapter = rig.crm.adapter(vendor)
        for info in await rig.crm.kinds(vendor):
            if not info.editable:
                continue
            specs = await rig.crm.fields(vendor, info.kind)
            page = await rig.crm.refresh(vendor, info.kind, Query(per_page=1))
            if not page.records:
                continue
            record = page.records[0]
            ref = RecordRef(profile=vendor, kind=info.kind, id=record.id)
            for spec in specs:
                if spec.writable:
                    continue
                old = record.fields.get(spec.key)
                new = "1" if old in (None, "", "0") else ("x" if isinstance(old, str) else old)
                change = Change(
                    ref=ref,
                    values={spec.key: new},
                    base={spec.key: old},
                    base_updated_at=record.updated_at,
                )
                writes.seen.clear()
                tried += 1
                with pytest.raises(CrmError):
                    await adapter.update(change)
                if writes.seen:
                    sent.append((info.kind, spec.key, list(writes.seen)))
    finally:
        await close(rig)
    assert tried
    assert sent == []
