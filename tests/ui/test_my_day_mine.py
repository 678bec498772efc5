"""My day is mine: on every vendor it lists the signed-in user's overdue and today's
tasks (each vendor's own "me"), with an owner column, ``a`` for everyone's, one date
format, and "About" naming the related record (never an id)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable

from crmtui.http import CrmError
from crmtui.model import Role
from crmtui.sandbox.fake import Fake
from crmtui.ui.screens.home import HomeScreen
from crmtui.ui.screens.my_day import MyDayScreen
from tests.helpers.ui import Demo, wait_for

SIZE = (160, 48)
VENDORS = ["freshsales", "salesseek", "salesloft", "activecampaign"]  # those with tasks
DATE = re.compile(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2}( [A-Z+\-0-9]+)?)?")
ID_LIKE = re.compile(r"\d+|[0-9a-f]{8}-[0-9a-f-]{27}|[0-9a-f]{24}")


async def open_my_day(pilot: Pilot, demo: Demo, profile: str, *, tasks: bool = True) -> MyDayScreen:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, HomeScreen))
    await pilot.press("d")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, MyDayScreen))
    screen = pilot.app.screen
    assert isinstance(screen, MyDayScreen)
    await wait_for(pilot, lambda: demo.crm.knows_me(profile) and not screen.refreshing, 30)
    if tasks:
        await wait_for(pilot, lambda: bool(screen.tasks), 30)
    return screen


def cells(screen: MyDayScreen) -> list[list[str]]:
    """The task rows (not the headings) as text: due, task, about, owner, profile."""
    table = screen.query_one(DataTable)
    rows = []
    for key in table.rows:
        if key.value in screen.refs:
            rows.append([str(cell) for cell in table.get_row(key)])
    return rows


def owner_of(demo: Demo, profile: str, record) -> str:
    info = demo.crm.kind_info(profile, record.kind)
    return str(record.fields.get(info.role(Role.OWNER)) or "")


async def until_the_vendor_says_who_you_are_my_day_says_it_shows_everyones(
    pilot: Pilot, demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> MyDayScreen:
    """The vendor cannot be asked now (it refuses, or the app is offline): nothing is
    hidden and nothing claims to be yours; asked again on the next refresh."""
    adapter = demo.crm.adapter("demo-salesloft")
    asked: list[bool] = []

    async def unreachable() -> None:
        asked.append(True)
        raise CrmError("demo-salesloft", "the vendor did not answer")

    monkeypatch.setattr(adapter, "whoami", unreachable)
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, HomeScreen))
    await pilot.press("d")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, MyDayScreen))
    screen = pilot.app.screen
    assert isinstance(screen, MyDayScreen)
    await wait_for(pilot, lambda: asked and not screen.refreshing and screen.tasks, 30)
    assert not demo.crm.knows_me("demo-salesloft")
    owners = {owner_of(demo, "demo-salesloft", t.record) for t in screen.tasks}
    assert len(owners) > 1
    assert "everyone's" in str(screen.query_one("#my-day-title").render())
    facts = str(screen.query_one("#my-day-facts").render())
    assert "until Salesloft says which user you are" in facts
    monkeypatch.undo()
    await pilot.press("r")
    await wait_for(pilot, lambda: demo.crm.knows_me("demo-salesloft"), 30)
    await wait_for(pilot, lambda: "your" in str(screen.query_one("#my-day-title").render()))
    await wait_for(pilot, lambda: not screen.refreshing and bool(screen.tasks), 30)
    return screen


@pytest.mark.parametrize("vendor", VENDORS)
async def test_my_day_shows_my_tasks_and_a_shows_everyones(
    vendor_demo: Callable[[str], Demo], monkeypatch: pytest.MonkeyPatch, vendor: str
) -> None:
    """On Salesloft the same app first shows My day while the vendor cannot say who
    you are, then asks again on refresh and goes on with the user's own tasks."""
    demo = vendor_demo(vendor)
    demo.app.clock = lambda: Fake.NOW
    profile = f"demo-{vendor}"
    async with demo.app.run_test(size=SIZE) as pilot:
        if vendor == "salesloft":
            screen = await until_the_vendor_says_who_you_are_my_day_says_it_shows_everyones(
                pilot, demo, monkeypatch
            )
        else:
            screen = await open_my_day(pilot, demo, profile)
        me = demo.crm.cached_me(profile)
        assert me is not None, f"{vendor} should say which user the profile signs in as"
        api_user = {  # the user the sandbox gives the demo's key (where it says so)
            "freshsales": lambda: demo.db.api_keys["sandbox"],
            "salesloft": lambda: demo.db.tokens["sandbox"],
        }.get(vendor)
        if api_user is not None:
            assert me == str(api_user())
        mine = list(screen.tasks)
        key = demo.crm.kind_info(profile, mine[0].record.kind).role(Role.OWNER)
        assert mine and all(owner_of(demo, profile, t.record) == me for t in mine)
        title = str(screen.query_one("#my-day-title").render())
        assert "your overdue" in title

        rows = cells(screen)
        table = screen.query_one(DataTable)
        labels = [str(c.label) for c in table.columns.values()]
        assert labels == ["Due", "Task", "About", "Owner", "Profile"]
        # the owner column names the user, never the id
        spec = next(s for s in demo.crm.cached_fields(profile, mine[0].record.kind) if s.key == key)
        assert {row[3] for row in rows} == {spec.choice_label(me)}
        assert spec.choice_label(me) and not ID_LIKE.fullmatch(spec.choice_label(me) or "")
        # one date format, whatever the vendor keeps (a time, or a date alone)
        assert all(DATE.fullmatch(row[0]) for row in rows), [row[0] for row in rows]
        # About names a record, never an id or the due date
        abouts = [row[2] for row in rows]
        assert any(abouts)
        assert not any(ID_LIKE.fullmatch(a) or DATE.fullmatch(a) for a in abouts if a)

        await pilot.press("a")
        await wait_for(pilot, lambda: len(screen.tasks) > len(mine))
        assert "everyone's" in str(screen.query_one("#my-day-title").render())
        assert any(owner_of(demo, profile, t.record) != me for t in screen.tasks)
        assert {t.record.id for t in mine} <= {t.record.id for t in screen.tasks}
        await pilot.press("a")
        await wait_for(pilot, lambda: len(screen.tasks) == len(mine))


async def test_a_vendor_that_cannot_say_who_you_are_shows_everyones_and_says_so(
    vendor_demo: Callable[[str], Demo], monkeypatch: pytest.MonkeyPatch
) -> None:
    demo = vendor_demo("freshsales")
    demo.app.clock = lambda: Fake.NOW

    async def nobody() -> None:
        return None

    adapter = demo.crm.adapter("demo-freshsales")
    monkeypatch.setattr(adapter, "whoami", nobody)
    async with demo.app.run_test(size=SIZE) as pilot:
        screen = await open_my_day(pilot, demo, "demo-freshsales")
        owners = {owner_of(demo, "demo-freshsales", t.record) for t in screen.tasks}
        assert len(owners) > 1  # everyone's
        facts = str(screen.query_one("#my-day-facts").render())
        assert "Freshsales does not say which user you are" in facts


async def test_salesforceiq_has_no_tasks_and_my_day_says_nothing_of_it(
    vendor_demo: Callable[[str], Demo],
) -> None:
    demo = vendor_demo("salesforceiq")
    demo.app.clock = lambda: Fake.NOW
    async with demo.app.run_test(size=SIZE) as pilot:
        screen = await open_my_day(pilot, demo, "demo-salesforceiq", tasks=False)
        assert screen.tasks == []
        assert "does not say" not in str(screen.query_one("#my-day-facts").render())
