"""References by name: a field holding another record's id is declared a reference on
every vendor, read by the service as the cached record's title (in batches), an id the
cache lacks said as such, and a change described in labels ("empty", never "None")."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import pytest

from crmtui.model import (
    Change,
    ChangeState,
    Choice,
    FieldSpec,
    FieldType,
    KindInfo,
    Record,
    RecordRef,
    RelatedRef,
    Role,
)
from crmtui.service.references import EMPTY, References, not_cached
from crmtui.service.references import shown as row_text
from tests.helpers.service import demo_service, demo_with_data

ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:")  # "2026-11-30T08:17", as a vendor sends it


class Titles:
    """The store's ``titles``, counting the queries."""

    def __init__(self, titles: dict[tuple[str, str], str]) -> None:
        self.known, self.queries = titles, 0

    def titles(self, profile: str, kind: str, ids: Iterable[str]) -> dict[str, str]:
        self.queries += 1
        return {i: self.known[(kind, i)] for i in ids if (kind, i) in self.known}


INFO = KindInfo(
    kind="deal",
    label="Deals",
    singular="Deal",
    references={"company": "company", "people": "contact"},
)


def deal(id: str, **fields: object) -> Record:
    return Record(vendor="v", profile="p", kind="deal", id=id, title=f"deal {id}", fields=fields)


def test_a_window_is_named_in_one_query_per_kind_and_an_unknown_id_says_so() -> None:
    store = Titles({("company", "1"): "Acme", ("contact", "7"): "Mei Chen"})
    refs = References(store, lambda profile, kind: INFO if kind == "deal" else None)
    rows = [deal(str(n), company="1", people=["7", "8"]) for n in range(40)]
    rows.append(deal("x", company="4000093", people=None))
    refs.annotate(rows)
    assert store.queries == 2  # one per referenced kind, however many rows
    assert rows[0].names == {"company": "Acme", "people": f"Mei Chen, {not_cached('8')}"}
    assert rows[-1].names == {"company": "#4000093 (not in cache)"}  # never a bare id
    # not cached, but named by the vendor with the record itself (its related records)
    sent = deal("y", company="5")
    sent.related["Account"] = [RelatedRef(kind="company", id="5", title="Blue Networks")]
    refs.annotate([sent])
    assert sent.names == {"company": "Blue Networks"}
    assert not_cached("4000093") != "4000093"
    # the names are never stored nor sent: not part of the record's data
    assert "names" not in rows[0].model_dump() and "_names" not in rows[0].model_dump()


def test_a_change_value_reads_as_the_record_shows_it() -> None:
    refs = References(Titles({("company", "1"): "Acme"}), lambda p, k: INFO)
    status = FieldSpec(
        key="status",
        label="Status",
        type=FieldType.CHOICE,
        choices=[Choice(value="open", label="Open")],
    )
    company = FieldSpec(key="company", label="Account")
    assert refs.describe("p", "deal", status, None) == EMPTY == "empty"
    assert refs.describe("p", "deal", status, "open") == "Open"
    assert refs.describe("p", "deal", company, "1") == "Acme"
    assert refs.describe("p", "deal", company, "2") == not_cached("2")


# Every vendor's reference fields, declared as data (``Field.refers_to``): kind prefix ->
# field key -> the kind it points at.
DECLARED = {
    "freshsales": {
        "deal": {"company": "company"},
        "contact": {"company": "company"},
        "task": {"contact": "contact", "deal": "deal", "company": "company", "lead": "lead"},
    },
    # its deals' and contacts' account ids point at no kind it offers (the seed documents
    # no accounts route), so they are no references (``test_roles``)
    "activecampaign": {
        "deal": {"contact": "contact"},
        "task": {"deal": "deal", "contact": "contact"},
    },
    "salesloft": {
        "contact": {"company": "company"},  # a person's Account (issue 15.1)
        "task": {"contact": "contact"},
        "call": {"contact": "contact"},
        "email": {"contact": "contact"},
    },
    "salesforceiq": {"list:": {"company": "company", "contact": "contact"}},
    # SalesSeek shows what a record is linked to by the names it sends (Organization,
    # Related to); the ids behind them are not offered fields
    "salesseek": {},
}
# Free text a vendor keeps beside a reference, never synced with it, which may read as the
# referenced record's name: vendor -> kind -> (text field -> reference). Not a repeat of
# the name but another fact, so it may equal it, labelled for what it is ("as typed").
ECHOES = {"salesloft": {"contact": {"company_name": "company"}}}


@pytest.mark.parametrize("vendor", list(DECLARED))
async def test_every_vendor_declares_its_references_and_the_service_names_them(
    vendor: str, tmp_path: Path
) -> None:
    crm = demo_service(vendor, tmp_path)
    profile = f"demo-{vendor}"
    try:
        infos = await crm.kinds(profile)
        for prefix, wanted in DECLARED[vendor].items():
            info = next(i for i in infos if i.kind.startswith(prefix))
            assert wanted.items() <= info.references.items(), (vendor, info.kind)
        specs = {info.kind: await crm.fields(profile, info.kind) for info in infos}
        for info in infos:  # a field labelled "... id" holds an id: it must be a reference
            for spec in specs[info.kind]:
                if spec.label.lower().endswith(" id"):
                    assert spec.key in info.references, (vendor, info.kind, spec.label)
                if spec.key in info.references:  # shown by name: labelled as the record
                    assert not spec.label.lower().endswith(" id"), (vendor, spec.label)
                if spec.key in ("owner", "assignee"):  # a user: by name, from its choices
                    named = spec.type is FieldType.USER and spec.choices
                    assert named or spec.key in info.references, (vendor, info.kind, spec.key)
        # read: each kind once, then every reference of every cached record is a name
        # (the cached record's title) or says the record is not cached: never a bare id
        for info in infos:
            await crm.refresh(profile, info.kind)
        named = 0
        for info in infos:
            for record in crm.window(profile, info.kind, offset=0, limit=100):
                # nor a moment as the vendor's ISO text (a Salesloft email's "Sent at")
                raw = [s.label for s in specs[info.kind] if ISO.search(row_text(s, record))]
                assert not raw, (vendor, info.kind, raw)
                for key, target in info.references.items():
                    value = record.fields.get(key)
                    if value in (None, "", []):
                        assert key not in record.names
                        continue
                    ids = value if isinstance(value, list) else [value]
                    titles = crm.store.titles(profile, target, [str(i) for i in ids])
                    sent = {r.id: r.title for rs in record.related.values() for r in rs}
                    expected = ", ".join(
                        titles.get(str(i)) or sent.get(str(i)) or not_cached(str(i)) for i in ids
                    )
                    assert record.names[key] == expected
                    # shown once: no other row of the record (but its title) repeats the name
                    title = info.role(Role.TITLE)
                    echoes = {
                        s.key
                        for s in specs[info.kind]
                        if ECHOES.get(vendor, {}).get(info.kind, {}).get(s.key) == key
                        and s.label.endswith("(as typed)")
                        and not s.writable
                    }
                    twins = [
                        s.label
                        for s in specs[info.kind]
                        if s.key not in (key, title, *echoes) and row_text(s, record) == expected
                    ]
                    assert not twins, (vendor, info.kind, key, twins)
                    named += all(str(i) in titles for i in ids)
                    shown = crm.cached(record.ref)
                    assert shown is not None and shown.names[key] == expected
        assert named or not any(i.references for i in infos), f"{vendor}: none named"
    finally:
        await crm.close()


async def test_an_edit_is_described_in_labels_and_names(tmp_path: Path) -> None:
    crm = demo_service("freshsales", tmp_path)
    profile = "demo-freshsales"
    try:
        await crm.kinds(profile)
        companies = (await crm.refresh(profile, "company")).records
        deals = (await crm.refresh(profile, "deal")).records
        record = next(d for d in deals if d.fields.get("company") == companies[0].id)
        ref = RecordRef(profile=profile, kind="deal", id=record.id)
        await crm.fields(profile, "deal")
        change = await crm.edit(
            ref, {"company": companies[1].id, "amount": "8000", "expected_close": ""}
        )
        assert isinstance(change, Change)
        text = crm.describe(change)
        assert f"Account name: {companies[0].title} → {companies[1].title}" in text
        assert "Deal value: " in text and "→ 8,000.00" in text
        assert "Expected close date: " in text and "→ empty" in text
        assert "None" not in text and companies[1].id not in text and "amount" not in text
        # the record as queued is named at once, everywhere it is read
        cached = crm.cached(ref)
        assert cached is not None and cached.names["company"] == companies[1].title
    finally:
        await crm.close()


async def test_salesloft_names_a_person_before_people_are_cached(tmp_path: Path) -> None:
    """A task's, call's and email's person is one row, "Person", by name from the first
    read of the list (the vendor names it: ``Record.related``), never "#id (not in
    cache)"; it is given when a task is created and never changed after (PUT /v2/tasks
    takes no person_id). A cadence step names its cadence (it is no tab)."""
    crm = demo_service("salesloft", tmp_path)
    profile = "demo-salesloft"
    try:
        await crm.kinds(profile)
        for kind in ("task", "call", "email"):  # people never read
            rows = (await crm.refresh(profile, kind)).records
            assert crm.store.titles(profile, "contact", [r.fields["contact"] for r in rows]) == {}
            shown = crm.window(profile, kind, offset=0, limit=50)
            assert shown and all(r.names["contact"] == r.fields["contact_name"] for r in shown)
            assert not any("not in cache" in r.names["contact"] for r in shown)
            person = [s for s in await crm.fields(profile, kind) if "Person" in s.label]
            assert [s.label for s in person] == ["Person"], kind  # once, not "Person id"
        task = next(s for s in await crm.fields(profile, "task") if s.key == "contact")
        assert not task.writable and task.on_create  # required by POST, refused by PUT
        cadence = (await crm.refresh(profile, "cadence")).records[0]
        full = await crm.adapter(profile).get("cadence", cadence.id)
        step = await crm.adapter(profile).get("step", full.related["Steps"][0].id)
        spec = next(s for s in await crm.fields(profile, "step") if s.key == "cadence")
        assert row_text(spec, step) == cadence.title != step.fields["cadence"]
    finally:
        await crm.close()


async def test_a_salesloft_persons_account_is_picked_and_sent_as_account_id(
    tmp_path: Path,
) -> None:
    """A person's Account is a reference (issue 15.1): shown by name, picked among the
    cached accounts as the picker searches them (offline), queued as ``company``,
    described by names, and sent as ``account_id`` (PUT /v2/people takes it): the
    sandbox's person then belongs to the picked account, and Related says so too."""
    crm, db = demo_with_data("salesloft", tmp_path)
    profile = "demo-salesloft"
    try:
        await crm.kinds(profile)
        accounts = (await crm.refresh(profile, "company")).records
        people = (await crm.refresh(profile, "contact")).records
        spec = next(s for s in await crm.fields(profile, "contact") if s.key == "company")
        assert spec.label == "Account" and spec.writable
        person = next(p for p in people if p.fields.get("company"))
        old = next(a for a in accounts if a.id == person.fields["company"])
        assert crm.window(profile, "contact", offset=0, limit=len(people))
        shown = next(
            r
            for r in crm.window(profile, "contact", offset=0, limit=len(people))
            if r.id == person.id
        )
        assert row_text(spec, shown) == old.title
        # the picker's search: the cache, by name, accounts only
        other = next(a for a in accounts if a.id != old.id and a.title != old.title)
        found = crm.search(other.title, limit=10, profiles=[profile], kinds=["company"])
        assert other.id in [r.id for r in found]
        change = await crm.edit(person.ref, {"company": other.id})
        assert isinstance(change, Change) and change.values == {"company": other.id}
        text = crm.describe(change)
        assert f"Account: {old.title} → {other.title}" in text and other.id not in text
        queued = crm.cached(person.ref)
        assert queued is not None and queued.names["company"] == other.title
        await crm.send_now(profile)
        done = crm.change(change.id)
        assert done is not None and done.state is ChangeState.DONE, done
        assert db["people"][int(person.id)]["account"] == int(other.id)  # what Salesloft holds
        again = await crm.get(person.ref)
        assert again.fields["company"] == other.id
        assert [r.id for r in again.related["Account"]] == [other.id]
    finally:
        await crm.close()
