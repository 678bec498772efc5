"""What a notebook user may type into the API, and what becomes of it.

Each value is either refused at once with a typed error that names the field (or the
record, or the kind) and says what is taken, with nothing queued and nothing sent, the
client working on; or it is accepted and reaches the vendor (the sandbox) as the user
meant it. An id never moves the path of a request.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from crmtui.api import Client
from crmtui.demo import demo_profiles, mount
from crmtui.fields import FieldError
from crmtui.http import Http, NotFound
from crmtui.model import Query, RecordRef
from crmtui.service import open_crm
from tests.helpers.waits import no_sleep

REPLACEMENT = "\ufffd"


@dataclass
class Demo:
    crm: Client
    db: Any  # the sandbox's own data

    @property
    def service(self) -> Any:
        return self.crm.service

    def requests(self) -> int:
        return len(self.service.request_log())

    def writes_since(self, mark: int) -> list[str]:
        return [
            f"{e.method} {e.path}" for e in self.service.request_log()[mark:] if e.method != "GET"
        ]

    def paths_since(self, mark: int) -> list[str]:
        return [f"{e.method} {e.path}" for e in self.service.request_log()[mark:]]


async def _open(vendor: str, tmp_path: Path) -> Demo:
    demos = demo_profiles(vendors=[vendor], rate_limits=False)
    http = Http(sleep=no_sleep)
    profiles = mount(http, demos)
    service = open_crm(profiles, store=tmp_path / f"{vendor}.sqlite3", http=http)
    crm = await Client(service, profiles[0].name)
    return Demo(crm, demos[0].app.state.db)


@pytest.fixture
async def opened(tmp_path: Path) -> AsyncIterator[Callable[[str], Any]]:
    demos: list[Demo] = []

    async def open_one(vendor: str) -> Demo:
        demo = await _open(vendor, tmp_path)
        demos.append(demo)
        return demo

    yield open_one
    for demo in demos:
        await demo.crm.close()


@pytest.fixture
async def fs(opened: Callable[[str], Any]) -> Demo:
    return await opened("freshsales")  # type: ignore[no-any-return]


async def a_deal(demo: Demo) -> Any:
    page = await demo.crm.records("deal", limit=3)
    return page[0]


async def still_works(demo: Demo, deal: Any) -> None:
    """After a refusal the client goes on: a good edit is queued and reaches the vendor."""
    await demo.crm.edit(deal, name="Renamed after a refusal")
    left = await demo.crm.sync_outbox()
    assert not left, left.summary()
    assert demo.db.deals[int(deal.id)]["name"] == "Renamed after a refusal"


async def refused(demo: Demo, work: Any, error: type[BaseException], *words: str) -> str:
    """``work`` raises ``error`` whose text holds every word; nothing queued or sent."""
    mark, queued = demo.requests(), demo.crm.queued
    with pytest.raises(error) as caught:
        await work
    text = str(caught.value)
    for word in words:
        assert word.lower() in text.lower(), text
    assert demo.crm.queued == queued
    await demo.crm.sync_outbox()
    assert demo.writes_since(mark) == []
    return text


# -- a lone surrogate in user text ---------------------------------------------------------


async def test_a_lone_surrogate_in_an_edit_reaches_the_vendor_as_the_replacement_character(
    fs: Demo,
) -> None:
    deal = await a_deal(fs)
    change = await fs.crm.edit(deal, name="Boss \ud800x")
    assert change is not None and change.values == {"name": f"Boss {REPLACEMENT}x"}
    assert not await fs.crm.sync_outbox()
    assert fs.db.deals[int(deal.id)]["name"] == f"Boss {REPLACEMENT}x"


async def test_a_lone_surrogate_in_a_note_reaches_the_vendor_as_the_replacement_character(
    fs: Demo,
) -> None:
    deal = await a_deal(fs)
    await fs.crm.add_note(deal, "note \udfff and a pair \U0001f600")
    assert not await fs.crm.sync_outbox()
    texts = [str(row) for row in fs.db.notes.values()]
    assert any(f"note {REPLACEMENT} and a pair \U0001f600" in t for t in texts)
    assert any(f"note {REPLACEMENT}" in (a.body or "") for a in await fs.crm.timeline(deal)), (
        "the note shows on the record's timeline"
    )


async def test_a_lone_surrogate_in_a_create_and_a_logged_call_is_replaced(fs: Demo) -> None:
    deal = await a_deal(fs)
    created = await fs.crm.create("company", name="Surrogate \ud83d Ltd")
    assert created.values["name"] == f"Surrogate {REPLACEMENT} Ltd"
    logged = await fs.crm.log_call(deal, "rang \ud800")
    assert logged.change.values["note"] == f"rang {REPLACEMENT}"
    assert not await fs.crm.sync_outbox()
    names = [row.get("name") for row in fs.db.sales_accounts.values()]
    assert f"Surrogate {REPLACEMENT} Ltd" in names


# -- values of the wrong type ------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"name": {"a": 1}}, ["Name", "dict", "text"]),
        ({"name": ["a", "b"]}, ["Name", "list", "text"]),
        ({"name": b"bytes"}, ["Name", "bytes", "text"]),
        ({"name": True}, ["Name", "bool", "text"]),
        ({"name": object()}, ["Name", "object", "text"]),
        ({"amount": float("nan")}, ["Deal value", "nan"]),
        ({"amount": float("inf")}, ["Deal value", "inf"]),
        ({"amount": Decimal("NaN")}, ["Deal value", "NaN"]),
        ({"amount": Decimal("-Infinity")}, ["Deal value", "Infinity"]),
        ({"amount": 10**30}, ["Deal value", "too large"]),
        ({"amount": 0.1 + 0.2}, ["Deal value", "decimals"]),
        ({"amount": True}, ["Deal value", "bool"]),
        ({"amount": {"value": 5}}, ["Deal value", "dict"]),
        ({"probability": math.nan}, ["Probability", "nan"]),
        ({"expected_close": 1.5}, ["Expected close", "YYYY-MM-DD"]),
        ({"expected_close": "02/01/2027"}, ["Expected close", "YYYY-MM-DD"]),
        ({"expected_close": [2027, 1, 2]}, ["Expected close", "list"]),
        ({"stage": "Nope"}, ["stage", "Nope", "Won"]),
        ({"stage": 7}, ["stage", "7", "Won"]),
        ({"bogus": "x"}, ["bogus"]),
        ({"status": "Won"}, ["Status", "cannot be changed"]),
        ({"name": None}, ["Name", "required"]),
    ],
)
async def test_a_wrong_value_is_refused_naming_the_field(
    fs: Demo, values: dict[str, Any], words: list[str]
) -> None:
    deal = await a_deal(fs)
    before = dict(fs.db.deals[int(deal.id)])
    await refused(fs, fs.crm.edit(deal, **values), FieldError, *words)
    assert fs.db.deals[int(deal.id)] == before
    await still_works(fs, deal)


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        (Decimal("12.5"), "12.5"),
        (Decimal("1E+3"), "1000"),
        (1234, "1234"),
        (99.99, "99.99"),
        ("7,400.50", "7400.5"),
    ],
)
async def test_an_amount_reaches_the_vendor_as_meant(fs: Demo, value: Any, stored: str) -> None:
    deal = await a_deal(fs)
    await fs.crm.edit(deal, amount=value)
    assert not await fs.crm.sync_outbox()
    assert Decimal(str(fs.db.deals[int(deal.id)]["amount"])) == Decimal(stored)


async def test_a_date_object_reaches_the_vendor_as_that_day(fs: Demo) -> None:
    deal = await a_deal(fs)
    await fs.crm.edit(deal, expected_close=date(2027, 1, 2))
    assert not await fs.crm.sync_outbox()
    assert str(fs.db.deals[int(deal.id)]["expected_close"]).startswith("2027-01-02")


async def test_a_create_missing_a_required_field_is_refused_as_the_app_refuses_it(
    fs: Demo,
) -> None:
    await refused(fs, fs.crm.create("deal", amount="500"), FieldError, "Name", "required")


async def test_a_note_that_is_not_text_is_refused(fs: Demo) -> None:
    deal = await a_deal(fs)
    await refused(fs, fs.crm.add_note(deal, {"text": "hi"}), FieldError, "note", "dict")
    await refused(fs, fs.crm.add_note(deal, None), FieldError, "note")
    await still_works(fs, deal)


async def test_a_call_choice_the_vendor_does_not_have_is_refused(fs: Demo) -> None:
    deal = await a_deal(fs)
    text = await refused(fs, fs.crm.log_call(deal, "rang", outcom="No answer"), FieldError)
    assert "outcom" in text and "outcome" in text, text


# -- which record: kinds and ids -----------------------------------------------------------


async def test_an_unknown_kind_is_refused_before_any_request(fs: Demo) -> None:
    deal = await a_deal(fs)
    widget = ("widget", deal.id)
    for work in (
        lambda: fs.crm.edit(widget, name="x"),
        lambda: fs.crm.delete(widget),
        lambda: fs.crm.add_note(widget, "hi"),
        lambda: fs.crm.timeline(widget),
    ):
        mark = fs.requests()
        await refused(fs, work(), ValueError, "widget", "deal (Deals)")
        assert fs.paths_since(mark) == []


async def test_a_kind_in_the_vendors_words_works_for_an_edit(fs: Demo) -> None:
    deal = await a_deal(fs)
    await fs.crm.edit(("Deals", deal.id), name="By the vendor's word")
    assert not await fs.crm.sync_outbox()
    assert fs.db.deals[int(deal.id)]["name"] == "By the vendor's word"


async def test_a_record_that_does_not_exist_is_refused_before_anything_is_queued(
    fs: Demo,
) -> None:
    missing = ("deal", "99999999")
    await refused(fs, fs.crm.delete(missing), NotFound)
    await refused(fs, fs.crm.add_note(missing, "hi"), NotFound)
    await refused(fs, fs.crm.edit(missing, name="x"), NotFound)
    await still_works(fs, await a_deal(fs))


async def test_a_reference_to_a_record_that_does_not_exist_is_refused(fs: Demo) -> None:
    deal = await a_deal(fs)
    await refused(
        fs, fs.crm.edit(deal, company="999999999"), FieldError, "Account name", "999999999"
    )
    await still_works(fs, deal)


BAD_IDS = ["1/../{id}", "..", ".", "{id}?x=1", "{id}#x", "%2e%2e", "http://evil.example/x", ""]


@pytest.mark.parametrize(
    "vendor", ["freshsales", "salesseek", "activecampaign", "salesloft", "salesforceiq"]
)
async def test_an_id_that_would_move_the_path_is_refused(
    opened: Callable[[str], Any], vendor: str
) -> None:
    demo: Demo = await opened(vendor)
    kinds = await demo.crm.kinds()
    info = next(k for k in kinds if k.deletable)
    page = await demo.crm.records(info.kind, limit=2)
    real = page[0]
    text = next(s.key for s in await demo.crm.fields(info.kind) if s.writable)
    for shape in BAD_IDS:
        bad = shape.format(id=real.id)
        for work in (
            demo.crm.delete,
            lambda ref: demo.crm.edit(ref, **{text: "x"}),
            lambda ref: demo.crm.add_note(ref, "hi"),
            lambda ref: demo.crm.get(*ref),
            demo.crm.timeline,
        ):
            mark = demo.requests()
            await refused(demo, work((info.kind, bad)), ValueError, "id")
            assert demo.paths_since(mark) == []
    assert (await demo.crm.get(info.kind, real.id)).id == real.id  # not deleted, still there


async def test_a_bulk_edit_of_ids_that_would_move_the_path_is_refused(fs: Demo) -> None:
    deal = await a_deal(fs)
    mark = fs.requests()
    bulk = fs.crm.bulk_edit("deal", [deal.id, f"1/../{deal.id}"], "name", "x")
    await refused(fs, bulk, ValueError, f"'1/../{deal.id}'", "not a deal id")
    assert fs.paths_since(mark) == []


# -- lists: views, sorts, filters ----------------------------------------------------------


async def test_a_view_that_is_not_the_kinds_is_refused_naming_its_views(fs: Demo) -> None:
    await fs.crm.fields("deal")  # the kind's fields read (and cached) first
    mark = fs.requests()
    for view in ("../../contacts/1", "bogus"):
        with pytest.raises(ValueError, match=r"no view .*Won Deals"):
            await fs.crm.records("deal", view=view)
    assert fs.paths_since(mark) == []
    won = await fs.crm.records("deal", view="won deals")  # a view by its name
    assert won and all(r.fields["status"] == "won" for r in won)


async def test_a_sort_the_vendor_takes_is_kept_though_no_field_has_its_name(fs: Demo) -> None:
    info = await fs.crm.kind("deal")
    assert "last_contacted" in info.sortable  # Freshsales sorts deals by it; no field is
    assert "last_contacted" not in {s.key for s in await fs.crm.fields("deal")}
    assert await fs.crm.records("deal", sort="last_contacted", limit=3)


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"sort": "amuont"}, ["sort by 'amuont'", "amount"]),
        ({"filters": {"stgae": "Won"}}, ["filter on 'stgae'", "stage"]),
        ({"limit": 0}, ["limit", "at least 1"]),
    ],
)
async def test_a_list_option_that_would_show_a_wrong_list_is_refused(
    fs: Demo, options: dict[str, Any], words: list[str]
) -> None:
    with pytest.raises(ValueError) as caught:
        await fs.crm.records("deal", **options)
    for word in words:
        assert word in str(caught.value), caught.value


# -- the adapters: an id is one path segment -------------------------------------------------


@pytest.mark.off_contract("no documented endpoint has this path", "a dot segment")
@pytest.mark.parametrize(("vendor", "kind"), [("salesseek", "company"), ("freshsales", "deal")])
async def test_an_adapter_sends_an_id_as_one_path_segment(
    wire: Callable[..., Any], vendor: str, kind: str
) -> None:
    """Below the API's refusal: an adapter asked for "1/../<id>" or ".." never reads (or
    deletes) another record, or another resource, than the one so named."""
    wired = wire(vendor)
    real = (await wired.adapter.list_page(kind, Query(per_page=1))).records[0]
    for bad in (f"1/../{real.id}", "..", f"{real.id}?x=1", f"{real.id}#x"):
        with pytest.raises(NotFound):
            await wired.adapter.get(kind, bad)
        ref = RecordRef(profile=real.ref.profile, kind=kind, id=bad)
        with contextlib.suppress(NotFound):
            await wired.adapter.delete(ref)
    assert (await wired.adapter.get(kind, real.id)).id == real.id  # never deleted


# -- the outbox: which change, settled how -----------------------------------------------


async def test_an_outbox_call_on_a_change_that_is_not_there_says_so(fs: Demo) -> None:
    for call in (fs.crm.discard, fs.crm.retry, fs.crm.mark_arrived):
        with pytest.raises(KeyError, match="no change 'nope'"):
            call("nope")
    with pytest.raises(KeyError, match="no change 'nope'"):
        fs.crm.resolve("nope", name="mine")
    for wrong in (None, 123):
        with pytest.raises(TypeError, match="a Change or its id"):
            fs.crm.discard(wrong)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="a Change or its id"):
            await fs.crm.undo(wrong)  # type: ignore[arg-type]


async def test_a_conflict_is_settled_only_by_mine_or_theirs_on_its_own_fields(
    fs: Demo,
) -> None:
    deal = await a_deal(fs)
    change = await fs.crm.edit(deal, name="Mine", probability="40")
    assert change is not None
    fs.db.deals[int(deal.id)]["name"] = "Theirs"  # someone else wrote first
    fs.db.deals[int(deal.id)]["updated_at"] = "2099-01-01T00:00:00Z"
    await fs.crm.sync_outbox()
    assert [c.state for c in fs.crm.outbox] == ["conflict"]
    with pytest.raises(ValueError, match=r"'mien'.*mine or theirs"):
        fs.crm.resolve(change, name="mien")
    with pytest.raises(ValueError, match=r"'amount'.*name, probability"):
        fs.crm.resolve(change, amount="mine")
    assert [c.state for c in fs.crm.outbox] == ["conflict"]  # nothing settled by a typo
    fs.crm.resolve(change, name="Mine", probability="theirs")  # any case
    assert not await fs.crm.sync_outbox()
    assert fs.db.deals[int(deal.id)]["name"] == "Mine"


async def test_a_search_holding_a_lone_surrogate_or_none_is_read_as_text(fs: Demo) -> None:
    await a_deal(fs)
    assert list(fs.crm.search("x\ud800")) == []
    assert (await fs.crm.records("deal", search="x\ud800")).total == 0
    assert (await fs.crm.records("deal", filters={"name": "x\ud800"})).total == 0
    assert (await fs.crm.records("deal", search=None, refresh=False)).total  # type: ignore[arg-type]


async def test_the_apps_own_note_holding_a_lone_surrogate_is_queued_and_sent(fs: Demo) -> None:
    """The service's ``add_note`` (the app's note screen), not the notebook's: the
    change and its timeline entry are stored with U+FFFD and the note reaches the vendor."""
    deal = await a_deal(fs)
    await fs.crm.timeline(deal)  # the record's screen shows its timeline
    await fs.service.add_note(deal.ref, "app note \ud800 here")
    entries = fs.service.cached_timeline(deal.ref) or []
    assert any(a.body == f"app note {REPLACEMENT} here" for a in entries)
    assert not await fs.crm.sync_outbox()
    assert any(f"app note {REPLACEMENT} here" in str(row) for row in fs.db.notes.values())


async def test_a_choice_filter_takes_a_label_and_refuses_what_is_not_a_choice(fs: Demo) -> None:
    await fs.crm.sync("deal")
    specs = {s.key: s for s in await fs.crm.fields("deal")}
    won = next(c for c in specs["stage"].choices if c.label == "Won")
    by_label = await fs.crm.records("deal", filters={"stage": "Won"}, refresh=False)
    by_value = await fs.crm.records("deal", filters={"stage": won.value}, refresh=False)
    assert by_label.total == by_value.total and by_label.total
    assert all(r.fields["stage"] == won.value for r in by_label)
    with pytest.raises(ValueError, match=r"Deal stage: 'Wonn' is not one of .*Won"):
        await fs.crm.records("deal", filters={"stage": "Wonn"}, refresh=False)
