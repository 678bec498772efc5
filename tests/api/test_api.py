"""The notebook API against the Freshsales demo sandbox, in-process, with a temp cache."""

from __future__ import annotations

import ast
import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

import crmtui
from crmtui.api import Client, RecordView, open_demo, open_profile
from crmtui.fields import FieldError, money_text
from crmtui.http import Http
from crmtui.model import ChangeState, Record

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "quickstart.ipynb"
ORIGIN = "http://freshsales.localhost"
SECRET = "fs-TEST-k3y-9f8e7d6c5b4a"


async def no_sleep(seconds: float) -> None:
    """Retries in tests: not slept."""


class Unreachable(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)


@pytest.fixture
async def crm(tmp_path: Path) -> AsyncIterator[Client]:
    client = await open_demo(
        "freshsales", store_path=tmp_path / "cache.sqlite3", http=Http(sleep=no_sleep)
    )
    yield client
    await client.close()


def sandbox_app(crm: Client) -> Any:
    return crm.service.http.transport._mounts[ORIGIN].app


def db(crm: Client) -> Any:
    """The sandbox's own data: what really reached the "vendor"."""
    return sandbox_app(crm).state.db


def unplug(crm: Client) -> None:
    crm.service.http.transport.mount(ORIGIN, Unreachable())


# -- opening ------------------------------------------------------------------------------


def test_import_crmtui_stays_light() -> None:
    code = (
        "import sys, crmtui; assert 'crmtui.api' not in sys.modules; "
        "crmtui.open_demo; assert 'crmtui.api' in sys.modules; "
        "assert 'textual' not in sys.modules, 'the API must not pull in the UI'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


async def test_open_demo_is_awaitable_and_names_its_vendor(crm: Client) -> None:
    assert crmtui.open_demo is open_demo
    assert repr(crm) == "<crmtui.Client demo-freshsales (Freshsales), online>"
    kinds = await crm.kinds()
    assert [k.kind for k in kinds] == ["contact", "lead", "company", "deal", "task"]
    assert "Accounts" in kinds._repr_html_()


async def test_client_over_the_apps_own_demo_service(tmp_path: Path) -> None:
    from crmtui.ui.launch import demo_crm

    service, _ = demo_crm(
        vendors=["freshsales"], store_path=str(tmp_path / "c.sqlite3"), rate_limits=False
    )
    async with Client(service, "demo-freshsales") as crm:
        page = await crm.records("company", limit=10)
        assert len(page) == 10 and page.total == 10


async def test_open_profile_from_config_never_shows_the_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from crmtui import sandbox

    app = sandbox.create_app("freshsales", seed=0)
    app.state.db.api_keys[SECRET] = next(iter(app.state.db.api_keys.values()))
    config = tmp_path / "config.toml"
    # a config file may not name http://NAME.localhost (only in-process mounts use it): a
    # loopback address, here served in-process too
    loopback = "http://127.0.0.1:9"
    config.write_text(
        '[profiles.acme]\nvendor = "freshsales"\ndomain = "acme"\n'
        f'base_url = "{loopback}/api/"\napi_key_env = "ACME_FS_KEY"\n'
    )
    monkeypatch.setenv("ACME_FS_KEY", SECRET)
    http = Http()
    http.mount_app(loopback, app)
    crm = await open_profile(
        "acme", config_path=config, store_path=tmp_path / "cache.sqlite3", http=http
    )
    try:
        page = await crm.records("deal", limit=5)
        deal = await crm.get(page[0])
        shown = [
            repr(crm),
            repr(crm.service.states),
            repr(page),
            page._repr_html_(),
            deal._repr_html_(),
            (await crm.timeline(deal))._repr_html_(),
        ]
        assert len(page) == 5
        assert not [text for text in shown if SECRET in text]
        with pytest.raises(crmtui.config.ConfigError, match="profiles: acme"):
            open_profile("nope", config_path=config)
    finally:
        await crm.close()


# -- lists, records, search -------------------------------------------------------------------


async def test_list_sorts_by_amount_from_the_vendor_through_the_cache(crm: Client) -> None:
    page = await crm.records("deal", sort="amount", descending=True, limit=50)
    amounts = [Decimal(r.fields["amount"]) for r in page]
    assert len(page) == 50 and page.total == 50 and not page.stale
    assert amounts == sorted(amounts, reverse=True)
    everything = await crm.records("Deals", sort="amount", descending=True, limit=150)
    # Freshsales has no "All Deals" view: the list is its default "Recent Deals" view (the
    # deals changed in the last 90 days, as the sandbox decides), in the vendor's own order.
    # the view's deals, as the sandbox serves them (Recent Deals is view 4)
    transport = httpx.ASGITransport(app=sandbox_app(crm))
    shown: list[Any] = []
    async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as vendor:
        for page in (1, 2):
            view = await vendor.get(
                "/api/deals/view/4",
                params={"per_page": 100, "page": page},
                headers={"Authorization": "Token token=sandbox"},
            )
            shown += [db(crm).deals[d["id"]] for d in view.json()["deals"]]
    assert view.json()["meta"]["total_pages"] == 2
    assert 0 < len(shown) < len(db(crm).deals)
    assert {r.id for r in everything} == {str(d["id"]) for d in shown}
    assert Decimal(everything[0].fields["amount"]) == max(Decimal(d["amount"]) for d in shown)
    assert f"Deals: {len(shown)} of {len(shown)}" in everything._repr_html_()


async def test_search_keeps_the_full_records_a_list_cached(crm: Client) -> None:
    """Freshsales documents no search: a search reads the cache, which a sync fills."""
    listed = {r.id for r in await crm.records("deal", limit=150)}
    await crm.sync("deal")
    hits = await crm.records("deal", search="keystone", sort="amount", descending=True)
    expected = {str(d["id"]) for d in db(crm).deals.values() if "keystone" in d["name"].lower()}
    assert {r.id for r in hits} == expected
    # the deals the list cached keep their amounts (not blanked by the search hits)
    amounts = [Decimal(r.fields["amount"]) for r in hits if r.id in listed]
    assert amounts
    assert amounts == sorted(amounts, reverse=True)


async def test_a_vendor_view_keeps_the_vendors_selection(crm: Client) -> None:
    info = await crm.kind("deal")
    view = next(iter(info.views))
    page = await crm.records("deal", view=view, limit=10)
    assert len(page) == 10 and page.total is None
    assert all(r.kind == "deal" for r in page)


async def test_unknown_kind_names_the_kinds_there_are(crm: Client) -> None:
    with pytest.raises(ValueError, match=r"company \(Accounts\)"):
        await crm.records("organisation")


async def test_get_shows_labels_and_timeline_is_newest_first(crm: Client) -> None:
    page = await crm.records("deal", limit=5)
    deal = await crm.get("deal", page[0].id)
    assert isinstance(deal, RecordView) and isinstance(deal, Record)
    html = deal._repr_html_()
    stage = next(s for s in await crm.fields("deal") if s.key == "stage")
    assert f"<td {_td()}>{stage.choice_label(deal.fields['stage'])}</td>" in html
    timeline = await crm.timeline(deal)
    when = [a.occurred_at for a in timeline]
    assert timeline and when == sorted(when, reverse=True)
    assert timeline._repr_html_().count("<li>") == len(timeline)
    assert timeline[0].summary in repr(timeline)


def _td() -> str:
    return 'style="text-align:left;vertical-align:top"'


async def test_search_works_offline_and_lists_fall_back_to_the_cache(crm: Client) -> None:
    await crm.records("contact", limit=300)
    omars = [c for c in db(crm).contacts.values() if c["first_name"] == "Omar"]
    unplug(crm)
    found = crm.search("omar")
    assert omars and {str(c["id"]) for c in omars} <= {r.id for r in found}
    page = await crm.records("contact", limit=20)
    assert len(page) == 20 and page.stale.startswith("offline")
    assert "offline" in page._repr_html_()


# -- edits, notes, sync ---------------------------------------------------------------------


async def test_edit_goes_through_the_outbox_to_the_vendor(crm: Client) -> None:
    page = await crm.records("deal", limit=20)
    deal = next(r for r in page if r.fields["status"] == "open")
    app = sandbox_app(crm)
    unplug(crm)  # queued, not sent
    change = await crm.edit(deal, amount="12500", stage="Won")
    assert change is not None and change.values["amount"] == "12500.00"
    await asyncio.sleep(0)
    assert crm.queued == 1
    outbox = crm.outbox._repr_html_()  # as the app's outbox says it: label, currency
    assert f"→ {money_text('12500', deal.fields['currency'])}" in outbox
    shown = await crm.records("deal", limit=20, refresh=False)
    assert next(r for r in shown if r.id == deal.id).fields["amount"] == "12500.00"
    crm.service.http.mount_app(ORIGIN, app)
    left = await crm.sync_outbox()
    assert list(left) == [] and crm.queued == 0
    assert "nothing queued" in repr(left)
    row = db(crm).deals[int(deal.id)]
    assert Decimal(row["amount"]) == Decimal("12500")
    won = (await crm.get(deal)).fields
    assert won["status"] == "won" and won["amount"] == "12500.00"


async def test_a_bad_value_is_refused_before_anything_is_queued(crm: Client) -> None:
    deal = (await crm.records("deal", limit=1))[0]
    with pytest.raises(FieldError, match="not a number"):
        await crm.edit(deal, amount="lots")
    with pytest.raises(FieldError, match="not one of"):
        await crm.edit(deal, stage="Celebrating")
    assert crm.queued == 0


async def test_a_note_reaches_the_vendor_and_the_timeline(crm: Client) -> None:
    deal = (await crm.records("deal", limit=1))[0]
    await crm.add_note(deal, "Signed today")
    await crm.sync_outbox()
    assert any(n["description"] == "Signed today" for n in db(crm).notes.values())
    assert (await crm.timeline(deal))[0].summary.startswith("Signed today")
    assert [c for c in crm.outbox if c.state is not ChangeState.DONE] == []


async def test_sync_brings_a_whole_kind_into_the_cache(crm: Client) -> None:
    results = await crm.sync("Accounts")
    assert [r.kind for r in results] == ["company"]
    assert results[0].records == len(db(crm).sales_accounts) and not results[0].error
    assert crm.service.count(crm.profile, "company") == len(db(crm).sales_accounts)
    assert "full" in results._repr_html_()


# -- rendering ------------------------------------------------------------------------------


async def test_html_escapes_what_the_crm_sends(crm: Client) -> None:
    row = next(iter(db(crm).deals.values()))
    row["name"] = "<script>alert('x')</script> & Co"
    await crm.sync("deal")  # no vendor search on Freshsales: the cache is searched
    page = await crm.records("deal", search="alert", limit=5)
    assert page and page[0].title.startswith("<script>")
    for html in (page._repr_html_(), page[0]._repr_html_(), crm.search("alert")._repr_html_()):
        assert "<script>" not in html
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; Co" in html
    await crm.timeline(page[0])
    unplug(crm)  # the queued note shows in the timeline as typed
    await crm.add_note(page[0], "<img src=x onerror=alert(1)>")
    timeline = (await crm.timeline(page[0]))._repr_html_()
    assert "<img" not in timeline and "&lt;img src=x onerror=alert(1)&gt;" in timeline
    sneaky = RecordView.of(
        page[0].model_copy(update={"remote_url": "javascript:alert(1)"}), page[0].specs
    )
    assert "href" not in sneaky._repr_html_()


async def test_to_pandas(crm: Client) -> None:
    pytest.importorskip("pandas")
    page = await crm.records("deal", sort="amount", descending=True, limit=30)
    frame = page.to_pandas()
    assert list(frame.index) == [r.id for r in page]
    assert frame["amount"].dtype.kind == "f"
    assert frame["amount"].iloc[0] == float(page[0].fields["amount"])
    stages = {c.label for s in await crm.fields("deal") if s.key == "stage" for c in s.choices}
    assert set(frame["stage"].dropna()) <= stages
    assert str(frame["updated_at"].dt.tz) == "UTC"
    assert len(page[0].to_pandas()) == 1
    timeline = (await crm.timeline(page[0])).to_pandas()
    assert list(timeline.columns[:3]) == ["occurred_at", "type", "summary"]


async def test_to_pandas_without_pandas_says_how_to_install_it(
    crm: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = await crm.records("deal", limit=3)
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"pip install 'crmtui\[pandas\]'"):
        page.to_pandas()


# -- the example notebook ---------------------------------------------------------------------


def _code_cells() -> list[str]:
    import json

    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


async def test_quickstart_cells_run_in_one_loop() -> None:
    """Every code cell in order, with top-level await, as IPython would run them."""
    shown: list[Any] = []
    scope: dict[str, Any] = {"display": shown.append, "__name__": "__main__"}
    for source in _code_cells():
        tree = ast.parse(source)
        last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        if last is not None:  # show the last expression, like a notebook
            tree.body[-1] = ast.Expr(
                ast.Call(ast.Name("display", ast.Load()), [last.value], []), lineno=0
            )
            ast.fix_missing_locations(tree)
        code = compile(tree, "<cell>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        result = eval(code, scope)
        if asyncio.iscoroutine(result):
            await result
    html = [x._repr_html_() for x in shown if hasattr(x, "_repr_html_")]
    assert len(html) >= 8 and any("Deals:" in h for h in html)
    assert scope["deal"].fields["amount"] == "12500.00"


@pytest.mark.slow
def test_quickstart_notebook_runs_in_a_kernel(tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    )
    client.execute()
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    html = [o.data["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert any("Deals:" in h for h in html)
