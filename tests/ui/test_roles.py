"""A vendor naming its fields its own way keeps the board, the colours and My day.

The ActiveCampaign adapter, wrapped to rename its fields ("stage" is "step", "amount"
"value", "status" "outcome", a task's "due_at" "deadline"...), declares the same roles
under the new names. Nothing in the UI may look a field up by the old name: the board
still has its columns, totals and moves, rows still get their stage colour, money its
currency, and My day still lists the overdue tasks and leaves out the done ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rich.segment import Segment

from crmtui import vendors
from crmtui.api import open_demo
from crmtui.http import CrmError, Http
from crmtui.model import Change, FieldSpec, FieldType, KindInfo, Page, Query, Record, Role
from crmtui.notebook_html import cell_text
from crmtui.sandbox.fake import Fake
from crmtui.ui.screens.home import HomeScreen
from crmtui.ui.screens.my_day import MyDayScreen
from crmtui.ui.themes import tone_color
from crmtui.vendors.base import Vendor
from tests.helpers.ui import Demo, build_demo, no_sleep, open_board_at_start, open_kind, wait_for

SIZE = (140, 40)
PROFILE = "demo-activecampaign"
RENAMED = {
    "amount": "value",
    "currency": "money",
    "pipeline": "funnel",
    "stage": "step",
    "status": "outcome",
    "owner": "rep",
    "due_at": "deadline",
    "done": "finished",
}
BACK = {new: old for old, new in RENAMED.items()}


def out(key: str) -> str:
    return RENAMED.get(key, key)


def back(key: str) -> str:
    return BACK.get(key, key)


def renamed(record: Record) -> Record:
    return record.model_copy(update={"fields": {out(k): v for k, v in record.fields.items()}})


def renaming(base: type[Vendor]) -> type[Vendor]:
    """``base`` with its fields renamed (and its roles declared under the new names)."""

    class Renamed(base):  # type: ignore[valid-type,misc]
        async def kinds(self) -> list[KindInfo]:
            return [
                info.model_copy(
                    update={
                        "columns": [out(key) for key in info.columns],
                        "sortable": [out(key) for key in info.sortable],
                        "board_field": out(info.board_field) if info.board_field else None,
                        "filters": [f.model_copy(update={"key": out(f.key)}) for f in info.filters],
                        "roles": {role: out(key) for role, key in info.roles.items()},
                        "references": {out(key): kind for key, kind in info.references.items()},
                    }
                )
                for info in await super().kinds()
            ]

        async def fields(self, kind: str, *, refresh: bool = False) -> list[Any]:
            specs = await super().fields(kind, refresh=refresh)
            return [s.model_copy(update={"key": out(s.key)}) for s in specs]

        async def list_page(self, kind: str, query: Query) -> Page:
            query = query.model_copy(
                update={
                    "sort": back(query.sort) if query.sort else None,
                    "filters": {back(k): v for k, v in query.filters.items()},
                }
            )
            page = await super().list_page(kind, query)
            return page.model_copy(update={"records": [renamed(r) for r in page.records]})

        async def get(self, kind: str, id: str) -> Record:
            return renamed(await super().get(kind, id))

        async def update(self, change: Change) -> Record:
            values = {back(k): v for k, v in change.values.items()}
            base = {back(k): v for k, v in change.base.items()}
            return renamed(
                await super().update(change.model_copy(update={"values": values, "base": base}))
            )

    return Renamed


@pytest.fixture
def renamed_ac(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Demo:
    load = vendors.load
    monkeypatch.setattr(
        vendors,
        "load",
        lambda name: renaming(load(name)) if name == "activecampaign" else load(name),
    )
    return build_demo("activecampaign", tmp_path / "cache.sqlite3")


def test_the_wrapper_leaves_no_old_name() -> None:
    assert not set(RENAMED.values()) & set(RENAMED)


async def test_the_board_works_by_roles(renamed_ac: Demo) -> None:
    async with renamed_ac.app.run_test(size=SIZE) as pilot:
        view = await open_kind(pilot, "deal")
        keys = {spec.key for spec in renamed_ac.crm.cached_fields(PROFILE, "deal")}
        assert "step" in keys and "stage" not in keys
        board = await open_board_at_start(pilot, view)
        # columns of open deals only (the status role's "open"), with their totals
        cards = [r for column in board.columns for r in column.records]
        assert cards and all(r.fields["outcome"] == "open" for r in cards)
        facts = str(board.query_one("#board-facts").render())
        assert "Σ 0.00" not in facts and "usd" in facts.lower()
        card_text = board.columns[board.column].card
        card = card_text(board.current, "", 40)
        assert "usd" in card[1].lower()  # the money line: amount and currency
        # a move goes through the outbox under the vendor's name for the field
        deal = board.current
        await pilot.press("shift+right")
        await wait_for(pilot, lambda: renamed_ac.crm.cached(deal.ref).fields["step"] == "2")
        await renamed_ac.crm.outbox.wait_idle()
        await wait_for(pilot, lambda: renamed_ac.crm.queued(PROFILE) == 0)
        assert renamed_ac.db.deals[deal.id]["stage"] == "2"
        await pilot.press("escape")
        await wait_for(pilot, lambda: pilot.app.screen is not board)
        assert view.table.info is not None


async def test_rows_keep_their_stage_colour_and_currency(renamed_ac: Demo) -> None:
    async with renamed_ac.app.run_test(size=SIZE) as pilot:
        view = await open_kind(pilot, "deal")
        table = view.table
        await wait_for(pilot, table.showing)
        keys = [column.key for column in table.columns]
        assert "outcome" in keys and "step" in keys and "value" in keys
        record = table.cached_at(1)
        assert record is not None
        assert (
            str(record.fields["money"]).lower()
            in table.columns[keys.index("value")].cell(record).lower()
        )
        table.cursor = 0  # the second row is not under the cursor: drawn with its tone
        await pilot.pause()
        tone = str(record.fields["outcome"])
        colour = tone_color(pilot.app, tone).lower()
        segments: list[Segment] = list(table.render_line(2))

        def colour_of(segment: Segment) -> str | None:
            color = segment.style.color if segment.style else None
            return color.triplet.hex.lower() if color and color.triplet else None

        toned = " ".join(s.text.strip() for s in segments if colour_of(s) == colour)
        # the status and stage cells, by their roles, in the tone's colour; not the title
        assert tone.lower() in toned.lower(), toned
        assert record.title[:10] not in toned
        assert len([s for s in segments if colour_of(s) == colour]) == 2


async def my_day(demo: Demo) -> list[Record]:
    """The tasks My day lists once its refresh is done."""
    demo.app.clock = lambda: Fake.NOW
    async with demo.app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HomeScreen))
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, MyDayScreen))
        screen = pilot.app.screen
        assert isinstance(screen, MyDayScreen)
        await wait_for(pilot, lambda: not screen.refreshing and screen.tasks)
        return [t.record for t in screen.tasks]


async def test_my_day_lists_tasks_by_their_due_and_done_roles(
    renamed_ac: Demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tasks = await my_day(renamed_ac)
    assert all("deadline" in r.fields and "due_at" not in r.fields for r in tasks)
    assert not any(r.fields["finished"] for r in tasks)
    monkeypatch.undo()  # the same vendor under its own names: the same tasks
    plain = await my_day(build_demo("activecampaign", tmp_path / "plain.sqlite3"))
    assert "due_at" in plain[0].fields
    assert sorted(r.id for r in tasks) == sorted(r.id for r in plain)


def test_notebook_money_takes_the_currency_of_the_currency_role() -> None:
    info = KindInfo(kind="deal", label="Deals", singular="Deal", roles={Role.CURRENCY: "money"})
    specs = {"value": FieldSpec(key="value", label="Value", type=FieldType.MONEY)}
    fields = {"value": "1250.00", "money": "EUR", "currency": "USD"}
    deal = Record(vendor="x", profile="p", kind="deal", id="1", title="D", fields=fields)
    text = cell_text(deal, "value", specs, info)
    assert "EUR" in text or "€" in text
    assert "USD" not in text and "$" not in text


async def test_kinds_cached_before_roles_existed_are_asked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cache written by a crmtui without roles: its kinds are re-read from the vendor
    (else the board, colours and My day would be lost), and still used when offline."""
    client = await open_demo(
        "activecampaign", store_path=tmp_path / "cache.sqlite3", http=Http(sleep=no_sleep)
    )
    crm, profile = client.service, client.profile
    try:
        kinds = await crm.kinds(profile)
        assert any(info.roles for info in kinds)
        old = [info.model_copy(update={"roles": {}, "day_views": []}) for info in kinds]
        crm.store.put_kinds(profile, old)
        assert await crm.kinds(profile) == kinds  # asked again
        assert crm.store.get_kinds(profile) == kinds
        crm.store.put_kinds(profile, old)

        async def unreachable() -> list[KindInfo]:
            raise CrmError("ActiveCampaign", "unreachable")

        monkeypatch.setattr(crm.adapter(profile), "kinds", unreachable)
        assert await crm.kinds(profile) == old  # the vendor unreachable: the old kinds serve
    finally:
        await client.close()
