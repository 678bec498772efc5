"""``crmtui sync`` attacked with a vendor whose data moves while the sync reads it.

Each test compares what the cache holds after a sync with what the vendor holds: a
record the vendor changed that the cache never received is a record silently skipped.
The vendor is an in-process sandbox; ``Between`` changes its data between two list
pages (as a colleague editing in the vendor's web app would).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crmtui.model import utcnow
from crmtui.sandbox.activecampaign.data import parse_stamp, stamp
from crmtui.sandbox.salesseek.app import ordered
from crmtui.service.sync import SyncProgress
from tests.helpers.reliability import Rig, build, close

Hook = Callable[[Any], None]


class Between:
    """In front of a sandbox: after the ``nth`` answered GET of a path ending in
    ``suffix``, ``hook(db)`` changes the vendor's data (once); or, with ``when`` set,
    before the first such GET whose query string ``when`` accepts."""

    def __init__(self, app: Any, suffix: str, nth: int, hook: Hook) -> None:
        self.app: ASGIApp = app
        self.db = app.state.db
        self.suffix, self.nth, self.hook = suffix, nth, hook
        self.seen = 0
        self.when: Callable[[str], bool] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        watched = (
            scope["type"] == "http"
            and scope["method"] == "GET"
            and scope["path"].rstrip("/").endswith(self.suffix)
        )

        if watched and self.when is not None and self.when(scope["query_string"].decode()):
            self.when = None
            self.hook(self.db)

        async def sending(message: Message) -> None:
            if watched and message["type"] == "http.response.body" and not message.get("more_body"):
                self.seen += 1
                if self.seen == self.nth:
                    self.hook(self.db)
            await send(message)

        await self.app(scope, receive, sending)


def between(rig: Rig, suffix: str, nth: int, hook: Hook) -> Between:
    """Put a ``Between`` in front of the rig's sandbox."""
    wrapper = Between(rig.app, suffix, nth, hook)
    rig.crm.http.mount_app(f"http://{rig.vendor}.localhost", wrapper)
    return wrapper


@pytest.fixture
async def rigs(tmp_path: Path) -> AsyncIterator[Callable[[str], Rig]]:
    """``rigs(vendor)``: a ``Rig`` over that vendor's sandbox, closed after the test."""
    made: list[Rig] = []

    def make(vendor: str) -> Rig:
        made.append(build(vendor, tmp_path / f"{vendor}.sqlite3"))
        return made[-1]

    yield make
    for rig in made:
        await close(rig)


def cached(rig: Rig, kind: str) -> dict[str, Any]:
    """The cache's records of ``kind``: id -> updated_at."""
    rows = rig.crm.store.window(rig.vendor, kind, offset=0, limit=100_000)
    return {r.id: r.updated_at for r in rows}


@pytest.fixture
async def iq(rigs: Callable[[str], Rig]) -> Rig:
    return rigs("salesforceiq")


# -- SalesforceIQ: modifiedDate (at or after, ascending) ------------------------------------


def iq_contacts(db: Any) -> dict[str, int]:
    """The vendor's contacts a full read lists: id -> modifiedDate (ms)."""
    return {cid: c["modifiedDate"] for cid, c in db.contacts.items() if cid not in db.aliases}


@pytest.mark.parametrize("incremental", [False, True])
async def test_iq_a_contact_edited_while_the_sync_reads_skips_no_other(
    iq: Rig, incremental: bool
) -> None:
    """SalesforceIQ lists by ascending ``modifiedDate``: a contact edited after the first
    page moves to the end of the list. Read by ``_start`` offsets, every contact after it
    moved up one place and the first of the next page was never read (its change lost
    for good: the next sync's mark is past it)."""
    db = iq.app.state.db
    if incremental:
        await iq.crm.sync("salesforceiq", ["contact"], per_page=5)
        newest = max(iq_contacts(db).values())
        for n, cid in enumerate(sorted(iq_contacts(db))[:12]):
            db.contacts[cid]["modifiedDate"] = newest + 60_000 * (n + 1)
    before = iq_contacts(db)
    order = sorted(before, key=lambda cid: (before[cid], cid))
    if incremental:
        order = order[-12:]

    def edit(db: Any) -> None:  # the first contact read is edited on the vendor
        db.contacts[order[0]]["modifiedDate"] = max(iq_contacts(db).values()) + 1000

    between(iq, "/contacts", 2 if not incremental else 1, edit)
    (result,) = await iq.crm.sync("salesforceiq", ["contact"], per_page=5)
    assert not result.error
    want = {cid: ms for cid, ms in iq_contacts(db).items()}
    have = cached(iq, "contact")
    stale = sorted(
        cid
        for cid, ms in want.items()
        if cid in order and (have.get(cid) is None or int(have[cid].timestamp() * 1000) != ms)
    )
    assert stale in ([], [order[0]]), stale  # at most the one edited during the sync lags


async def test_iq_contacts_sharing_a_modified_date_past_a_page_are_all_read(iq: Rig) -> None:
    """A bulk update gives twelve contacts one ``modifiedDate`` to the millisecond: read 5
    to a page, the ties fill whole pages and every one of them reaches the cache."""
    db = iq.app.state.db
    await iq.crm.sync("salesforceiq", ["contact"], per_page=5)
    bulk = max(iq_contacts(db).values()) + 60_000
    chosen = sorted(iq_contacts(db))[:12]
    for cid in chosen:
        db.contacts[cid]["modifiedDate"] = bulk
    (result,) = await iq.crm.sync("salesforceiq", ["contact"], per_page=5)
    assert not result.error
    have = cached(iq, "contact")
    assert sorted(c for c in chosen if int(have[c].timestamp() * 1000) != bulk) == []


# -- Salesloft: updated_at[gte] with the ids read at the mark (paging.Mark) -----------------


@pytest.fixture
async def loft(rigs: Callable[[str], Rig]) -> Rig:
    return rigs("salesloft")


async def test_loft_a_tied_account_edited_between_tie_pages_skips_no_other(loft: Rig) -> None:
    """Twelve accounts share one ``updated_at`` (a bulk update); read 5 to a page, the ties
    fill pages 1 and 2 of the same mark. One of page 1 edited before page 2 is asked moves
    past the others: every tie after it moved up one place, and the first tie of page 2
    must still be read."""
    accounts = loft.app.state.db["accounts"]
    await loft.crm.sync("salesloft", ["company"], per_page=5)
    newest = max(row["updated_at"] for row in accounts.values())
    bulk = newest + timedelta(minutes=10, microseconds=123456)
    chosen = sorted(accounts)[:12]
    for key in chosen:
        accounts[key]["updated_at"] = bulk

    def edit(db: Any) -> None:  # a tie already read is edited on the vendor
        tied = sorted(k for k in chosen if db["accounts"][k]["updated_at"] == bulk)
        db["accounts"][tied[0]]["updated_at"] = bulk + timedelta(minutes=1)

    wrapper = between(loft, "/accounts", 0, edit)
    wrapper.when = lambda query: "page=2" in query and "updated_at%5Bgte%5D" in query
    (result,) = await loft.crm.sync("salesloft", ["company"], per_page=5)
    assert not result.error
    have = cached(loft, "company")
    stale = [k for k in chosen if have.get(str(k)) != accounts[k]["updated_at"]]
    assert stale == []


# -- the mark a sync stores: reads not in update order --------------------------------------


@pytest.fixture
async def ac(rigs: Callable[[str], Rig]) -> Rig:
    return rigs("activecampaign")


async def test_ac_a_deal_edited_early_in_a_long_sync_comes_with_the_next(ac: Rig) -> None:
    """ActiveCampaign lists deals in id order, not by update. A deal already read is edited
    early in a long sync; a deal read later was edited half an hour after it. The mark
    the sync keeps must not pass the first edit: the next sync brings it."""
    deals = ac.app.state.db.deals
    newest = max([utcnow(), *(parse_stamp(d["mdate"]) for d in deals.values())])
    start = newest.replace(microsecond=0)  # AC stamps whole seconds
    edited: dict[str, datetime] = {}

    def edit(db: Any) -> None:
        have = cached(ac, "deal")
        early = next(k for k in sorted(db.deals, key=int) if k in have)
        late = next(k for k in sorted(db.deals, key=int, reverse=True) if k not in have)
        for key, when in (
            (early, start + timedelta(minutes=1)),
            (late, start + timedelta(minutes=31)),
        ):
            db.deals[key]["mdate"] = stamp(when)
            edited[key] = when

    between(ac, "/deals", 3, edit)  # the plan, then two pages (the first one stored)
    for _ in range(2):
        (result,) = await ac.crm.sync("activecampaign", ["deal"], per_page=5)
        assert not result.error
    have = cached(ac, "deal")
    assert {k: have.get(k) for k in edited} == edited


# -- deletions while a sync reads by offset -------------------------------------------------


@pytest.mark.parametrize("gone", [["first"], ["anchor"], ["first", "anchor"]])
async def test_seek_a_contact_deleted_while_the_sync_reads_skips_no_other(
    rigs: Callable[[str], Rig], gone: list[str]
) -> None:
    """SalesSeek pages by ``start`` offsets (newest change first). Contacts already read
    are deleted on the vendor after the second page (the first one read, the last one
    read, or both): every contact after them moved up, and those that moved onto pages
    already read must still be read."""
    seek = rigs("salesseek")
    db = seek.app.state.db

    def delete(report: SyncProgress) -> None:
        if report.pages != 2 or report.done:
            return
        have = cached(seek, "contact")
        order = ordered(list(db.individuals.values()), ("modified", True), lambda r: r)
        read = [r["id"] for r in order if r["id"] in have]
        for which in gone:
            db.remove("individuals", read[0] if which == "first" else read[-1])

    (result,) = await seek.crm.sync("salesseek", ["contact"], delete, per_page=5)
    assert not result.error
    assert sorted(set(db.individuals) - set(cached(seek, "contact"))) == []


async def test_ac_a_deal_deleted_while_the_sync_reads_skips_no_other(ac: Rig) -> None:
    """The same attack on ActiveCampaign's deals (``offset``/``limit``, id order)."""
    deals = ac.app.state.db.deals

    def delete(report: SyncProgress) -> None:
        if report.pages == 2 and not report.done:
            del deals[min(cached(ac, "deal"), key=int)]

    (result,) = await ac.crm.sync("activecampaign", ["deal"], delete, per_page=5)
    assert not result.error
    assert sorted(set(deals) - set(cached(ac, "deal"))) == []
