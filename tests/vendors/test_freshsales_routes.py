"""Freshsales on its documented routes only (issue 14): what a real account would serve.

- A create whose reply was lost is found again through documented views, not the
  undocumented search API (which nothing uses: the search a user types searches the
  cache, ``tests/vendors/test_freshsales.py``).
- A full sync of tasks reads the ``open`` and the ``completed`` ones.
- A full sync reads every record through the Scroll API (``/api/<kind>/scroll/<view>``):
  a view is "a defined set of records" (the sandbox's "Recent Deals" holds the deals of
  the last 90 days), so a sync through a view would silently miss records.
- A scroll whose ``last_fetched_id`` stops moving ends (a sync is bounded).
- Timelines ask ``/activities`` only of leads and contacts (the doc has no feed for
  accounts and deals, whose URL is a 404 on a real account).
- A documented read redirect (301/302) to the same origin is followed, with the token;
  the token never goes to another host.
- A Freshworks-suite account (``NAME.myfreshworks.com``) is reached at ``/crm/sales/api/``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import Mount
from starlette.types import Receive, Scope, Send

from crmtui import sandbox, vendors
from crmtui.http import Http, Redirected
from crmtui.model import ActivityType, Change, Query, RecordRef
from crmtui.vendors.base import Profile
from tests.helpers.reliability import Rig, build, close
from tests.helpers.replies import RewriteReplies
from tests.helpers.waits import no_sleep

VENDOR = "freshsales"
ORIGIN = f"http://{VENDOR}.localhost"
TABLES = {"contact": "contacts", "lead": "leads", "company": "sales_accounts", "deal": "deals"}


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    made = build(VENDOR, tmp_path / "cache.sqlite3")
    yield made
    await close(made)


def cached(rig: Rig, kind: str) -> set[str]:
    """The ids of ``kind`` the cache holds, among the sandbox's."""
    table = rig.app.state.db.table(TABLES[kind])
    return set(rig.crm.store.updated_stamps(VENDOR, kind, [str(i) for i in table]))


def paths(rig: Rig) -> list[str]:
    return [f"{e.method} {e.path}" for e in rig.crm.http.log.recent(VENDOR)]


@pytest.mark.parametrize("kind", list(TABLES))
async def test_a_full_sync_reads_every_record_through_the_scroll_api(rig: Rig, kind: str) -> None:
    table = rig.app.state.db.table(TABLES[kind])
    [result] = await rig.crm.sync(VENDOR, kinds=[kind])
    assert cached(rig, kind) == {str(i) for i in table}, f"{kind}: records missing from the cache"
    assert result.records == len(table)
    sent = [p for p in paths(rig) if f"/{TABLES[kind]}/" in p]
    assert any(f"/{TABLES[kind]}/scroll/" in p for p in sent), sent


async def test_a_full_sync_reads_open_and_completed_tasks(rig: Rig) -> None:
    """Tasks have no scroll: the documented filters ``open`` and ``completed`` together
    are every task (a sync of ``open`` alone left every completed task out)."""
    tasks = rig.app.state.db.tasks
    assert any(t["status"] == 1 for t in tasks.values())
    [result] = await rig.crm.sync(VENDOR, kinds=["task"])
    stored = set(rig.crm.store.updated_stamps(VENDOR, "task", [str(i) for i in tasks]))
    assert stored == {str(i) for i in tasks}
    assert result.records == len(tasks)
    sent = [p for p in paths(rig) if p.startswith("GET /api/tasks?")]
    assert any("filter=open" in p for p in sent) and any("filter=completed" in p for p in sent)


async def test_deals_are_not_only_the_recent_ones(rig: Rig) -> None:
    """The doc's "to fetch all deals" view holds recent deals only: every deal is synced."""
    db = rig.app.state.db
    filters = await rig.crm.adapter(VENDOR)._filters(rig.crm.adapter(VENDOR).resource("deal"))
    recent = next(f["id"] for f in filters if f["name"] == "Recent Deals")
    view = await rig.crm.adapter(VENDOR).list_page("deal", Query(view=str(recent), per_page=100))
    assert view.total is not None and view.total < len(db.deals)  # a defined subset
    await rig.crm.sync(VENDOR, kinds=["deal"])
    assert len(cached(rig, "deal")) == len(db.deals)


async def test_an_incremental_sync_gets_a_deal_changed_since(rig: Rig) -> None:
    await rig.crm.sync(VENDOR, kinds=["deal"])
    db = rig.app.state.db
    oldest = min(db.deals.values(), key=lambda d: d["updated_at"])  # in no "recent" view
    client = rig.crm.adapter(VENDOR)
    ref = RecordRef(profile=VENDOR, kind="deal", id=str(oldest["id"]))
    change = Change(ref=ref, values={"name": "Renamed on the vendor"})
    await rig.crm.call(VENDOR, client.update(change))
    [again] = await rig.crm.sync(VENDOR, kinds=["deal"])
    assert again.incremental
    record = rig.crm.store.get_record(ref)
    assert record is not None and record.title == "Renamed on the vendor"


async def test_a_scroll_that_repeats_its_last_id_ends(rig: Rig) -> None:
    """A vendor answering "more" with the same ``last_fetched_id`` again cannot loop a sync."""

    def stuck(path: str, body: Any) -> bool | None:
        if "/scroll/" not in path or not isinstance(body, dict):
            return False
        body["meta"] = {**body.get("meta", {}), "has_next_page": True, "last_fetched_id": 1}
        return None

    rig.crm.http.mount_app(ORIGIN, RewriteReplies(rig.app, stuck))
    [result] = await rig.crm.sync(VENDOR, kinds=["contact"])
    assert 1 <= result.pages <= 2
    scrolls = [p for p in paths(rig) if "/contacts/scroll/" in p]
    assert 1 <= len(scrolls) <= 2, scrolls


async def test_timelines_use_documented_feeds_only(rig: Rig) -> None:
    """Deals and accounts: no ``/activities`` (a 404 on a real account); what their record
    embeds shows instead, with a note added from crmtui and a deal's current stage."""
    db = rig.app.state.db
    client = rig.crm.adapter(VENDOR)
    deal = next(d for d in db.deals.values() if d["stage_updated_time"])
    deal_ref = RecordRef(profile=VENDOR, kind="deal", id=str(deal["id"]))
    note = await rig.crm.call(VENDOR, client.add_note(deal_ref, "Asked for the renewal quote"))
    entries = await rig.crm.call(VENDOR, client.timeline("deal", deal_ref.id))
    assert note.id in [a.id for a in entries]
    assert any(a.body == "Asked for the renewal quote" for a in entries)
    assert any(a.type is ActivityType.STAGE_CHANGE for a in entries)
    account = deal["sales_account_id"]
    await rig.crm.call(VENDOR, client.timeline("company", str(account)))
    contact = next(iter(db.contacts))
    people = await rig.crm.call(VENDOR, client.timeline("contact", str(contact)))
    assert people  # leads and contacts keep their documented feed
    asked = paths(rig)
    assert any(p.startswith(f"GET /api/contacts/{contact}/activities") for p in asked)
    assert not any("/deals/" in p and "/activities" in p for p in asked), asked
    assert not any("/sales_accounts/" in p and "/activities" in p for p in asked), asked


@pytest.mark.parametrize(
    ("kind", "values"),
    [
        ("contact", {"first_name": "Ines", "last_name": "Replay", "email": "ines@replay.example"}),
        ("company", {"name": "Replay Works"}),
    ],
)
async def test_a_lost_create_is_found_again_without_the_search_api(
    rig: Rig, kind: str, values: dict[str, Any]
) -> None:
    """A create whose reply was lost is found through documented views (newest created
    first), never ``/api/search`` (not in the doc); a value not held is not a match."""
    client = rig.crm.adapter(VENDOR)
    made = await rig.crm.call(VENDOR, client.create(kind, dict(values), "key-1"))
    found = await rig.crm.call(VENDOR, client.find_created(kind, dict(values), "key-1"))
    assert found is not None and found.id == made.id
    other = {**values, "city": "Nowhere"}
    assert await rig.crm.call(VENDOR, client.find_created(kind, other, "key-2")) is None
    assert not any("/api/search" in p for p in paths(rig)), paths(rig)


class Hop:
    """Answers the first GET of ``path`` with a 302 to ``to`` (then passes through), and
    records the Authorization header of every request it sees."""

    def __init__(self, app: Any, path: str, to: str) -> None:
        self.app, self.path, self.to = app, path, to
        self.hopped = False
        self.tokens: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = {k.decode(): v.decode() for k, v in scope["headers"]}
            self.tokens.append(headers.get("authorization", ""))
            if not self.hopped and scope["path"] == self.path:
                self.hopped = True
                await RedirectResponse(self.to, status_code=302)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class Witness:
    """Another host: records what reaches it."""

    def __init__(self) -> None:
        self.tokens: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.tokens.append(headers.get("authorization", ""))
        await JSONResponse({"filters": []})(scope, receive, send)


async def test_a_documented_redirect_is_followed_on_the_same_origin(rig: Rig) -> None:
    """ "Ensure that your API client follows redirects": a read moved on the same origin
    is followed with the token and answers; the list is read, not an empty body."""
    hop = Hop(rig.app, "/api/contacts/filters", f"{ORIGIN}/api/contacts/filters")
    rig.crm.http.mount_app(ORIGIN, hop)
    page = await rig.crm.refresh(VENDOR, "contact", Query(per_page=5))
    assert hop.hopped and len(page.records) == 5
    assert all(t.startswith("Token token=") for t in hop.tokens)


async def test_the_token_never_follows_a_redirect_to_another_host(rig: Rig) -> None:
    other = Witness()
    rig.crm.http.mount_app("http://elsewhere.localhost", other)
    hop = Hop(rig.app, "/api/contacts/filters", "http://elsewhere.localhost/api/contacts/filters")
    rig.crm.http.mount_app(ORIGIN, hop)
    with pytest.raises(Redirected, match=r"elsewhere\.localhost"):
        await rig.crm.refresh(VENDOR, "contact", Query(per_page=5))
    assert other.tokens == []


async def test_a_freshworks_suite_account_is_reached_at_crm_sales_api() -> None:
    """``domain = "acme.myfreshworks.com"``: requests go to
    ``https://acme.myfreshworks.com/crm/sales/api/...`` (the suite's bundle path)."""
    app = sandbox.create_app(VENDOR, rate_limit=False)
    suite = Starlette(routes=[Mount("/crm/sales", app=app)])
    http = Http(sleep=no_sleep)
    http.mount_app("https://acme.myfreshworks.com", suite)
    info = sandbox.info(VENDOR)
    profile = Profile(name="suite", vendor=VENDOR, settings={"domain": "acme.myfreshworks.com"})
    profile.secrets = dict(info.secrets)
    client: Callable[..., Any] = vendors.load(VENDOR)
    adapter = client(profile, http)
    try:
        assert adapter.base_url() == "https://acme.myfreshworks.com/crm/sales/api/"
        page = await adapter.list_page("contact", Query(per_page=3))
        assert len(page.records) == 3
        entries = http.log.recent("suite")
        assert entries and all(e.path.startswith("/crm/sales/api/") for e in entries)
    finally:
        await adapter.close()
        await http.aclose()
