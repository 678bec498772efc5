"""Every paging loop ends, even against a vendor that ignores its paging parameter (issue 14).

A vendor answering the first page whatever ``offset`` (ActiveCampaign) or ``_start``
(SalesforceIQ) says used to make a sync ask for ever: the cursor moved on, the page did
not. The cursor now carries the last id read and a page ending on it ends the read.
(Salesloft's equivalents are in ``test_salesloft_contract_drifts``.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest

from tests.helpers.reliability import build, close

IGNORED = {"activecampaign": "offset", "salesforceiq": "_start"}
KINDS = {"activecampaign": "deal", "salesforceiq": "company"}


class IgnorePaging:
    """In front of a sandbox: the vendor's paging offset dropped from every query."""

    def __init__(self, app: Any, param: str) -> None:
        self.app = app
        self.param = param

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            pairs = parse_qsl(scope["query_string"].decode(), keep_blank_values=True)
            kept = urlencode([(k, v) for k, v in pairs if k != self.param])
            scope = {**scope, "query_string": kept.encode()}
        await self.app(scope, receive, send)


@pytest.mark.parametrize("vendor", list(IGNORED))
async def test_a_sync_ends_when_the_vendor_repeats_its_first_page(
    vendor: str, tmp_path: Path
) -> None:
    rig = build(vendor, tmp_path / "cache.sqlite3")
    try:
        rig.crm.http.mount_app(f"http://{vendor}.localhost", IgnorePaging(rig.app, IGNORED[vendor]))
        (result,) = await rig.crm.sync(vendor, [KINDS[vendor]], per_page=10)
        assert not result.error
        if vendor == "salesforceiq":  # a sync asks from the last modifiedDate read, at
            # _start=0 but for ties filling a page: it reads every account, and ends
            assert result.records == result.changed == len(rig.app.state.db.accounts)
            return
        # the first page; then, asked from its last row (the anchor) with one more, the
        # first page again and one row past the anchor; then one ending on it: the end
        assert result.pages == 3
        assert result.records == result.changed == 11
    finally:
        await close(rig)


@pytest.mark.parametrize("vendor", list(IGNORED))
async def test_a_sync_of_a_vendor_that_pages_reads_every_record(
    vendor: str, tmp_path: Path
) -> None:
    rig = build(vendor, tmp_path / "cache.sqlite3")
    try:
        (result,) = await rig.crm.sync(vendor, [KINDS[vendor]], per_page=50)
        kind = KINDS[vendor]
        cached = rig.crm.store.window(vendor, kind, offset=0, limit=100_000)
        assert not result.error and result.records == len(cached) > 50
        assert len({r.id for r in cached}) == len(cached)
    finally:
        await close(rig)
