"""Users and several-record fields as references (issue 15.1).

An owner (assignee, user) is a user of the vendor: named from the field's choices, which
each vendor package declares how to read (``mapping.UserShape``: name, email, role) and
the cache keeps with the specs (offline); its card says who it is ("(you)" for the
profile's own user); an edit of it is queued by id and described by name. A SalesforceIQ
account list item's points of contact (and an account's contacts) hold several contacts:
shown by name, edited as a list of ids through the outbox, validated.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from crmtui.fields import FieldError, display
from crmtui.model import Choice, FieldSpec, FieldType, Record, RecordRef, Role
from crmtui.notebook_html import cell_text
from crmtui.service import Crm
from crmtui.service.references import (
    UserCard,
    match_users,
    not_cached,
    picked_value,
    user_card,
)
from crmtui.ui.widgets.record_table import Column
from crmtui.vendors.mapping import UserShape
from tests.helpers.service import demo_with_data

VENDORS = ["freshsales", "salesseek", "salesloft", "activecampaign", "salesforceiq"]
# the vendors whose users carry a role (Salesloft's job role); the others give none
ROLES = {"salesloft"}
Opened = tuple[Crm, Any]  # the service, the sandbox's data


@pytest.fixture
async def opened(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Opened]:
    """The demo's service on one vendor's sandbox, and the sandbox's data."""
    crm, db = demo_with_data(request.param, tmp_path)
    async with crm:
        yield crm, db


def profile_of(crm: Crm) -> str:
    return next(iter(crm.states))


async def owned(crm: Crm) -> tuple[str, FieldSpec, list[Record]]:
    """The first kind with an owner field (``Role.OWNER``), its spec, its cached records."""
    profile = profile_of(crm)
    for info in await crm.kinds(profile):
        key = info.role(Role.OWNER)
        if key is None:
            continue
        await crm.refresh(profile, info.kind)
        specs = {s.key: s for s in await crm.fields(profile, info.kind)}
        records = crm.window(profile, info.kind, offset=0, limit=100)
        if key in specs and any(r.fields.get(key) for r in records):
            return info.kind, specs[key], records
    raise AssertionError(f"{profile}: no kind with an owner")


# -- pure ---------------------------------------------------------------------------


def test_a_user_shape_reads_a_name_an_email_and_a_role() -> None:
    shape = UserShape(name=("firstName", "lastName"), email="email", role="job.title")
    ann = {"id": 7, "firstName": "Ann", "lastName": "Lee", "email": "ann@x.test"}
    assert shape.choice({**ann, "job": {"title": "Rep"}}) == Choice(
        value="7", label="Ann Lee", email="ann@x.test", role="Rep"
    )
    assert shape.choice({"firstName": "No id"}) is None  # never a user without an id
    nameless = shape.choice({"id": "8", "email": "b@x.test"})
    assert nameless is not None and nameless.label == "b@x.test"  # the email, else the id
    assert shape.choice(ann, "Ann Lee (inactive)").label == "Ann Lee (inactive)"  # type: ignore[union-attr]


USERS = [
    Choice(value="1", label="Ann Lee", email="ann.lee@acme.test", role="Manager"),
    Choice(value="2", label="Ben Ode", email="ben@acme.test"),
    Choice(value="3", label="Carla Benitez", email="cb@acme.test"),
]
OWNER = FieldSpec(key="owner", label="Owner", type=FieldType.USER, writable=True, choices=USERS)


def test_users_are_found_by_name_or_email_the_name_start_first() -> None:
    assert [c.label for c in match_users(USERS, "ben")] == ["Ben Ode", "Carla Benitez"]
    assert [c.label for c in match_users(USERS, "BENI")] == ["Carla Benitez"]
    assert [c.label for c in match_users(USERS, "cb@")] == ["Carla Benitez"]  # the email
    assert [c.label for c in match_users(USERS, "lee")] == ["Ann Lee"]  # a word of the name
    assert match_users(USERS, "zz") == []
    assert match_users([*USERS, USERS[0]], "") == USERS  # each once; all when blank
    assert len(match_users(USERS, "", limit=2)) == 2


def test_a_user_card_names_the_user_and_says_you_or_unknown() -> None:
    card = user_card(OWNER, "1", me="1")
    assert card == UserCard(
        id="1", name="Ann Lee", email="ann.lee@acme.test", role="Manager", you=True
    )
    assert card.lines() == [
        ("Name", "Ann Lee (you)"),
        ("Email", "ann.lee@acme.test"),
        ("Role", "Manager"),
    ]
    other = user_card(OWNER, "2", me="1")
    assert other is not None and not other.you and other.lines()[-1] == ("Email", "ben@acme.test")
    gone = user_card(OWNER, "99")
    assert gone is not None and not gone.known and gone.name == not_cached("99")
    assert user_card(OWNER, None) is None
    # everywhere a value is shown: the name, never a bare id, even of a user not listed
    assert display(OWNER, "2") == "Ben Ode"
    assert display(OWNER, "99") == not_cached("99")


def test_several_picked_records_are_queued_as_ids_once_each() -> None:
    spec = FieldSpec(key="contacts", label="Contacts", type=FieldType.MULTI_CHOICE, writable=True)
    assert picked_value(spec, ["a1", "b2", "a1"]) == "a1, b2"
    assert picked_value(spec, []) == ""  # all unmarked: emptied
    with pytest.raises(FieldError, match="not a record id"):
        picked_value(spec, ["a1,b2"])  # would read back as two
    needed = spec.model_copy(update={"required": True})
    with pytest.raises(FieldError, match="at least one"):
        picked_value(needed, [])


# -- every vendor's owners ------------------------------------------------------------


@pytest.mark.parametrize("opened", VENDORS, indirect=True)
async def test_owners_are_users_named_described_and_kept_offline(opened: Opened) -> None:
    crm, _ = opened
    profile = profile_of(crm)
    vendor = profile.removeprefix("demo-")
    kind, spec, records = await owned(crm)
    assert spec.type is FieldType.USER and spec.choices, (vendor, kind)
    # the vendor's users as its package declares them: a name and an email each
    assert all(c.label and c.label != c.value for c in spec.choices), spec.choices
    assert all(c.email and "@" in c.email for c in spec.choices), spec.choices
    assert any(c.role for c in spec.choices) is (vendor in ROLES)
    me = await crm.me(profile)
    record = next(r for r in records if r.fields.get(spec.key))
    value = record.fields[spec.key]
    choice = spec.choice(value)
    assert choice is not None, (vendor, value)
    # the list's column and the notebook's table read the name
    assert Column(key=spec.key, label=spec.label, spec=spec).cell(record) == choice.label
    assert cell_text(record, spec.key, {spec.key: spec}) == choice.label
    card = user_card(spec, value, me)
    assert card is not None and card.name == choice.label and card.email == choice.email
    assert card.you is (me is not None and str(me) == str(value))
    if me is not None and spec.choice(me) is not None:
        mine = user_card(spec, me, me)
        assert mine is not None and mine.lines()[0][1].endswith("(you)")
    # kept with the specs: the card and the picker work from the cache, offline
    kept = {s.key: s for s in crm.store.get_fields(profile, kind) or []}
    assert kept[spec.key].choices == spec.choices

    if not spec.writable:
        return
    # an edit: queued by id, described by name, sent as the id
    other = next(c for c in spec.choices if c.value != str(value))
    change = await crm.edit(record.ref, {spec.key: other.value})
    assert change is not None and change.values[spec.key] == other.value
    said = crm.describe(change)
    assert f"{spec.label}: {choice.label} → {other.label}" in said, said
    assert other.value not in said.replace(other.label, "")  # the name, not the id
    await crm.send_now(profile)
    assert crm.changes(profile) == [], [c.last_error for c in crm.changes(profile)]
    got = await crm.get(record.ref)
    assert str(got.fields[spec.key]) == other.value


# -- SalesforceIQ: several contacts --------------------------------------------------


@pytest.mark.parametrize("opened", ["salesforceiq"], indirect=True)
async def test_salesforceiq_points_of_contact_and_an_accounts_contacts_are_several(
    opened: Opened,
) -> None:
    crm, db = opened
    profile = profile_of(crm)
    infos = await crm.kinds(profile)
    opportunities = next(i for i in infos if i.label == "Opportunities")  # an account list
    leads = next(i for i in infos if i.label == "Leads")  # a contact list: one contact
    assert opportunities.references.get("contacts") == "contact"
    assert "contacts" not in leads.references and leads.references.get("contact") == "contact"
    await crm.refresh(profile, "contact")
    await crm.refresh(profile, opportunities.kind)
    specs = {s.key: s for s in await crm.fields(profile, opportunities.kind)}
    spec = specs["contacts"]
    assert spec.type is FieldType.MULTI_CHOICE and spec.writable and "contact" not in specs
    assert "contacts" not in {s.key for s in await crm.fields(profile, leads.kind)}

    items = crm.window(profile, opportunities.kind, offset=0, limit=100)
    item = next(r for r in items if r.fields.get("contacts"))
    titles = {r.id: r.title for r in crm.window(profile, "contact", offset=0, limit=500)}
    held = [str(i) for i in item.fields["contacts"]]
    assert item.names["contacts"] == ", ".join(titles[i] for i in held)

    # two marked: queued as their ids, described by their names, sent as contactIds
    others = [i for i in titles if i not in held][:2]
    wanted = [held[0], *others]
    change = await crm.edit(item.ref, {"contacts": picked_value(spec, wanted)})
    assert change is not None and change.values["contacts"] == wanted
    said = crm.describe(change)
    assert ", ".join(titles[i] for i in wanted) in said, said
    queued = crm.cached(item.ref)
    assert queued is not None and queued.names["contacts"] == ", ".join(titles[i] for i in wanted)
    await crm.send_now(profile)
    assert crm.changes(profile) == [], [c.last_error for c in crm.changes(profile)]
    list_id = opportunities.kind.removeprefix("list:")
    assert db.items[list_id][item.id]["contactIds"] == wanted

    # one unmarked: the others stay
    change = await crm.edit(item.ref, {"contacts": picked_value(spec, wanted[1:])})
    assert change is not None
    await crm.send_now(profile)
    assert crm.changes(profile) == [], [c.last_error for c in crm.changes(profile)]
    assert db.items[list_id][item.id]["contactIds"] == wanted[1:]
    shown = crm.cached(item.ref)
    assert shown is not None and shown.names["contacts"] == ", ".join(titles[i] for i in wanted[1:])

    # free text is refused before it is queued: nothing in the outbox
    with pytest.raises(FieldError, match="pick"):
        await crm.edit(item.ref, {"contacts": f"{wanted[1]}, not an id"})
    assert crm.changes(profile) == []

    # an account's contacts: several too, through the outbox
    info = next(i for i in infos if i.kind == "company")
    assert info.references.get("contacts") == "contact"
    await crm.refresh(profile, "company")
    spec = {s.key: s for s in await crm.fields(profile, "company")}["contacts"]
    assert spec.type is FieldType.MULTI_CHOICE and spec.writable
    accounts = crm.window(profile, "company", offset=0, limit=100)
    # an account on no list item: its contacts may all change
    on_items = {i.get("accountId") for items in db.items.values() for i in items.values()}
    account = next(a for a in accounts if a.id not in on_items)
    held = [str(i) for i in account.fields.get("contacts") or []]
    assert account.names.get("contacts", "") == ", ".join(titles[i] for i in held)
    wanted = [i for i in titles if i not in held][-2:]
    change = await crm.edit(account.ref, {"contacts": picked_value(spec, wanted)})
    assert change is not None
    assert ", ".join(titles[i] for i in wanted) in crm.describe(change)
    await crm.send_now(profile)
    assert crm.changes(profile) == [], [c.last_error for c in crm.changes(profile)]
    people = db.accounts[account.id]["fieldValues"].get("person_ids") or []
    assert [p["raw"] for p in people] == wanted
    got = await crm.get(RecordRef(profile=profile, kind="company", id=account.id))
    assert got.fields["contacts"] == wanted
