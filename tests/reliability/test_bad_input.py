"""Bad input never becomes a raw exception: vendor JSON that is cut short, mistyped or
missing keys is a typed ``CrmError``; what a user types is a value or a ``FieldError``.

The vendor side: each sandbox's replies are mangled by hypothesis on the way out (a value
anywhere replaced by arbitrary JSON, a key dropped, the body truncated or replaced
wholesale), and the app browses and edits through them.
"""

from __future__ import annotations

import asyncio
import json
import math
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from benchmarks.soak import VENDORS
from crmtui.fields import FieldError, validate
from crmtui.http import CrmError
from crmtui.model import Choice, FieldSpec, FieldType, Query
from crmtui.store.db import MEMORY
from tests.helpers.reliability import Rig, build, close

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def _slots(doc: Any) -> list[tuple[Any, Any]]:
    """Every (container, key) in a JSON document."""
    out: list[tuple[Any, Any]] = []
    stack = [doc]
    while stack:
        node = stack.pop()
        items = (
            node.items()
            if isinstance(node, dict)
            else enumerate(node)
            if isinstance(node, list)
            else ()
        )
        for key, value in items:
            out.append((node, key))
            stack.append(value)
    return out


def mangle(body: bytes, data: st.DataObject) -> bytes:
    """The reply as a broken vendor (or proxy) might send it."""
    how = data.draw(st.sampled_from(["keep", "value", "drop", "truncate", "whole"]), label="how")
    if how == "keep":
        return body
    if how == "truncate":
        return body[: data.draw(st.integers(0, max(0, len(body) - 1)), label="cut")]
    if how == "whole":
        return json.dumps(data.draw(JSON, label="body")).encode()
    try:
        doc = json.loads(body)
    except ValueError:
        return body
    slots = [(c, k) for c, k in _slots(doc) if how == "value" or isinstance(c, dict)]
    if not slots:
        return body
    container, key = slots[data.draw(st.integers(0, len(slots) - 1), label="slot")]
    if how == "drop":
        del container[key]
    else:
        container[key] = data.draw(JSON, label="value")
    return json.dumps(doc).encode()


class Mangler:
    """In front of a sandbox: every JSON reply goes through ``mangle``."""

    def __init__(self, app: ASGIApp, data: st.DataObject) -> None:
        self.app = app
        self.data = data

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        start = next(m for m in held if m["type"] == "http.response.start")
        body = b"".join(m.get("body", b"") for m in held if m["type"] == "http.response.body")
        body = mangle(body, self.data)
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def browse_and_edit(rig: Rig) -> list[BaseException]:
    """List, page, open, timeline and one edit; every failure, for the caller to judge."""
    crm, vendor, plan = rig.crm, rig.vendor, rig.plan
    failures: list[BaseException] = []

    async def attempt(work: Any) -> Any:
        try:
            return await work
        except Exception as exc:
            failures.append(exc)
            return None

    page = await attempt(crm.refresh(vendor, plan.browse, Query(per_page=3)))
    if page is not None and page.next_cursor:
        await attempt(crm.refresh(vendor, plan.browse, Query(per_page=3, cursor=page.next_cursor)))
    if page is not None and page.records:
        ref = rig.ref(page.records[0].id, plan.browse)
        await attempt(crm.get(ref))
        await attempt(crm.timeline(ref))
        if plan.browse == plan.edit_kind and await attempt(crm.fields(vendor, plan.edit_kind)):
            await attempt(crm.edit(ref, {plan.edit_field: "mangled"}))
            await attempt(rig.settle())
    return failures


@pytest.mark.parametrize("vendor", VENDORS)
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_mangled_vendor_json_is_a_typed_error(vendor: str, data: st.DataObject) -> None:
    async def run() -> list[BaseException]:
        rig = build(vendor, Path(MEMORY))
        rig.crm.http.mount_app(f"http://{vendor}.localhost", Mangler(rig.app, data))
        try:
            return await browse_and_edit(rig)
        finally:
            await close(rig)

    for exc in asyncio.run(run()):
        assert isinstance(exc, CrmError), f"raw {type(exc).__name__}: {exc}"
        assert type(exc) is not CrmError, f"untyped: {exc}"
        assert str(exc).startswith(f"{exc.vendor}: ") and exc.hint
        assert "Traceback" not in str(exc)


# -- what the user types ------------------------------------------------------------------

CHOICES = [Choice(value="7", label="Negotiation"), Choice(value="8", label="Closed won")]
SPECS = [
    FieldSpec(key=t.value, label=t.value.title(), type=t, writable=True, choices=CHOICES)
    for t in FieldType
] + [
    FieldSpec(key="n", label="Agents", type=FieldType.NUMBER, writable=True, min=0, max=500),
    FieldSpec(key="t", label="Code", type=FieldType.TEXT, writable=True, max_length=5),
    FieldSpec(key="r", label="Name", type=FieldType.TEXT, writable=True, required=True),
]
TYPED = st.one_of(
    st.text(),
    st.text(alphabet="0123456789.,-+eE $€_:TZ/ "),
    st.sampled_from(["1e400", "NaN", "-inf", "1,000.50", "2024-02-30", "2024-13-01", "Closed won"]),
    st.none(),
    st.integers().map(str),
)


def assert_is_valid(spec: FieldSpec, value: Any) -> None:
    """What ``validate`` returns is what the vendor may be sent for that type."""
    if value is None:
        assert not spec.required
        return
    match spec.type:
        case FieldType.NUMBER:
            assert isinstance(value, int | float) and math.isfinite(value)
            assert spec.min is None or value >= spec.min
            assert spec.max is None or value <= spec.max
        case FieldType.MONEY:
            amount = Decimal(value)
            assert amount.is_finite() and amount == amount.quantize(Decimal("0.01"))
        case FieldType.DATE:
            date.fromisoformat(value)
        case FieldType.DATETIME:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        case FieldType.BOOL:
            assert isinstance(value, bool)
        case FieldType.CHOICE | FieldType.USER:
            assert value in {c.value for c in spec.choices}
        case FieldType.MULTI_CHOICE:
            assert set(value) <= {c.value for c in spec.choices}
        case FieldType.TEXT:
            assert isinstance(value, str) and value
            assert spec.max_length is None or len(value) <= spec.max_length


@settings(max_examples=300, deadline=None)
@given(spec=st.sampled_from(SPECS), text=TYPED)
def test_typed_text_is_a_value_or_a_field_error(spec: FieldSpec, text: str | None) -> None:
    try:
        value = validate(spec, text)
    except FieldError as exc:
        assert str(exc).strip(), "a FieldError must say what is wrong"
        return
    assert_is_valid(spec, value)


@pytest.mark.parametrize(
    ("key", "text"),
    [("amount", "12,5O0"), ("expected_close", "2024-02-30"), ("stage", "Nope"), ("amount", "NaN")],
)
async def test_bad_values_are_refused_before_anything_is_sent(
    tmp_path: Path, key: str, text: str
) -> None:
    rig = build("activecampaign", tmp_path / "cache.sqlite3")
    try:
        ref = await rig.some("deal")
        sent = len([e for e in rig.crm.http.log.entries if e.method != "GET"])
        with pytest.raises(FieldError):
            await rig.crm.edit(ref, {key: text})
        assert rig.crm.queued() == 0
        assert len([e for e in rig.crm.http.log.entries if e.method != "GET"]) == sent
    finally:
        await close(rig)
