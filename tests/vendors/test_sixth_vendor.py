"""A sixth vendor ("Toy CRM", ``tests/toyvendor``) declared on the mapping and registered
from its own package: the adapter reads and writes through its declarations, and the app
lists and edits it with no change anywhere else."""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

import tests.toyvendor  # registers the vendor and its sandbox
from crmtui import sandbox, vendors
from crmtui.http import Rejected
from crmtui.model import Change, FieldType, Query, RecordRef, Role
from crmtui.vendors.rest import RestVendor
from tests.helpers.ui import build_demo, open_field, open_kind, type_into, wait_for
from tests.helpers.wiring import Wired
from tests.toyvendor.vendor import Toy


def test_the_toy_vendor_is_registered_from_its_own_package() -> None:
    assert vendors.load("toy") is Toy
    assert vendors.available()["toy"] == "tests.toyvendor.vendor:Toy"
    assert sandbox.info("toy").base_path == "/api/"
    assert vendors.register(Toy) is Toy  # registering again is harmless

    class Impostor(RestVendor):
        name = "freshsales"

    with pytest.raises(ValueError, match="already known"):
        vendors.register(Impostor)
    with pytest.raises(ValueError, match="already known"):
        sandbox.register(sandbox.SandboxInfo("toy", "elsewhere:create_app", "/"))


def test_an_installed_sandbox_is_found_through_its_entry_point(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(sandbox.SANDBOXES, "toy")
    point = EntryPoint("toy", "tests.toyvendor:SANDBOX", "crmtui.sandboxes")
    monkeypatch.setattr(sandbox, "entry_points", lambda group: [point])
    assert sandbox.info("toy") is tests.toyvendor.SANDBOX
    wrong = EntryPoint("other", "tests.toyvendor:SANDBOX", "crmtui.sandboxes")
    monkeypatch.setattr(sandbox, "entry_points", lambda group: [wrong])
    with pytest.raises(TypeError, match="is not the SandboxInfo of 'other'"):
        sandbox.available()


async def test_kinds_and_fields_come_from_the_declarations(wire: Callable[..., Wired]) -> None:
    toy = wire("toy").adapter
    kinds = {k.kind: k for k in await toy.kinds()}
    assert list(kinds) == ["thing", "maker"]
    assert kinds["thing"].roles == {Role.TITLE: "name"}
    assert kinds["thing"].references == {"maker": "maker"}
    specs = {s.key: s for s in await toy.fields("thing")}
    assert specs["price"].type is FieldType.MONEY
    assert [c.label for c in specs["maker"].choices] == ["Ada", "Grace", "Linus"]


async def test_reads_and_writes_go_through_the_codecs(wire: Callable[..., Wired]) -> None:
    wired = wire("toy")
    toy, db = wired.adapter, wired.db
    page = await toy.list_page("thing", Query(per_page=5))
    assert len(page.records) == 5 and page.next_cursor == "2"
    rest = await toy.list_page("thing", Query(per_page=5, cursor="2"))
    assert len(rest.records) == 2 and rest.next_cursor is None
    first = page.records[0]
    assert first.title == "Widget 1" and first.fields["price"] == "10.00"
    assert first.fields["done"] is True and first.fields["maker"] == "2"

    ref = RecordRef(profile=toy.profile.name, kind="thing", id=first.id)
    values = {"price": "12.34", "done": False, "due": "2026-12-24T18:00:00+00:00", "maker": "3"}
    saved = await toy.update(Change(ref=ref, values=values))
    row = db["things"][int(first.id)]
    assert (row["price_cents"], row["done"], row["maker_id"]) == (1234, 0, 3)
    assert row["due"] == 1798135200  # epoch seconds
    assert saved.fields | values == saved.fields

    made = await toy.create("maker", {"name": "Hedy", "email": "hedy@toy.example"}, "k1")
    assert db["makers"][int(made.id)]["name"] == "Hedy"
    with pytest.raises(Rejected, match="maker_id: no such maker"):
        await toy.update(Change(ref=ref, values={"maker": "99"}))
    with pytest.raises(Rejected, match="Thing has no field 'colour'"):
        await toy.update(Change(ref=ref, values={"colour": "red"}))
    await toy.delete(ref)
    assert int(first.id) not in db["things"]


async def test_the_app_lists_the_toy_vendor_and_an_edit_reaches_its_sandbox(
    tmp_path: Path,
) -> None:
    demo = build_demo("toy", tmp_path / "toy.sqlite3")
    async with demo.app.run_test(size=(120, 36)) as pilot:
        view = await open_kind(pilot, "thing")
        assert view.table.row_count == len(demo.db["things"]) == 7
        await pilot.press("enter")  # the first thing
        item = await open_field(pilot, "name")
        await type_into(pilot, item, "Sprocket")
        await wait_for(pilot, lambda: not item.editing)
        await demo.crm.outbox.flush("demo-toy")
        await demo.crm.outbox.wait_idle()
        await wait_for(pilot, lambda: demo.crm.queued("demo-toy") == 0)
        assert "Sprocket" in {row["name"] for row in demo.db["things"].values()}
    await demo.crm.close()
