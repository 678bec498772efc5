"""A sync ends against a vendor whose paging never does (attack 9): one whose cursor moves
on for ever, and one that names a page it already sent. What was read is kept, one line
says which vendor and kind stopped and why (the result's error, the last progress report
and a warning notice for the app's status line), and the next sync goes on normally.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from crmtui.api import SyncResults
from crmtui.cli import sync_kinds
from crmtui.model import Page, Query
from crmtui.service import Event, Notice
from crmtui.service.sync import PER_PAGE, SyncProgress
from crmtui.vendors.mapping import MAX_PAGES
from tests.helpers.reliability import Rig, build, close

FRESHSALES = "freshsales"
ORIGIN = f"http://{FRESHSALES}.localhost"
MADE_UP = 10**9  # ids of the records the endless vendor makes up (past every real one)
GIVE_UP = 5 * MAX_PAGES  # made-up pages after which the vendor ends (a sync unbounded fails)


class EndlessScroll(httpx.AsyncBaseTransport):
    """In front of the Freshsales sandbox: a contacts scroll never ends. From the last
    page of the real contacts on, each page holds ``per_page`` made-up ones (shaped as the last real one),
    ``has_next_page`` stays true and ``last_fetched_id`` moves forward."""

    def __init__(self, app: Any, per_page: int = 2) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.per_page = per_page
        self.made_up: list[int] = []  # ids sent that the sandbox does not hold
        self.template: dict[str, Any] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if "/contacts/scroll/" not in request.url.path:
            return response
        await response.aread()
        body = json.loads(response.content)
        meta = body["meta"]
        if body["contacts"]:
            self.template = body["contacts"][-1]
        if not meta["has_next_page"] and len(self.made_up) < GIVE_UP * self.per_page:
            after = max(int(meta["last_fetched_id"]), MADE_UP)
            ids = range(after + 1, after + 1 + self.per_page)
            body["contacts"] += [
                {**self.template, "id": i, "last_name": f"Made up {i}", "email": f"m{i}@x.test"}
                for i in ids
            ]
            meta.update(has_next_page=True, last_fetched_id=ids[-1])
            self.made_up.extend(ids)
        return httpx.Response(200, json=body, headers={"content-type": "application/json"})


@pytest.fixture
async def rig(tmp_path: Path) -> Any:
    made = build(FRESHSALES, tmp_path / "cache.sqlite3")
    yield made
    await close(made)


def notices(events: list[Event]) -> list[Notice]:
    return [e for e in events if isinstance(e, Notice)]


async def test_a_scroll_that_never_ends_stops_keeping_the_pages_read(rig: Rig) -> None:
    endless = EndlessScroll(rig.app)
    rig.crm.http.transport.mount(ORIGIN, endless)
    events: list[Event] = []
    rig.crm.subscribe(events.append)
    reports: list[SyncProgress] = []
    real = len(rig.app.state.db.contacts)

    (result,) = await rig.crm.sync(FRESHSALES, ["contact"], reports.append)

    # it ended, well past what the account holds but not far past
    assert endless.made_up, "the vendor never went endless"
    least = -(-real // PER_PAGE)  # the pages the real contacts take
    assert least < result.pages <= 2 * least + MAX_PAGES
    # every page read is kept: the real contacts and every made-up one sent
    assert rig.crm.count(FRESHSALES, "contact") == real + len(endless.made_up)
    assert result.records == real + len(endless.made_up)
    # one line naming the vendor, the kind and why, wherever the user looks
    line = result.error
    assert line.startswith("Freshsales kept sending pages of Contacts: the sync stopped after")
    assert f"{result.pages} pages" in line and f"{real} expected" in line
    assert "kept" in line and "next sync continues" in line and "\n" not in line
    assert [(n.text, n.severity) for n in notices(events)] == [(line, "warning")]
    assert reports[-1].stopped == line and "stopped" in reports[-1].bar()
    assert line in SyncResults([result])._repr_html_()

    # the vendor mended, the next sync continues where this one stopped and ends
    rig.crm.http.mount_app(ORIGIN, rig.app)
    events.clear()
    (again,) = await rig.crm.sync(FRESHSALES, ["contact"])
    assert again.resumed and not again.error and not notices(events)
    assert rig.crm.store.get_sync_state(FRESHSALES, "contact")["since"]


def loop_after(rig: Rig, pages: int, monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The adapter's contacts paging loops: the ``pages``-th page names the second page
    again. Returns the cursors asked for."""
    adapter = rig.crm.adapter(FRESHSALES)
    real = adapter.list_page
    asked: list[str | None] = []
    given: list[str | None] = []

    async def looping(kind: str, query: Query) -> Page:
        page = await real(kind, query)
        if kind != "contact" or query.per_page == 1:  # the plan's count: as it is
            return page
        asked.append(query.cursor)
        given.append(page.next_cursor)
        if len(asked) == pages:
            return page.model_copy(update={"next_cursor": given[0]})
        return page

    monkeypatch.setattr(adapter, "list_page", looping)
    return asked


async def test_a_cursor_given_again_ends_the_sync(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = loop_after(rig, 3, monkeypatch)
    events: list[Event] = []
    rig.crm.subscribe(events.append)

    (result,) = await rig.crm.sync(FRESHSALES, ["contact"], per_page=20)

    assert len(asked) == result.pages == 3  # the loop is not followed
    assert rig.crm.count(FRESHSALES, "contact") == result.records == 60
    line = result.error
    assert line.startswith("Freshsales named a page of Contacts it had already sent")
    assert "stopped after 3 pages (60 records)" in line and "next sync reads Contacts over" in line
    assert [n.text for n in notices(events)] == [line]

    # the vendor mended, the next sync reads the kind from the start, to its end
    monkeypatch.undo()
    (again,) = await rig.crm.sync(FRESHSALES, ["contact"], per_page=20)
    assert not again.resumed and not again.error
    assert rig.crm.count(FRESHSALES, "contact") == len(rig.app.state.db.contacts)


async def test_crmtui_sync_prints_the_line_and_fails(
    rig: Rig, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    loop_after(rig, 2, monkeypatch)

    code = await sync_kinds(rig.crm, FRESHSALES, ["contact"])

    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("Contacts: Freshsales named a page of Contacts it had already sent")
