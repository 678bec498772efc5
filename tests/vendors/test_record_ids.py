"""Garbage ids are refused, never stored: every adapter reads ids through one helper.

A middleware in front of each vendor's sandbox spoils the first record of a list reply
(its id becomes ``null``, an object, a float, a boolean, empty or a path), or puts a
``NaN`` into it. The adapter must raise a typed error naming the vendor, and the cache
must hold no record "None" or "{'a': 1}".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks.soak import PLANS, VENDORS
from crmtui.http import BadResponse, CrmError
from crmtui.model import Query
from tests.helpers.reliability import build, close
from tests.helpers.replies import RewriteReplies

BAD_IDS = {
    "null": None,
    "object": {"a": 1},
    "float": 1.5,
    "bool": True,
    "empty": "",
    "path": "../../users/1",
    "dot": ".",  # httpx resolves "contacts/." and "contacts/.." (the API root)
    "dot-dot": "..",
    "300 digits": 10**300,
}


def records_in(body: Any) -> list[dict[str, Any]]:
    """The longest list of objects with an ``id`` in a list reply (any vendor's shape)."""
    lists = [body] if isinstance(body, list) else []
    if isinstance(body, dict):
        lists += [v for v in body.values() if isinstance(v, list)]
    lists = [[r for r in items if isinstance(r, dict) and "id" in r] for items in lists]
    return max(lists, key=len, default=[])


class Spoil(RewriteReplies):
    """Rewrites the first record of every GET reply that lists records."""

    def __init__(self, app: Any, spoil: Any) -> None:
        super().__init__(app, self.first)
        self.spoil = spoil
        self.spoiled = 0

    def first(self, path: str, data: Any) -> bool:
        found = records_in(data)
        if found:
            self.spoil(found[0])
            self.spoiled += 1
        return bool(found)


async def browse_spoiled(
    tmp_path: Path, vendor: str, spoil: Any, *, lists: bool = False
) -> CrmError:
    """Browse once (the adapter reads its settings: users, stages...), then again with
    the first record spoiled: the error, and nothing more in the cache. ``lists``: browse
    the vendor's first kind (a SalesforceIQ list) rather than its plan's."""
    rig = build(vendor, tmp_path / "cache.sqlite3")
    kind = PLANS[vendor].browse
    try:
        if lists:
            kind = (await rig.crm.kinds(vendor))[0].kind
        await rig.crm.refresh(vendor, kind, Query(per_page=5))
        before = rig.crm.store.count(vendor, kind)
        spoiler = Spoil(rig.app, spoil)
        rig.crm.http.mount_app(f"http://{vendor}.localhost", spoiler)
        with pytest.raises(CrmError) as caught:
            await rig.crm.refresh(vendor, kind, Query(per_page=7))
        assert spoiler.spoiled
        after = rig.crm.store.count(vendor, kind)
    finally:
        await close(rig)
    assert after == before
    return caught.value


@pytest.mark.parametrize("bad", BAD_IDS.values(), ids=BAD_IDS.keys())
@pytest.mark.parametrize("vendor", VENDORS)
async def test_a_record_whose_id_is_not_a_string_or_integer_is_refused(
    tmp_path: Path, vendor: str, bad: Any
) -> None:
    error = await browse_spoiled(tmp_path, vendor, lambda record: record.update(id=bad))
    assert isinstance(error, BadResponse), repr(error)
    text = str(error)
    label = text.split(":")[0]
    assert label and label.lower().replace(" ", "") in vendor
    assert "not a usable id" in text and "not stored" in text
    assert "None" not in text


@pytest.mark.parametrize(
    "bad", [{"token": "{secret}"}, ["{secret}"], "{secret}/x", "{secret}" * 8], ids=str
)
@pytest.mark.parametrize("vendor", VENDORS)
async def test_a_refused_id_never_shows_a_secret(tmp_path: Path, vendor: str, bad: Any) -> None:
    """The error quotes a short refused id (it may echo the key): redacted at the
    service's boundary, and a long one is never cut into a piece the redactor misses."""
    secret = "s3cr3t-" + "9f" * 12
    rig = build(vendor, tmp_path / "cache.sqlite3", secrets=_secrets_for(vendor, secret))
    spoilt = json.loads(json.dumps(bad).replace("{secret}", secret))
    kind = PLANS[vendor].browse
    try:
        await rig.crm.refresh(vendor, kind, Query(per_page=5))
        rig.crm.http.mount_app(
            f"http://{vendor}.localhost", Spoil(rig.app, lambda record: record.update(id=spoilt))
        )
        with pytest.raises(BadResponse) as caught:
            await rig.crm.refresh(vendor, kind, Query(per_page=7))
        status = rig.crm.states[vendor].message
    finally:
        await close(rig)
    text = f"{caught.value} {caught.value.args} {status}"
    assert "not a usable id" in text
    assert secret not in text and secret[:20] not in text


def _secrets_for(vendor: str, secret: str) -> dict[str, str]:
    from crmtui import sandbox

    return {
        key: f"{secret}{i}" if i else secret for i, key in enumerate(sandbox.info(vendor).secrets)
    }


REFERENCES = [
    ("freshsales", {"owner_id": 1.5}),
    ("freshsales", {"sales_account_id": {"evil": 1}}),
    ("freshsales", {"owner_id": True}),
    ("freshsales", {"sales_account_id": "../../x"}),
    ("freshsales", {"sales_account_id": 10**300}),
    ("salesloft", {"owner": {"id": 1.5}}),
    ("salesloft", {"account": {"id": {"evil": 1}}}),
    ("salesloft", {"owner": True}),
    ("activecampaign", {"owner": 1.5}),
    ("activecampaign", {"account": {"evil": 1}}),
    ("activecampaign", {"stage": "../../x"}),
    ("salesseek", {"owner_id": 1.5}),
    ("salesseek", {"organization_id": {"evil": 1}}),
    ("salesseek", {"owner_id": ".."}),
    ("salesforceiq", {"accountId": {"evil": 1}}),
    ("salesforceiq", {"contactIds": [1.5]}),
    ("salesforceiq", {"accountId": ".."}),
]


@pytest.mark.parametrize(("vendor", "spoilt"), REFERENCES, ids=str)
async def test_a_reference_to_another_record_is_checked_like_an_id(
    tmp_path: Path, vendor: str, spoilt: dict[str, Any]
) -> None:
    """An owner or account id is read through ``record_id`` too: ``1.5`` or ``{"evil":
    1}`` is refused, never stored as the text "1.5" or "{'evil': 1}"."""
    error = await browse_spoiled(
        tmp_path, vendor, lambda record: record.update(spoilt), lists=vendor == "salesforceiq"
    )
    assert isinstance(error, BadResponse), repr(error)
    assert "not a usable id" in str(error) and "reference" in str(error)


@pytest.mark.parametrize("vendor", VENDORS)
async def test_nan_in_a_reply_is_refused(tmp_path: Path, vendor: str) -> None:
    error = await browse_spoiled(
        tmp_path, vendor, lambda record: record.update(nan_value=float("nan"))
    )
    assert isinstance(error, BadResponse) and "NaN" in str(error)
