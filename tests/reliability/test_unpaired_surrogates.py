"""Odd text from a vendor is data: it is stored with the rest of its page, never a failure.

A vendor's JSON may carry a string no UTF-8 writer can take (a lone ``\\ud800`` escape,
valid JSON, which Python keeps as a lone surrogate; a surrogate written as UTF-8 bytes),
bytes that are not UTF-8 at all, or control characters. Each arrives here as a vendor
would send it (the sandbox's reply rewritten byte for byte) in one record of a list page
of every vendor: the page is stored whole, each odd character read as U+FFFD (a NUL and
other control characters kept, as data), the other records as sent, and the cache, the
search index and any UTF-8 writer (a log, an export, the clipboard) take every record.

The other way, a write holding a lone surrogate, however it was made, reaches the vendor
with U+FFFD in its place: never a ``\\ud800`` escape, never an exception before it is
sent. And the cache takes a record made with one (not from a vendor) with the rest of its
batch, the lone surrogate stored as U+FFFD.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send

from benchmarks.soak import VENDORS
from crmtui.http import BadResponse
from crmtui.http.client import LARGE_BODY, loads
from crmtui.model import Change, ChangeOp, ChangeState, Query, Record, RelatedRef
from crmtui.store import Store
from crmtui.store.db import MEMORY
from tests.helpers.reliability import Rig
from tests.helpers.replies import RewriteBodies

# (marker stored at the vendor, what the reply carries in its place, what crmtui reads)
ODD = [
    ("oddhigh", rb"\ud800", "\ufffd"),  # a lone high surrogate escape
    ("oddlow", rb"\udfff", "\ufffd"),  # a lone low surrogate escape
    ("oddhalf", rb"\ud83dx", "\ufffdx"),  # a high surrogate, then no low one
    ("oddpair", rb"\ud83d\ude00", "\U0001f600"),  # a pair: the character it stands for
    ("oddnul", rb"\u0000", "\x00"),  # NUL, escaped
    ("oddcesu", b"\xed\xa0\x80", "\ufffd\ufffd\ufffd"),  # a surrogate as UTF-8 bytes
    ("oddbyte", b"\xff\xc3(", "\ufffd\ufffd("),  # bytes that are not UTF-8
    ("oddraw", b"\x00\x1b\t", "\x00\x1b\t"),  # control characters unescaped (not JSON)
]


def odd(path: str, body: bytes) -> bytes:
    """A reply's body with each marker of ``ODD`` made the odd text it stands for, byte
    for byte (``RewriteBodies(app, odd)`` in front of a sandbox)."""
    for marker, sent, _ in ODD:
        body = body.replace(marker.encode(), sent)
    return body


def writable(record: Record) -> bytes:
    """The record (raw payload too) as a UTF-8 writer (a log, an export, the clipboard, a
    notebook's frame saved to a file) writes it: raises on a lone surrogate."""
    return json.dumps(record.model_dump(mode="json"), ensure_ascii=False).encode()


@pytest.mark.parametrize("vendor", VENDORS)
async def test_odd_vendor_text_is_stored_with_its_page(
    rigs: Callable[..., Rig], vendor: str
) -> None:
    rig = rigs(vendor)
    crm, kind, field = rig.crm, rig.plan.edit_kind, rig.plan.edit_field
    first = await crm.refresh(vendor, kind, Query(per_page=len(ODD) + 2))
    await crm.fields(vendor, kind)
    refs = [rig.ref(record.id) for record in first.records]
    for ref, (marker, _, _) in zip(refs, ODD, strict=False):  # the vendor holds the markers
        assert await crm.edit(ref, {field: f"Odd {marker} end"}) is not None
    await rig.settle()

    crm.http.mount_app(f"http://{vendor}.localhost", RewriteBodies(rig.app, odd))
    page = await crm.refresh(vendor, kind, Query(per_page=len(ODD) + 2))

    assert {r.id for r in page.records} == {r.id for r in first.records}
    for ref, (marker, _, read) in zip(refs, ODD, strict=False):
        record = crm.store.get_record(ref)
        assert record is not None, f"{vendor}: the record sent {marker} was not stored"
        assert record.fields[field] == f"Odd {read} end", marker
        assert writable(record)
    plain = [crm.store.get_record(ref) for ref in refs[len(ODD) :]]
    assert [r.id for r in plain if r is not None] == [ref.id for ref in refs[len(ODD) :]]
    assert all(writable(r) for r in plain if r is not None)
    listed = crm.store.window(vendor, kind, offset=0, limit=500)
    assert {ref.id for ref in refs} <= {r.id for r in listed}
    found = crm.store.search("Odd end", profiles=[vendor], kinds=[kind], limit=50)
    assert {r.id for r in found} >= {ref.id for ref in refs[: len(ODD)]}


@pytest.mark.parametrize("size", ["small", "large"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-le", "utf-32-be"])
def test_every_reply_reads_odd_text_the_same_way(size: str, encoding: str) -> None:
    """A large reply (its long strings decoded a slice at a time) and a UTF-16 or UTF-32
    one (JSON tells them by their first bytes) read each odd text as a page does."""
    pad = "x" * (LARGE_BODY if size == "large" else 3)
    document = {"texts": [f"Odd {marker} end" for marker, _, _ in ODD], "pad": pad}
    body = odd("", json.dumps(document).encode())
    if encoding != "utf-8":  # each byte that is not UTF-8 already read as U+FFFD
        body = body.decode("utf-8", "replace").encode(encoding)
    got = loads(body)
    assert got == {"texts": [f"Odd {read} end" for _, _, read in ODD], "pad": pad}
    assert json.dumps(got, ensure_ascii=False).encode()


async def test_odd_text_in_the_salesseek_sign_in_answer_is_data(rigs: Callable[..., Rig]) -> None:
    """The login answer is the signed-in user (offered first as an owner): it was read
    apart from the other replies, and a lone surrogate in the user's name failed loading
    the fields of every SalesSeek list (the cache refused the owner's choices)."""
    rig = rigs("salesseek")
    email = rig.crm.adapter("salesseek").profile.settings["email"].lower()
    users = rig.app.state.db.users.values()
    me = next(user for user in users if user["email_address"].lower() == email)
    me["name"] = "Sam oddcesu Carter oddhigh"
    rig.crm.http.mount_app("http://salesseek.localhost", RewriteBodies(rig.app, odd))
    specs = await rig.crm.fields("salesseek", "deal")
    owners = next(spec for spec in specs if spec.key == "owner").choices
    assert owners[0].label == "Sam \ufffd\ufffd\ufffd Carter \ufffd"


@pytest.mark.parametrize("vendor", VENDORS)
async def test_a_write_with_a_lone_surrogate_sends_a_replacement_character(
    rigs: Callable[..., Rig], vendor: str
) -> None:
    rig = rigs(vendor)
    ref = await rig.some()
    record = rig.crm.store.get_record(ref)
    assert record is not None
    field = rig.plan.edit_field
    sent: list[bytes] = []

    async def watch(scope: Scope, receive: Receive, send: Send) -> None:
        async def kept() -> Message:
            message = await receive()
            sent.append(message.get("body", b""))
            return message

        await rig.app(scope, receive if scope["method"] == "GET" else kept, send)

    rig.crm.http.mount_app(f"http://{vendor}.localhost", watch)
    change = Change(
        ref=ref,
        op=ChangeOp.UPDATE,
        values={field: "Lone \ud800 and \udfff half \ud83dx pair \ud83d\ude00"},
        base={field: record.fields.get(field)},
        base_updated_at=record.updated_at,
    )
    updated = await rig.crm.adapter(vendor).update(change)

    wanted = "Lone \ufffd and \ufffd half \ufffdx pair \U0001f600"
    assert updated.fields[field] == wanted
    body = b"".join(sent)
    assert wanted.encode() in body or json.dumps(wanted).encode() in body
    assert b"\\ud8" not in body.lower() and b"\\udf" not in body.lower()


def test_the_cache_takes_a_record_made_with_a_lone_surrogate_with_its_batch() -> None:
    lone = "Lone \ud800 low \udfff half \ud83dx pair \ud83d\ude00"
    read = "Lone \ufffd low \ufffd half \ufffdx pair \U0001f600"
    made = {"vendor": "freshsales", "profile": "nb", "kind": "deal"}
    mixed = Record(
        **made,
        id="1",
        title=lone,
        subtitle=lone,
        fields={"note": lone, lone: [lone]},
        related={"Account": [RelatedRef(kind="company", id="9", title=lone)]},
        raw={"name": lone},
    )
    plain = Record(**made, id="2", title="Plain deal", fields={"note": "plain"})
    store = Store(MEMORY)
    try:
        assert store.upsert_records([mixed, plain]) == 2
        got, other = store.get_record(mixed.ref), store.get_record(plain.ref)
        assert got is not None and other is not None and other.fields == plain.fields
        assert (got.title, got.subtitle, got.fields, got.raw) == (
            read,
            read,
            {"note": read, read: [read]},
            {"name": read},
        )
        assert got.related["Account"][0].title == read
        assert writable(got) and writable(other)
        listed = store.window("nb", "deal", offset=0, limit=10)
        assert sorted(r.id for r in listed) == ["1", "2"]
        assert [r.id for r in store.search("lone", profiles=["nb"])] == ["1"]
    finally:
        store.close()


def answering(app: Any, body: bytes, *, status: int, writes: bool) -> Any:
    """The sandbox, but every write (``writes``) or every read answered with ``body``."""

    async def wrapper(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (scope["method"] != "GET") is not writes:
            await app(scope, receive, send)
            return
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return wrapper


async def test_a_refusal_with_odd_text_is_told_as_data(rigs: Callable[..., Rig]) -> None:
    """The vendor's reason is shown, its odd characters as U+FFFD (a reason with bytes
    that were not UTF-8 was dropped for "the request was refused")."""
    rig = rigs("freshsales")
    ref = await rig.some()
    body = b'{"errors": {"code": 422, "message": "Refused \\ud800 \xff\xed\xa0\x80 here"}}'
    rig.crm.http.mount_app(
        "http://freshsales.localhost", answering(rig.app, body, status=422, writes=True)
    )
    change = await rig.crm.edit(ref, {rig.plan.edit_field: "Chief"})
    assert change is not None
    await rig.settle()
    failed = rig.crm.store.get_change(change.id)
    assert failed is not None and failed.state is ChangeState.REJECTED
    assert failed.last_error is not None
    assert "Refused \ufffd \ufffd\ufffd\ufffd\ufffd here" in failed.last_error


async def test_a_reply_nested_too_deeply_is_a_typed_error(rigs: Callable[..., Rig]) -> None:
    """Python's decoder gives up on JSON nested a thousand deep (``RecursionError``)."""
    rig = rigs("freshsales")
    deep = b"[" * 100_000 + b"]" * 100_000
    rig.crm.http.mount_app(
        "http://freshsales.localhost", answering(rig.app, deep, status=200, writes=False)
    )
    with pytest.raises(BadResponse, match="nested too deeply"):
        await rig.crm.refresh("freshsales", rig.plan.browse, Query(per_page=5))
