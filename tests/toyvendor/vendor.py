"""Toy CRM's adapter: things (with a price, a due time, a done flag and a maker) and makers."""

from __future__ import annotations

import httpx

from crmtui.http import RateBudget
from crmtui.http.client import json_object
from crmtui.model import Choice, FieldType, Role
from crmtui.vendors.auth import Connection, HeaderToken
from crmtui.vendors.base import Profile, Setting
from crmtui.vendors.mapping import Bool01, Cents, Epoch, Field, Id, PageNumber, Resource, by_kind
from crmtui.vendors.rest import RestVendor

PAGES = PageNumber(total_pages="meta.total_pages")

THING = Resource(
    kind="thing",
    path="things",
    wrapper="thing",
    label="Things",
    singular="Thing",
    paging=PAGES,
    fields=(
        Field(key="name", path="name", label="Name", required=True, role=Role.TITLE),
        Field(key="price", path="price_cents", label="Price", type=FieldType.MONEY, codec=Cents()),
        Field(key="due", path="due", label="Due", type=FieldType.DATETIME, codec=Epoch()),
        Field(key="done", path="done", label="Done", type=FieldType.BOOL, codec=Bool01()),
        Field(
            key="maker",
            path="maker_id",
            label="Maker",
            type=FieldType.CHOICE,
            codec=Id(),
            choices="makers",
            refers_to="maker",
        ),
    ),
)
MAKER = Resource(
    kind="maker",
    path="makers",
    wrapper="maker",
    label="Makers",
    singular="Maker",
    paging=PAGES,
    fields=(
        Field(key="name", path="name", label="Name", required=True, role=Role.TITLE),
        Field(key="email", path="email", label="Email"),
    ),
)


def parse_error(response: httpx.Response) -> str | None:
    body = json_object(response)
    return str(body["error"]) if body and body.get("error") else None


class Toy(RestVendor):
    name = "toy"
    label = "Toy CRM"
    settings = (Setting("api_key", "API key", secret=True),)
    budget = RateBudget(10, 1, note="10 requests per second")
    api_domains = ("toy.example",)
    connection = Connection(HeaderToken("api_key", "X-Toy-Key", "{secret}"), errors=parse_error)
    resources = by_kind(THING, MAKER)

    @classmethod
    def default_base_url(cls, profile: Profile) -> str:
        return "https://api.toy.example/api/"

    async def choices(self, source: str) -> list[Choice]:  # the only source: "makers"
        makers = await self.fetch_all("makers", PAGES, "makers")
        return [Choice(value=str(m["id"]), label=str(m["name"])) for m in makers]
