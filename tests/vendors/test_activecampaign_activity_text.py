"""ActiveCampaign's deal timeline from what the real API returns (issue 14).

``dealActivities[].dataId`` is the id of the related object (an integer; the seed: "291
for a note with ID 291"), never a new title or amount: the sandbox used to put the new
value there and the timeline text was built on it. The new value of a change is the
value before the next change of the same attribute, or the deal's own value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from crmtui.http import RateBudget, RateLimiter
from crmtui.model import Change, RecordRef

Wire = Callable[..., Any]


def ac(wire: Wire) -> Any:
    wired = wire("activecampaign")
    wired.adapter.session.limiter = RateLimiter(RateBudget(1000, 1))
    wired.app.state.limit.enabled = False
    return wired


def edit(wired: Any, id: str, **values: Any) -> Change:
    ref = RecordRef(profile=wired.adapter.profile.name, kind="deal", id=id)
    return Change(ref=ref, values=values)


async def test_every_activity_data_id_is_an_integer_id(wire: Wire) -> None:
    wired = ac(wire)
    await wired.adapter.update(edit(wired, "5", name="Renewal 2027", amount="1234.56"))
    await wired.adapter.update(edit(wired, "5", status="won"))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(wired.app), base_url="http://ac.localhost/api/3/"
    ) as client:
        reply = await client.get(
            "dealActivities", params={"deal": "5"}, headers={"Api-Token": "sandbox"}
        )
    rows = reply.json()["dealActivities"]
    assert rows and all(str(r["dataId"]).isdigit() for r in rows), [r["dataId"] for r in rows]
    changed = [r for r in rows if r["dataType"] in ("title", "value", "status")]
    assert {r["dataId"] for r in changed} == {"5"}  # the deal itself


async def test_title_and_amount_changes_read_their_new_values(wire: Wire) -> None:
    wired = ac(wire)
    old = wired.db.deals["5"]["title"]
    await wired.adapter.update(edit(wired, "5", name="Renewal 2027"))
    await wired.adapter.update(edit(wired, "5", name="Renewal 2028", amount="1234.56"))
    timeline = await wired.adapter.timeline("deal", "5")
    renames = [(a.summary, a.body) for a in timeline if a.summary.startswith("Renamed")]
    assert renames[:2] == [
        ("Renamed to Renewal 2028", "Was: Renewal 2027"),
        ("Renamed to Renewal 2027", f"Was: {old}"),
    ]
    value = next(a.summary for a in timeline if a.summary.startswith("Value:"))
    currency = str(wired.db.deals["5"]["currency"]).upper()
    assert value.endswith(f"→ 1,234.56 {currency}")  # the one money format, with currency
    assert all(a.summary.rsplit(" ", 1)[-1] != "5" for a in timeline)  # never the deal id
