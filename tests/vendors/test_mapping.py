"""The declared vendor mapping: codecs, fields, resources, paging, and the base ``Vendor``
built on it (declared auth, lazy session, cached lookups, find_created)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from crmtui.fields import FieldError
from crmtui.http import BadResponse, Http, InsecureURL, RateBudget, Rejected
from crmtui.model import (
    Activity,
    Change,
    Choice,
    FieldType,
    KindInfo,
    Page,
    Query,
    Record,
    RecordRef,
    Role,
)
from crmtui.vendors.auth import Basic, Connection, HeaderToken, Login, QueryToken
from crmtui.vendors.base import CannotTell, Profile, Setting, Vendor
from crmtui.vendors.mapping import (
    AS_SENT,
    Bool01,
    Cents,
    Context,
    CustomFields,
    DecimalText,
    Epoch,
    Field,
    Id,
    IsoDatetime,
    Mapped,
    Multi,
    NextToken,
    Offset,
    PageNumber,
    Resource,
    TextId,
    Via,
    by_kind,
    custom_spec,
    fetch_all,
    slug_key,
)

CTX = Context("Acme CRM", {"currencies": {"3": "EUR", "4": "USD"}})


# -- codecs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("codec", "vendor", "ours"),
    [
        (Cents(), 125050, "1250.50"),
        (DecimalText(), "1250.50", "1250.50"),
        (Epoch(), 1764581400, "2025-12-01T09:30:00+00:00"),
        (Epoch(scale=1000), 1764581400123, "2025-12-01T09:30:00.123000+00:00"),
        (IsoDatetime(), "2025-12-01T09:30:00Z", "2025-12-01T09:30:00+00:00"),
        (Id(), 7, "7"),
        (Multi(";"), "vip;renewal", ["vip", "renewal"]),
        (Mapped("currencies"), 3, "EUR"),
    ],
)
def test_a_codec_reads_the_vendor_value_and_writes_it_back(
    codec: Any, vendor: Any, ours: Any
) -> None:
    assert codec.read(vendor, CTX) == ours
    assert codec.write(ours, CTX) == vendor
    assert codec.read(None, CTX) is None if not isinstance(codec, Bool01) else True


def test_ids_are_checked_text_and_written_as_the_vendor_takes_them() -> None:
    assert Id().write("12", CTX) == 12
    assert Id().write("a1b2", CTX) == "a1b2"
    assert TextId().write("12", CTX) == "12"
    for bad in ({"evil": 1}, 1.5, "..", "a/b", True):
        with pytest.raises(BadResponse, match="Acme CRM"):
            Id().read(bad, CTX)


def test_a_flag_kept_as_1_or_0_and_an_emptied_value() -> None:
    assert Bool01().read(None, CTX) is False
    assert Bool01().read("1", CTX) is True
    assert Bool01().write(False, CTX) == 0
    assert Cents().write("", CTX) is None  # emptying the field sends null
    with pytest.raises(FieldError):
        Cents().write("1.005", CTX)  # a fraction of a cent cannot be kept


def test_a_mapped_value_the_table_lacks_is_refused_by_name() -> None:
    with pytest.raises(Rejected, match="Acme CRM has no currency GBP"):
        Mapped("currencies", "currency").write("GBP", CTX)
    assert Mapped("currencies").read(9, CTX) == "9"  # unknown to us: shown as it is
    assert Mapped("currencies", keep_unknown=False).read(9, CTX) is None
    with pytest.raises(BadResponse):
        Mapped("currencies").read({"id": 3}, CTX)  # the vendor's own value is checked


# -- resources -------------------------------------------------------------------------------

DEAL = Resource(
    kind="deal",
    path="deals",
    wrapper="deal",
    singular="Deal",
    codecs={FieldType.USER: Id(), FieldType.CHOICE: Id()},
    custom=CustomFields("custom_field", prefix="cf_"),
    fields=(
        Field(key="name", path="name", label="Name", required=True, role=Role.TITLE),
        Field(
            key="amount", path="amount_cents", label="Amount", type=FieldType.MONEY, codec=Cents()
        ),
        Field(key="company", path="company.name", label="Company"),
        Field(
            key="owner",
            path="owner_id",
            label="Owner",
            type=FieldType.USER,
            choices="users",
            role=Role.OWNER,
        ),
        Field(key="currency", path="currency_id", label="Currency", codec=Mapped("currencies")),
        Field(key="score", path="score", label="Score", type=FieldType.NUMBER, writable=False),
        Field(key="lead", path="lead_id", label="Lead", refers_to="lead", omit_empty=True),
    ),
)


def test_the_reader_gives_every_declared_field_and_the_custom_ones() -> None:
    item = {
        "name": "Renewal",
        "amount_cents": 99900,
        "company": {"name": "Acme"},
        "owner_id": 7,
        "currency_id": 4,
        "score": "12",
        "custom_field": {"cf_region": "EMEA"},
    }
    assert DEAL.read(item, CTX) == {
        "name": "Renewal",
        "amount": "999.00",
        "company": "Acme",
        "owner": "7",
        "currency": "USD",
        "score": 12,
        "cf_region": "EMEA",
    }  # no "lead": omitted when empty


def test_the_writer_sends_only_the_values_given_through_their_codecs() -> None:
    body = DEAL.write(
        {"amount": "10.50", "company": "Acme", "owner": "7", "currency": "EUR", "cf_x": 1}, CTX
    )
    assert DEAL.wrap(body) == {
        "deal": {
            "amount_cents": 1050,
            "company": {"name": "Acme"},
            "owner_id": 7,
            "currency_id": 3,
            "custom_field": {"cf_x": 1},
        }
    }


def test_the_writer_refuses_a_read_only_or_unknown_field_by_name() -> None:
    with pytest.raises(Rejected, match="Score cannot be changed in Acme CRM"):
        DEAL.write({"score": 3}, CTX)
    with pytest.raises(Rejected, match="Deal has no field 'colour'"):
        DEAL.write({"colour": "red"}, CTX)


def test_specs_come_from_the_declaration_with_what_the_vendor_says_at_run_time() -> None:
    specs = DEAL.specs(
        choices={"owner": [Choice(value="7", label="Ann")]},
        labels={"name": "Deal name"},
        required={"score": True},
    )
    by_key = {s.key: s for s in specs}
    assert [s.key for s in specs] == [f.key for f in DEAL.fields]
    assert by_key["name"].label == "Deal name" and by_key["name"].required
    assert by_key["owner"].type is FieldType.USER and by_key["owner"].choices[0].label == "Ann"
    assert not by_key["score"].writable and not by_key["score"].required  # never required
    assert by_key["amount"].type is FieldType.MONEY


def test_roles_and_references_are_declared_on_the_fields() -> None:
    assert DEAL.roles() == {Role.TITLE: "name", Role.OWNER: "owner"}
    assert DEAL.references() == {"lead": "lead"}


def test_via_reads_and_sends_through_two_functions_as_is_by_default() -> None:
    assert Via().read("", CTX) == "" and Via().write("", CTX) == ""  # "" kept, not None
    assert Via(bool).read(None, CTX) is False
    doubled = Via(lambda raw: raw * 2, lambda value: value // 2)
    assert doubled.read(4, CTX) == 8 and doubled.write(8, CTX) == 4
    assert AS_SENT[FieldType.DATE].write("", CTX) == ""


def _task(**extra: Any) -> Resource:
    return Resource(
        kind="task",
        path="tasks",
        codecs=AS_SENT,
        fields=(
            Field(key="subject", label="Subject"),
            Field(key="owner", path="owner", write_path="owner_id", label="Owner"),
            Field(key="deal", path="deal_id", label="Deal", offered=False),
            Field(key="weight", label="Weight", type=FieldType.NUMBER, min=0, max=100),
            Field(
                key="full",
                label="Full name",
                writable=False,
                reader=lambda item, ctx: f"{item['first']} {item['last']} ({ctx.vendor})",
            ),
        ),
        **extra,
    )


def test_offered_min_max_write_path_and_reader_of_a_field() -> None:
    task = _task()
    specs = {s.key: s for s in task.specs()}
    assert "deal" not in specs  # read and written, not offered
    assert (specs["weight"].min, specs["weight"].max) == (0, 100)
    assert (specs["subject"].min, specs["subject"].max) == (None, None)
    item = {"subject": "", "owner": "7", "deal_id": "3", "first": "Ann", "last": "Lee"}
    read = task.read(item, CTX)
    assert read["owner"] == "7" and read["deal"] == "3" and read["subject"] == ""
    assert read["full"] == "Ann Lee (Acme CRM)"
    body = task.write({"owner": "8", "deal": "4", "subject": ""}, CTX)
    assert body == {"owner_id": "8", "deal_id": "4", "subject": ""}
    with pytest.raises(Rejected, match="Full name cannot be changed"):
        task.write({"full": "x"}, CTX)


def test_a_custom_fields_key_from_its_name() -> None:
    assert slug_key("Deal Size (EUR)") == "cf_deal_size_eur"
    assert slug_key("  Région / Zone ") == "cf_r_gion_zone"
    assert slug_key("Tier", prefix="") == "tier"


def test_a_custom_field_spec_from_the_vendors_own_type_names() -> None:
    types = {"dropdown": FieldType.CHOICE, "number": FieldType.NUMBER}
    spec = custom_spec(
        "cf_tier", "Tier", "dropdown", types, choices=[Choice(value="1", label="Gold")]
    )
    assert spec.custom and spec.writable and spec.type is FieldType.CHOICE
    assert [c.label for c in spec.choices] == ["Gold"]
    odd = custom_spec("cf_odd", "", "hologram", types, choices=[Choice(value="1", label="x")])
    assert odd.type is FieldType.TEXT and odd.choices == [] and odd.label == "cf_odd"


# -- paging ----------------------------------------------------------------------------------


def test_paging_styles_give_the_next_cursor_and_stop_at_the_end() -> None:
    pages = PageNumber(total_pages="meta.total_pages")
    assert pages.params(None, 25) == {"page": 1, "per_page": 25}
    assert pages.next_cursor(None, 25, 25, {"meta": {"total_pages": 2}}) == "2"
    assert pages.next_cursor("2", 25, 25, {"meta": {"total_pages": 2}}) is None
    assert PageNumber().next_cursor("3", 25, 10, {}) is None  # a short page is the last
    offset = Offset(total="meta.total")
    assert offset.params("50", 25) == {"offset": 50, "limit": 25}
    assert offset.next_cursor("50", 25, 25, {"meta": {"total": 80}}) == "75"
    assert offset.next_cursor("75", 25, 5, {"meta": {"total": 80}}) is None
    token = NextToken(next="paging.next")
    assert token.next_cursor(None, 25, 25, {"paging": {"next": "abc"}}) == "abc"
    assert token.next_cursor("abc", 25, 25, {"paging": {}}) is None


async def test_fetch_all_stops_on_a_repeated_cursor_and_is_bounded() -> None:
    asked: list[str | None] = []

    async def looping(cursor: str | None) -> tuple[list[int], str | None]:
        asked.append(cursor)
        return [len(asked)], "same"  # a vendor that names the same page again and again

    assert await fetch_all(looping) == [1, 2]
    assert asked == [None, "same"]

    async def endless(cursor: str | None) -> tuple[list[int], str | None]:
        n = int(cursor or 0)
        return [n], str(n + 1)

    assert await fetch_all(endless, max_pages=5) == [0, 1, 2, 3, 4]


# -- the base Vendor ------------------------------------------------------------------------


def _echo_app(seen: list[httpx.Headers | dict[str, Any]]) -> Starlette:
    async def echo(request: Request) -> JSONResponse:
        seen.append({"headers": dict(request.headers), "query": dict(request.query_params)})
        page = int(request.query_params.get("page", 1))
        items = [{"id": page * 10 + i} for i in range(2)]
        return JSONResponse({"things": items, "meta": {"total_pages": 3}})

    return Starlette(routes=[Route("/api/things", echo)])


class Toy(Vendor):
    name = "toy"
    label = "Toy"
    settings = (Setting("user", "User"), Setting("api_key", "Key", secret=True))
    budget = RateBudget(1000, 1)
    connection = Connection(auth=HeaderToken(template="Token {secret}"))
    resources = by_kind(DEAL)
    loads = 0

    @classmethod
    def default_base_url(cls, profile: Profile) -> str:
        return "https://toy.example/api/"

    async def choices(self, source: str) -> list[Choice]:
        self.loads += 1
        return [Choice(value="7", label=f"{source} 7")]

    async def custom_fields(self, resource: Resource) -> list[Any]:
        return [custom_spec("cf_x", "X", "text", {})]

    async def kinds(self) -> list[KindInfo]:
        return []

    async def list_page(self, kind: str, query: Query) -> Page:
        return Page(records=[])

    async def get(self, kind: str, id: str) -> Record:
        raise NotImplementedError

    async def timeline(self, kind: str, id: str) -> list[Activity]:
        return []

    async def update(self, change: Change) -> Record:
        raise NotImplementedError

    async def create(self, kind: str, values: dict[str, Any], idempotency_key: str) -> Record:
        raise NotImplementedError

    async def delete(self, ref: RecordRef) -> None:
        raise NotImplementedError

    async def lookalikes(
        self, kind: str, values: dict[str, Any], idempotency_key: str
    ) -> list[Record]:
        if not values.get("name"):
            return await super().lookalikes(kind, values, idempotency_key)
        return [
            Record(vendor="toy", profile="p", kind=kind, id=str(i), title="", fields=f)
            for i, f in enumerate([{"name": "A", "amount": "1.00"}, {"name": "A", "amount": "2"}])
        ]


def _toy(auth: Any = None) -> tuple[Toy, list[Any], Http]:
    seen: list[Any] = []
    http = Http()
    http.mount_app("http://toy.localhost", _echo_app(seen))
    profile = Profile(
        name="p",
        vendor="toy",
        base_url="http://toy.localhost/api/",
        settings={"user": "ann"},
        secrets={"api_key": "s3cret-key", "password": "pw-s3cret"},
    )
    vendor = Toy(profile, http)
    if auth is not None:
        vendor.connection = Connection(auth=auth)  # type: ignore[misc]
    return vendor, seen, http


async def test_the_session_is_built_from_the_declared_auth_on_first_use() -> None:
    vendor, seen, http = _toy()
    assert not vendor.has_session  # nothing was built (or sent) by __init__
    things = await vendor.fetch_all("things", PageNumber(total_pages="meta.total_pages"), "things")
    assert [t["id"] for t in things] == [10, 11, 20, 21, 30, 31]
    assert vendor.has_session
    assert {s["headers"]["authorization"] for s in seen} == {"Token s3cret-key"}
    assert "s3cret-key" not in http.redact("Token s3cret-key")  # the secret is redacted
    await http.aclose()


@pytest.mark.parametrize(
    ("auth", "check"),
    [
        (QueryToken("key"), lambda s: s["query"]["key"] == "s3cret-key"),
        (
            Basic("user", "password", user_is_setting=True),
            lambda s: (
                s["headers"]["authorization"] == httpx.BasicAuth("ann", "pw-s3cret")._auth_header
            ),
        ),
        (
            Login(lambda creds: HeaderToken("password", "X-Login").flow(creds), ("password",)),
            lambda s: s["headers"]["x-login"] == "Bearer pw-s3cret",
        ),
    ],
)
async def test_each_declared_auth_signs_requests(auth: Any, check: Any) -> None:
    vendor, seen, http = _toy(auth)
    await vendor.session.json("GET", "things")
    assert check(seen[0])
    await http.aclose()


async def test_nothing_overridable_runs_when_an_adapter_is_made() -> None:
    calls: list[str] = []

    class Watched(Toy):
        def connect(self) -> Any:
            calls.append("connect")
            return super().connect()

        def session_ready(self, session: Any) -> None:
            calls.append("session_ready")

    http = Http()
    http.mount_app("http://toy.localhost", _echo_app([]))
    vendor = Watched(Profile(name="p", vendor="toy", base_url="http://toy.localhost/api/"), http)
    assert calls == [] and vendor.lookups == {}
    await vendor.session.json("GET", "things")
    await vendor.session.json("GET", "things")
    assert calls == ["connect", "session_ready"]  # once, on first use
    await http.aclose()


async def test_a_base_url_off_the_vendors_hosts_is_refused_when_the_adapter_is_made() -> None:
    profile = Profile(name="p", vendor="toy", base_url="https://evil.example/api/")
    http = Http()
    with pytest.raises(InsecureURL, match="allow_other_host"):
        Toy(profile, http)
    await http.aclose()


async def test_an_adapter_without_a_declared_connection_says_so() -> None:
    vendor, _, http = _toy()
    vendor.connection = None  # type: ignore[misc,assignment]
    with pytest.raises(TypeError, match="declares no connection"):
        vendor.session  # noqa: B018
    await http.aclose()


async def test_fields_are_derived_once_and_handed_out_as_copies() -> None:
    vendor, _, http = _toy()
    first = await vendor.fields("deal")
    first[0].label = "changed by a caller"
    again = await vendor.fields("deal")
    assert vendor.loads == 1  # choices loaded once
    assert again[0].label == "Name"
    assert [s.key for s in again][-1] == "cf_x" and again[-1].custom
    assert {s.key: s for s in again}["owner"].choices[0].label == "users 7"
    with pytest.raises(Rejected, match="Toy has no 'cat' records here"):
        await vendor.fields("cat")
    await http.aclose()


async def test_cached_lookups_load_once() -> None:
    vendor, _, http = _toy()
    calls: list[int] = []

    async def load() -> list[int]:
        calls.append(1)
        return [1, 2]

    assert await vendor.cached("stages", load) == [1, 2]
    assert await vendor.cached("stages", load) == [1, 2]
    assert calls == [1]
    await http.aclose()


async def test_reloaded_lookups_load_again_once_and_keep_the_old_value_on_failure() -> None:
    vendor, _, http = _toy()
    answers: list[Any] = [[1], [1, 2], RuntimeError("vendor down"), [1, 2, 3]]

    async def load() -> Any:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert await vendor.cached("stages", load) == [1]
    vendor.reload_lookups()
    assert vendor.lookups["stages"] == [1]  # nothing emptied until it is asked for
    assert await vendor.cached("stages", load) == [1, 2]
    assert await vendor.cached("stages", load) == [1, 2]  # once
    vendor.reload_lookups()
    with pytest.raises(RuntimeError):
        await vendor.cached("stages", load)
    assert vendor.lookups["stages"] == [1, 2]  # a failed reload keeps what was read
    assert await vendor.cached("stages", load) == [1, 2, 3]  # and is tried again
    await http.aclose()


async def test_find_created_is_the_first_lookalike_holding_every_value() -> None:
    vendor, _, http = _toy()
    found = await vendor.find_created("deal", {"name": "A", "amount": "2.00"}, "k")
    assert found is not None and found.id == "1"
    assert await vendor.find_created("deal", {"name": "A", "amount": "3"}, "k") is None
    with pytest.raises(CannotTell):
        await vendor.find_created("deal", {"amount": "3"}, "k")
    await http.aclose()
