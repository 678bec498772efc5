"""A create the vendor would refuse for a missing field is refused before it is queued.

Freshsales documents for leads and contacts "Either Email/Mobile/Twitter ID is required";
crmtui offers no Twitter field, so a new contact or lead needs an email or a mobile number
(``KindInfo.create_needs``, declared in the vendor package). Without one, the create used
to be queued and then refused when sent ("Email can't be blank").
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from crmtui.demo import demo_crm
from crmtui.fields import FieldError
from crmtui.http import Http
from crmtui.model import ChangeState
from crmtui.service import Crm
from tests.helpers.waits import no_sleep

PROFILE = "demo-freshsales"


@pytest.fixture
async def crm(tmp_path: Path) -> AsyncIterator[Crm]:
    crm, _ = demo_crm(
        vendors=["freshsales"],
        store_path=tmp_path / "cache.sqlite3",
        http=Http(sleep=no_sleep),
        rate_limits=False,
    )
    async with crm:
        await crm.kinds(PROFILE)
        yield crm


@pytest.mark.parametrize("kind", ["contact", "lead"])
async def test_a_new_person_without_email_or_mobile_is_refused_before_queueing(
    crm: Crm, kind: str
) -> None:
    before = crm.queued(PROFILE)
    with pytest.raises(FieldError) as refused:
        await crm.create(PROFILE, kind, {"first_name": "Ana", "last_name": "Ruiz"})
    assert str(refused.value) == (f"A new {kind} needs Email or Mobile; nothing was queued")
    assert crm.queued(PROFILE) == before


async def test_a_new_contact_with_a_mobile_number_alone_is_sent(crm: Crm) -> None:
    change = await crm.create(
        PROFILE, "contact", {"last_name": "Ruiz", "mobile_number": "+44 7700 900123"}
    )
    await crm.send_now(PROFILE)
    done = crm.change(change.id)
    assert done is not None and done.state is ChangeState.DONE, done
    record = await crm.get(done.ref)
    assert record.fields["mobile_number"] == "+44 7700 900123"
