"""A custom field added in the vendor after the app started shows once the fields are
refreshed: ``fields(kind, refresh=True)`` reads the vendor's schema again (the specs are
otherwise kept for the adapter's life), on every vendor that has custom fields, and the
service's ``fields(refresh=True)`` reaches it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from crmtui.model import FieldSpec
from crmtui.sandbox.freshsales import app as freshsales_app
from crmtui.store import Store
from tests.helpers.service import PROFILE, build_crm, close_crm
from tests.helpers.wiring import Wired

LABEL = "Renewal Quarter"


def add_salesseek(wired: Wired, monkeypatch: pytest.MonkeyPatch) -> None:
    fields = wired.db.custom_fields
    model = next(f for f in fields.values() if f["view"] == "opportunities")
    fields["renewal-quarter"] = {
        **copy.deepcopy(model),
        "id": "renewal-quarter",
        "name": LABEL,
        "type": "text",
        "options": [],
    }


def add_activecampaign(wired: Wired, monkeypatch: pytest.MonkeyPatch) -> None:
    metas = wired.db.cf_meta
    metas["99"] = {
        **copy.deepcopy(metas["2"]),
        "id": "99",
        "fieldLabel": LABEL,
        "fieldType": "text",
        "fieldOptions": None,
        "personalization": "%RENEWAL_QUARTER%",
    }


def add_salesloft(wired: Wired, monkeypatch: pytest.MonkeyPatch) -> None:
    wired.db.insert(
        "custom_fields",
        {"id": 99, "name": LABEL, "field_type": "person", "value_type": "text"},
    )


def add_salesforceiq(wired: Wired, monkeypatch: pytest.MonkeyPatch) -> None:
    wired.db.account_fields.append(
        {
            "id": "renewal_quarter",
            "name": LABEL,
            "listOptions": [],
            "isMultiSelect": False,
            "isEditable": True,
            "dataType": "Text",
        }
    )


def add_freshsales(wired: Wired, monkeypatch: pytest.MonkeyPatch) -> None:
    # The sandbox's field settings are fixed per kind: an admin adding a custom field
    # is the settings gaining one.
    original = freshsales_app.field_settings

    def with_new_field(kind: str, users: list[Any]) -> list[Any]:
        found = original(kind, users)
        model = next(f for f in found if not f.get("default"))  # a custom field
        added = {**copy.deepcopy(model), "name": "cf_renewal_quarter", "label": LABEL}
        added.update(type="text", required=False, id=2000000999, choices=[])
        return [*found, added]

    monkeypatch.setattr(freshsales_app, "field_settings", with_new_field)


CASES: dict[str, tuple[str, Callable[[Wired, pytest.MonkeyPatch], None]]] = {
    "salesseek": ("deal", add_salesseek),
    "activecampaign": ("deal", add_activecampaign),
    "salesloft": ("contact", add_salesloft),
    "salesforceiq": ("company", add_salesforceiq),
    "freshsales": ("deal", add_freshsales),
}


def labels(specs: list[FieldSpec]) -> set[str]:
    return {spec.label for spec in specs}


@pytest.mark.parametrize("vendor", sorted(CASES))
async def test_refreshed_fields_show_a_custom_field_added_since(
    vendor: str, wire: Callable[..., Wired], monkeypatch: pytest.MonkeyPatch
) -> None:
    kind, add = CASES[vendor]
    wired = wire(vendor, rate_limit=False)
    adapter = wired.adapter
    before = await adapter.fields(kind)
    assert LABEL not in labels(before)

    add(wired, monkeypatch)
    after = await adapter.fields(kind, refresh=True)

    assert LABEL in labels(after)
    assert labels(before) < labels(after)  # nothing lost on the way
    assert LABEL in labels(await adapter.fields(kind))  # and kept


async def test_the_services_refresh_reaches_the_vendor(tmp_path: Any) -> None:
    from crmtui import sandbox

    app = sandbox.create_app("activecampaign", rate_limit=False)
    crm = build_crm(Store(tmp_path / "cache.sqlite3"), app)
    try:
        profile = PROFILE
        assert LABEL not in labels(await crm.fields(profile, "deal"))
        metas = app.state.db.cf_meta
        metas["99"] = {**copy.deepcopy(metas["2"]), "id": "99", "fieldLabel": LABEL}
        metas["99"].update(fieldType="text", fieldOptions=None)

        assert LABEL not in labels(await crm.fields(profile, "deal"))  # kept, as before
        assert LABEL in labels(await crm.fields(profile, "deal", refresh=True))
    finally:
        await close_crm(crm)
