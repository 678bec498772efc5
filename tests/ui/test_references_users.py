"""Owners and several-record fields on the record screen (issue 15.1), one app run per
vendor: ``enter`` on an owner opens the user's card (name, email, "(you)"), ``e`` picks
another user by name or email (type-ahead over the users the cache keeps) and the new
owner shows by name, is described by name and goes to the vendor as its id; a SalesforceIQ
item's points of contact are marked several at once (space marks, enter confirms), shown
as "Ana Ruiz, Ben Ode", sent as the contacts' ids, and ``enter`` opens one of them; its
account's Collaborators (several users) are marked the same way, and ``enter`` opens one
collaborator's card."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static

from crmtui.model import ChangeState, RecordRef, Role
from crmtui.ui.screens.record import FieldItem, RecordScreen
from crmtui.ui.screens.user_card import UserCardScreen
from crmtui.ui.widgets.reference_picker import MultiReferencePicker, ReferencePicker
from tests.helpers.ui import Demo, build_demo, highlight, sent, settle, wait_for

SIZE = (160, 48)


async def shown(pilot: Pilot, demo: Demo, ref: RecordRef) -> RecordScreen:
    """The record screen of ``ref``, settled."""
    demo.app.open_record(ref)
    await wait_for(pilot, lambda: isinstance(demo.app.screen, RecordScreen))
    screen = demo.app.screen
    assert isinstance(screen, RecordScreen)
    await settle(pilot)
    return screen


def field(screen: RecordScreen, key: str) -> FieldItem:
    return next(i for i in screen.query(FieldItem) if i.spec.key == key)


async def test_activecampaign_owner_card_and_pick_by_email(tmp_path: Path) -> None:
    demo = build_demo("activecampaign", tmp_path / "cache.sqlite3")
    crm, profile = demo.crm, "demo-activecampaign"
    async with demo.app.run_test(size=SIZE) as pilot:
        await crm.kinds(profile)
        deals = (await crm.refresh(profile, "deal")).records
        me = await crm.me(profile)
        deal = next(d for d in deals if str(d.fields.get("owner")) == str(me))
        ref = RecordRef(profile=profile, kind="deal", id=deal.id)
        specs = {s.key: s for s in await crm.fields(profile, "deal")}
        owner = specs["owner"]
        info = crm.kind_info(profile, "deal")
        assert info is not None and info.role(Role.OWNER) == "owner"
        mine = owner.choice(me)
        other = next(c for c in owner.choices if c.value != str(me) and c.email)
        assert mine is not None and other.email
        screen = await shown(pilot, demo, ref)

        # shown by name; enter: the card (name, email, "(you)", what the cache holds)
        item = await highlight(pilot, screen, "owner")
        assert item.full_text() == mine.label
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, UserCardScreen))
        card = demo.app.screen
        assert isinstance(card, UserCardScreen)
        body = str(card.query_one("#user-card-body", Static).render())
        assert f"{mine.label} (you)" in body and str(mine.email) in body
        owns = card.query_one("#user-card-owns", Static)
        await wait_for(pilot, lambda: "cached deals" in str(owns.render()))
        await pilot.press("escape")
        await wait_for(pilot, lambda: demo.app.screen is screen)

        # e: the users, found by a piece of the email; enter picks; queued by id
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, ReferencePicker))
        picker = demo.app.screen
        assert isinstance(picker, ReferencePicker)
        results = picker.query_one(OptionList)
        await wait_for(pilot, lambda: results.option_count == len(owner.choices))
        typed = other.email.split("@")[0]
        await pilot.press(*typed)
        await wait_for(pilot, lambda: bool(picker.found) and picker.found[0].id == other.value)
        assert picker.query_one(Input).value == typed
        await pilot.press("enter")
        await wait_for(pilot, lambda: demo.app.screen is screen)
        await wait_for(pilot, lambda: field(screen, "owner").full_text() == other.label)
        assert str(await sent(pilot, demo, ref, "owner")) == other.value
        done = crm.store.changes(profile=profile, states=[ChangeState.DONE])
        change = next(c for c in done if c.ref == ref and "owner" in c.values)
        assert crm.describe(change) == f"{owner.label}: {mine.label} → {other.label}"


async def test_salesforceiq_points_of_contact_marked_several_and_opened(tmp_path: Path) -> None:
    demo = build_demo("salesforceiq", tmp_path / "cache.sqlite3")
    crm, profile = demo.crm, "demo-salesforceiq"
    async with demo.app.run_test(size=SIZE) as pilot:
        infos = await crm.kinds(profile)
        info = next(i for i in infos if i.label == "Opportunities")
        contacts = {r.id: r.title for r in (await crm.refresh(profile, "contact")).records}
        items = (await crm.refresh(profile, info.kind)).records
        item = next(r for r in items if len(r.fields.get("contacts") or []) == 1)
        held = str(item.fields["contacts"][0])
        added = next(i for i, t in contacts.items() if i != held and t)
        ref = item.ref
        screen = await shown(pilot, demo, ref)

        row = await highlight(pilot, screen, "contacts")
        assert row.full_text() == contacts[held]
        await pilot.press("e")  # the held one marked; another found, space marks it
        await wait_for(pilot, lambda: isinstance(demo.app.screen, MultiReferencePicker))
        picker = demo.app.screen
        assert isinstance(picker, MultiReferencePicker)
        assert list(picker.marked) == [held]
        await pilot.press(*contacts[added])
        await wait_for(
            pilot,
            lambda: picker.shown == picker.generation and any(f.id == added for f in picker.found),
        )
        results = picker.query_one(OptionList)
        results.focus()
        results.highlighted = next(n for n, f in enumerate(picker.found) if f.id == added)
        await pilot.press("space")
        assert list(picker.marked) == [held, added]
        line = str(results.get_option_at_index(results.highlighted or 0).prompt)
        assert line.startswith("[x] ")
        await pilot.press("enter")
        await wait_for(pilot, lambda: demo.app.screen is screen)
        both = f"{contacts[held]}, {contacts[added]}"
        await wait_for(pilot, lambda: field(screen, "contacts").full_text() == both)
        assert await sent(pilot, demo, ref, "contacts") == [held, added]
        list_id = info.kind.removeprefix("list:")
        assert demo.db.items[list_id][item.id]["contactIds"] == [held, added]

        # enter: one of them to open, by name
        await highlight(pilot, screen, "contacts")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, ReferencePicker))
        chooser = demo.app.screen
        assert isinstance(chooser, ReferencePicker)
        await wait_for(pilot, lambda: [f.id for f in chooser.found] == [held, added])
        await pilot.press("down", "down", "enter")
        await wait_for(
            pilot,
            lambda: (
                isinstance(demo.app.screen, RecordScreen)
                and demo.app.screen.ref == RecordRef(profile=profile, kind="contact", id=added)
            ),
        )

        # an account's collaborators: several users, marked and opened as an owner is
        accounts = (await crm.refresh(profile, "company")).records
        specs = {s.key: s for s in await crm.fields(profile, "company")}
        spec = next(s for s in specs.values() if s.label == "Collaborators")
        account = next(r for r in accounts if len(r.fields.get(spec.key) or []) == 1)
        mate = str(account.fields[spec.key][0])
        names = {c.value: c.label for c in spec.choices}
        other = next(c for c in spec.choices if c.value != mate)
        screen = await shown(pilot, demo, account.ref)
        row = await highlight(pilot, screen, spec.key)
        assert row.full_text() == names[mate]
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, MultiReferencePicker))
        users = demo.app.screen
        assert isinstance(users, MultiReferencePicker)
        assert list(users.marked) == [mate]
        assert "mark the users it holds" in users.heading()
        await pilot.press(*other.label)
        await wait_for(pilot, lambda: [f.id for f in users.found][:1] == [other.value])
        results = users.query_one(OptionList)
        results.focus()
        results.highlighted = 0
        await pilot.press("space", "enter")
        await wait_for(pilot, lambda: demo.app.screen is screen)
        both = f"{names[mate]}, {other.label}"
        await wait_for(pilot, lambda: field(screen, spec.key).full_text() == both)
        assert await sent(pilot, demo, account.ref, spec.key) == [mate, other.value]

        await highlight(pilot, screen, spec.key)
        await pilot.press("enter")  # two of them: which one's card
        await wait_for(pilot, lambda: isinstance(demo.app.screen, ReferencePicker))
        await pilot.press("down", "down", "enter")
        await wait_for(pilot, lambda: isinstance(demo.app.screen, UserCardScreen))
        card = demo.app.screen
        assert isinstance(card, UserCardScreen)
        assert card.card is not None and card.card.name == other.label
