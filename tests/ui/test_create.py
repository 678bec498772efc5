"""Creating records from the keyboard (issue 17 point 1), on every vendor's sandbox.

`c` on a record asks which kind to create (those that can point at the record first) and
opens the form with the record prefilled; `c` on a list creates a record of its kind; the
palette offers "New <kind>" and says, in the vendor's words, which kinds cannot be
created. The form checks each value as the service does, the create goes through the
outbox (the new record in the list at once, queued), and the vendor has it once sent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Select, Static

from crmtui.model import ChangeState, Record
from crmtui.ui.screens.create import CreateScreen, KindChoice
from crmtui.ui.screens.record import RecordScreen
from tests.helpers.service import Unreachable
from tests.helpers.ui import (
    Demo,
    build_demo,
    fill_field,
    open_kind,
    open_record,
    palette_hits,
    palette_search,
    run_command,
    wait_for,
)

SIZE = (140, 42)


@dataclass(frozen=True)
class Case:
    """One kind to create on one vendor: the values typed, and, for a create from a
    record, the kind of that record and the field that must point at it."""

    vendor: str
    kind: str  # a prefix for SalesforceIQ lists
    values: dict[str, str]
    title_key: str
    on_kind: str | None = None
    link: str | None = None
    picks: dict[str, str] = field(default_factory=dict)  # reference key -> kind: first cached


TASKS = [
    Case(
        "freshsales",
        "task",
        {"subject": "", "due_at": "2027-01-15 10:00"},
        "subject",
        "deal",
        "deal",
    ),
    Case("salesseek", "task", {"subject": "", "due_at": "2027-01-15 10:00"}, "subject", "deal"),
    Case(
        "salesloft",
        "task",
        {"subject": "", "due_date": "2027-01-15"},
        "subject",
        "contact",
        "contact",
    ),
    Case(
        "activecampaign",
        "task",
        {"subject": "", "due_at": "2027-01-15 10:00"},
        "subject",
        "deal",
        "deal",
    ),
]
DEALS = [
    Case(
        "freshsales", "deal", {"name": "", "amount": "1250"}, "name", picks={"company": "company"}
    ),
    Case("salesseek", "deal", {"name": "", "amount": "1250"}, "name"),
    Case(
        "activecampaign",
        "deal",
        {"name": "", "amount": "1250"},
        "name",
        picks={"contact": "contact"},
    ),
    Case(
        "salesforceiq",
        "list:",
        {"name": "", "amount": "1250"},
        "name",
        picks={"contact": "contact"},
    ),
]
CONTACTS = [
    Case(
        "freshsales",
        "contact",
        {"first_name": "Ada", "last_name": "", "email": "ada@example.com"},
        "last_name",
    ),
    Case("salesseek", "contact", {"first_name": "Ada", "last_name": ""}, "last_name"),
    Case(
        "salesloft",
        "contact",
        {"first_name": "Ada", "last_name": "", "email": "ada@example.com"},
        "last_name",
    ),
    Case("salesforceiq", "contact", {"name": ""}, "name"),
]


def form_shown(pilot: Pilot) -> bool:
    """Whether the create form is up as a user sees it: its fields in, the first focused.
    A pushed screen is the app's screen at once, before it composes: on a loaded machine
    the form was read there and had no ``#field-…`` yet (NoMatches). Mounted, it has."""
    screen = pilot.app.screen
    return isinstance(screen, CreateScreen) and screen.is_mounted


def form(pilot: Pilot) -> CreateScreen:
    screen = pilot.app.screen
    assert isinstance(screen, CreateScreen)
    return screen


async def fill(pilot: Pilot, screen: CreateScreen, key: str, text: str) -> None:
    """Type ``text`` into the field ``key`` (a pick: the option of that value)."""
    await fill_field(pilot, screen, key, text)


async def fill_case(pilot: Pilot, demo: Demo, case: Case, title: str) -> CreateScreen:
    screen = form(pilot)
    for key, text in case.values.items():
        await fill(pilot, screen, key, text or title)
    for key, kind in case.picks.items():
        profile = f"demo-{case.vendor}"
        first = next(
            r for r in demo.crm.window(profile, kind, offset=0, limit=5) if ":" not in r.id
        )
        await fill(pilot, screen, key, first.id)
    return screen


async def save(pilot: Pilot) -> None:
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: not isinstance(pilot.app.screen, CreateScreen))


async def sent_record(pilot: Pilot, demo: Demo, profile: str, kind: str, title: str) -> Record:
    """The created record as the vendor answers for it, once the outbox is empty."""
    try:
        await wait_for(pilot, lambda: not demo.crm.changes(profile), timeout=20)
    except AssertionError:
        raise AssertionError(
            [(c.state, c.last_error, c.values) for c in demo.crm.changes(profile)]
        ) from None
    made = [r for r in demo.crm.window(profile, kind, offset=0, limit=5000) if title in r.title]
    assert len(made) == 1 and not made[0].id.startswith("local:"), made
    return await demo.crm.get(made[0].ref)  # a read of the vendor's: it has the record


async def choose(pilot: Pilot, kind: str) -> None:
    """In the kind chooser (`c` on a record), the option of ``kind``."""
    await wait_for(
        pilot,
        lambda: isinstance(pilot.app.screen, KindChoice) and pilot.app.screen.query(OptionList),
    )
    options = pilot.app.screen.query_one(OptionList)
    options.highlighted = next(
        i for i in range(options.option_count) if options.get_option_at_index(i).id == kind
    )
    await pilot.press("enter")
    await wait_for(pilot, lambda: form_shown(pilot))


async def create_from_record(pilot: Pilot, demo: Demo, case: Case) -> None:
    """`c` on a record: the kind chooser (kinds that can point at the record first), the
    form with the record prefilled; once sent the vendor has it pointing at the record."""
    profile = f"demo-{case.vendor}"
    title = f"Follow up {case.vendor} 17"
    assert case.on_kind is not None
    record = await open_record(pilot, demo, case.vendor, case.on_kind)
    on = record.ref
    await pilot.press("c")
    await wait_for(
        pilot,
        lambda: isinstance(pilot.app.screen, KindChoice) and pilot.app.screen.query(OptionList),
    )
    kinds = pilot.app.screen.query_one(OptionList)
    assert kinds.get_option_at_index(0).id == case.kind or case.link is None
    await choose(pilot, case.kind)
    screen = form(pilot)
    if case.link:  # the record you are on, chosen
        assert screen.query_one(f"#field-{case.link}", Select).value == on.id
    await fill_case(pilot, demo, case, title)
    await save(pilot)
    assert isinstance(pilot.app.screen, RecordScreen)
    made = await sent_record(pilot, demo, profile, case.kind, title)
    assert made.title == title
    if case.link:
        assert made.fields.get(case.link) == on.id


async def create_from_list(pilot: Pilot, demo: Demo, case: Case) -> None:
    """`c` on a list: the form of its kind; the new record in the list, the vendor has it."""
    profile = f"demo-{case.vendor}"
    title = f"Zebra {case.vendor} {case.kind.rstrip(':')} 17"
    kinds = await demo.crm.kinds(profile)
    kind = next(k.kind for k in kinds if k.kind.startswith(case.kind))
    view = await open_kind(pilot, kind)
    await pilot.press("c")
    await wait_for(pilot, lambda: form_shown(pilot))
    await fill_case(pilot, demo, case, title)
    await save(pilot)
    made = await sent_record(pilot, demo, profile, kind, title)
    assert title in made.title
    for key, text in case.values.items():
        if key not in (case.title_key, "amount"):
            assert made.fields.get(key) == text
    await wait_for(pilot, lambda: any(title in r.title for r in view.table._fetch(0, 5000)))


async def cancel(pilot: Pilot) -> None:
    await pilot.press("escape")
    await wait_for(pilot, lambda: not isinstance(pilot.app.screen, CreateScreen))


async def stage_choices_are_those_of_the_pipeline_chosen(pilot: Pilot, demo: Demo) -> None:
    profile = "demo-freshsales"
    await open_kind(pilot, "deal")
    specs = {s.key: s for s in await demo.crm.fields(profile, "deal")}
    await pilot.press("c")
    await wait_for(pilot, lambda: form_shown(pilot))
    screen = form(pilot)
    stage = screen.query_one("#field-stage", Select)
    for pipeline in specs["pipeline"].choices:
        await fill(pilot, screen, "pipeline", pipeline.value)
        offered = {value for _, value in stage._options if isinstance(value, str)}
        wanted = {
            c.value for c in specs["stage"].choices if c.group in (pipeline.value, pipeline.label)
        }
        assert offered == wanted and wanted
    await cancel(pilot)
    assert not demo.crm.changes(profile)  # cancelled: nothing queued


async def the_form_checks_each_value_in_place_and_keeps_it(pilot: Pilot, demo: Demo) -> None:
    """A required value left empty and an amount that is no number: each error under its
    field, nothing queued; fixed, the create goes."""
    profile = "demo-freshsales"
    await open_kind(pilot, "deal")
    await pilot.press("c")
    await wait_for(pilot, lambda: form_shown(pilot))
    screen = form(pilot)
    await fill(pilot, screen, "amount", "12x")
    await pilot.press("tab")  # leaving the field checks it
    error = screen.query_one("#error-amount", Static)
    await wait_for(pilot, lambda: str(error.render()) != "")
    await pilot.press("ctrl+s")
    problem = screen.query_one("#create-problem", Static)
    await wait_for(pilot, lambda: "nothing was queued" in str(problem.render()))
    assert "Name" in str(screen.query_one("#error-name", Static).render())
    assert isinstance(pilot.app.screen, CreateScreen) and not demo.crm.changes(profile)
    assert screen.query_one("#field-amount", Input).value == "12x"  # kept as typed
    await fill(pilot, screen, "amount", "12")
    await fill(pilot, screen, "name", "Checked deal 17")
    await demo.crm.refresh(profile, "company")
    company = next(r for r in demo.crm.window(profile, "company", offset=0, limit=5))
    await fill(pilot, screen, "company", company.id)
    await save(pilot)
    made = await sent_record(pilot, demo, profile, "deal", "Checked deal 17")
    assert made.fields["amount"] == "12.00" and made.fields["company"] == company.id


async def a_kind_the_vendor_cannot_create_is_said_so(pilot: Pilot, demo: Demo) -> None:
    profile = "demo-activecampaign"
    message = "ActiveCampaign offers no way to create contacts"
    await open_kind(pilot, "contact")
    await pilot.press("c")
    await wait_for(pilot, lambda: any(message in str(n.message) for n in pilot.app._notifications))
    assert not isinstance(pilot.app.screen, CreateScreen) and not demo.crm.changes(profile)
    # the palette says so too, and offers what can be created
    await palette_search(pilot, "New")
    await wait_for(pilot, lambda: any("New task" in hit for hit in palette_hits(pilot.app)))
    hits = palette_hits(pilot.app)
    assert any("New contact" in hit and message in hit for hit in hits), hits
    await pilot.press("escape")
    await pilot.pause()
    await run_command(pilot, "New deal")
    await wait_for(pilot, lambda: form_shown(pilot))
    assert form(pilot).info.kind == "deal"
    await cancel(pilot)


# Scenarios that need no list or record of their own beyond the vendor's demo data; each
# runs on the same app as the vendor's creates (one app start per vendor).
CHECKS: dict[str, list[Callable[[Pilot, Demo], Awaitable[None]]]] = {
    "freshsales": [
        stage_choices_are_those_of_the_pipeline_chosen,
        the_form_checks_each_value_in_place_and_keeps_it,
    ],
    "activecampaign": [a_kind_the_vendor_cannot_create_is_said_so],
}
VENDORS = ["freshsales", "salesseek", "salesloft", "activecampaign", "salesforceiq"]


@pytest.mark.parametrize("vendor", VENDORS)
async def test_creating_records_from_the_keyboard(tmp_path: Path, vendor: str) -> None:
    """On one app per vendor, one after the other (each its own title, so they do not
    meet): `c` on each list that can create, the vendor's form checks, then `c` on a
    record (last: it leaves the record screen open)."""
    demo = build_demo(vendor, tmp_path / "cache.sqlite3")
    async with demo.app.run_test(size=SIZE, notifications=True) as pilot:
        for case in DEALS + CONTACTS:
            if case.vendor == vendor:
                await create_from_list(pilot, demo, case)
        for check in CHECKS.get(vendor, []):
            await check(pilot, demo)
        for case in TASKS:
            if case.vendor == vendor:
                await create_from_record(pilot, demo, case)


async def test_offline_the_new_record_shows_at_once_and_goes_when_back(tmp_path: Path) -> None:
    demo = build_demo("salesseek", tmp_path / "cache.sqlite3")
    profile = "demo-salesseek"
    origin = "http://salesseek.localhost"
    title = "Offline contact 17"
    async with demo.app.run_test(size=SIZE) as pilot:
        view = await open_kind(pilot, "contact")
        demo.crm.http.transport.mount(origin, Unreachable())
        await pilot.press("c")
        await wait_for(pilot, lambda: form_shown(pilot))
        screen = form(pilot)
        await fill(pilot, screen, "first_name", "Grace")
        await fill(pilot, screen, "last_name", title)
        await save(pilot)
        # at once, from the cache: queued (its id local until the vendor gives one)
        await wait_for(pilot, lambda: any(title in r.title for r in view.table._fetch(0, 5000)))
        shown = next(r for r in view.table._fetch(0, 5000) if title in r.title)
        assert shown.id.startswith("local:")
        await wait_for(pilot, lambda: demo.crm.states[profile].online is False)
        [change] = demo.crm.changes(profile)
        assert change.state in (ChangeState.PENDING, ChangeState.FAILED)

        demo.crm.http.mount_app(origin, demo.sandbox)  # back
        await demo.crm.send_now(profile)
        made = await sent_record(pilot, demo, profile, "contact", title)
        assert not made.id.startswith("local:")
        await wait_for(
            pilot,
            lambda: any(r.id == made.id and title in r.title for r in view.table._fetch(0, 5000)),
        )
