"""Freshsales CPQ as the sandbox serves it from the seed (issue 14 point 1): a product's
prices ("Add/Edit/Delete Prices of the Product": ``pricing_type``, ``product_pricings``
with ``id`` and ``_destroy``, ``include=product_pricings``), a deal's products ("Add/
Edit/Delete Products of the Deal": ``PUT /api/deals/[id]?include=products``) and a
document's ("Add/Edit/Delete Products of the Document": ``PUT
/api/cpq/cpq_documents/[id]?include=products``). Each test talks HTTP to the sandbox and
holds what the vendor answers: the documented bodies, and the documented 400 envelope for
a wrong one, which leaves the record as it was."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from crmtui.sandbox.freshsales import create_app

AUTH = {"Authorization": "Token token=sandbox"}
USD, EUR = 61000001, 61000002  # the sandbox's currencies (``/api/selector/currencies``)
WITH_PRICES = {"include": "product_pricings"}
WITH_PRODUCTS = {"include": "products"}
DEALS, DOCUMENTS = "deals", "cpq_documents"  # the two records with line items
ROOT = {DEALS: "/api/deals", DOCUMENTS: "/api/cpq/cpq_documents"}
WRAPPER = {DEALS: "deal", DOCUMENTS: "cpq_document"}
# how each names its currency, and the US dollar and the euro in that field
CURRENCY = {DEALS: ("currency_id", USD, EUR), DOCUMENTS: ("currency_code", "USD", "EUR")}


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """One Freshsales sandbox, in process, answering as the key ``sandbox``'s user."""
    sandbox = httpx.ASGITransport(app=create_app(rate_limit=False))
    async with httpx.AsyncClient(transport=sandbox, base_url="http://fs.test", headers=AUTH) as c:
        yield c


def refused(answer: httpx.Response) -> str:
    """The documented validation error's message (and that it is that error)."""
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert set(body) == {"errors"} and body["errors"]["code"] == 400, body
    message: str = body["errors"]["message"]
    return message


async def new_product(client: httpx.AsyncClient, name: str, **given: Any) -> dict[str, Any]:
    made = await client.post("/api/cpq/products", json={"product": {"name": name, **given}})
    assert made.status_code == 201, made.text
    product: dict[str, Any] = made.json()["product"]
    return product


async def priced(
    client: httpx.AsyncClient, product_id: int, body: dict[str, Any]
) -> httpx.Response:
    return await client.put(
        f"/api/cpq/products/{product_id}", params=WITH_PRICES, json={"product": body}
    )


async def prices_of(client: httpx.AsyncClient, product_id: int) -> Any:
    got = await client.get(f"/api/cpq/products/{product_id}", params=WITH_PRICES)
    assert got.status_code == 200, got.text
    return got.json()["product"]["product_pricings"]


# -- a product's prices -------------------------------------------------------------------


async def test_prices_are_added_edited_and_removed_as_the_seed_shows(
    client: httpx.AsyncClient,
) -> None:
    product = await new_product(client, "Sample Product")
    assert (product["pricing_type"], product["product_pricings"]) == (0, [])
    path = f"/api/cpq/products/{product['id']}"

    added = await priced(
        client,
        product["id"],
        {
            "pricing_type": 1,
            "product_pricings": [
                {"currency_code": "USD", "unit_price": 1000},
                {"currency_code": "INR", "unit_price": 74000},
            ],
        },
    )
    assert added.status_code == 200, added.text
    body = added.json()["product"]
    assert (body["pricing_type"], body["base_currency_amount"]) == (1, 1000.0)
    usd, inr = body["product_pricings"]
    assert usd == {
        "id": usd["id"],
        "currency_code": "USD",
        "_destroy": False,
        "billing_cycle": None,
        "billing_type": None,
        "unit_price": 1000.0,
        "setup_fee": None,
        "is_locked": False,
    }
    assert (inr["currency_code"], inr["unit_price"]) == ("INR", 74000.0)
    assert usd["id"] != inr["id"]

    # the handle embeds them; without it the product comes without its prices
    plain = (await client.get(path)).json()["product"]
    assert "product_pricings" not in plain and plain["pricing_type"] == 1
    assert await prices_of(client, product["id"]) == [usd, inr]
    renamed = await client.put(path, json={"product": {"category": "Hardware"}})
    assert "product_pricings" not in renamed.json()["product"]

    # an edit names the price by id (a string in the seed's sample) and overwrites it
    edited = await priced(
        client,
        product["id"],
        {"product_pricings": [{"id": str(usd["id"]), "currency_code": "USD", "unit_price": 1500}]},
    )
    assert edited.status_code == 200, edited.text
    assert [(p["id"], p["unit_price"]) for p in edited.json()["product"]["product_pricings"]] == [
        (usd["id"], 1500.0),
        (inr["id"], 74000.0),
    ]
    assert edited.json()["product"]["base_currency_amount"] == 1500.0

    removed = await priced(
        client, product["id"], {"product_pricings": [{"id": str(inr["id"]), "_destroy": True}]}
    )
    assert [p["id"] for p in removed.json()["product"]["product_pricings"]] == [usd["id"]]
    assert [p["currency_code"] for p in await prices_of(client, product["id"])] == ["USD"]


async def test_the_pricing_type_is_set_with_the_first_prices_only(
    client: httpx.AsyncClient,
) -> None:
    product = await new_product(client, "Plan")
    one_time = {"pricing_type": 1, "product_pricings": [{"currency_code": "USD", "unit_price": 9}]}
    first = await priced(client, product["id"], one_time)
    (price,) = first.json()["product"]["product_pricings"]
    switched = await priced(client, product["id"], {"pricing_type": 2})
    assert "Pricing type" in refused(switched)
    assert (await client.get(f"/api/cpq/products/{product['id']}")).json()["product"][
        "pricing_type"
    ] == 1
    # with its prices gone, the product takes a type again: a subscription's prices
    subscription = {
        "pricing_type": 2,
        "product_pricings": [
            {"id": price["id"], "_destroy": True},
            {
                "currency_code": "USD",
                "unit_price": 100,
                "setup_fee": 10,
                "billing_cycle": 6,
                "billing_type": 1,
            },
        ],
    }
    assert "Pricing type" in refused(await priced(client, product["id"], subscription))
    await priced(
        client, product["id"], {"product_pricings": [{"id": price["id"], "_destroy": True}]}
    )
    fresh = {**subscription, "product_pricings": subscription["product_pricings"][1:]}
    again = await priced(client, product["id"], fresh)
    assert again.status_code == 200, again.text
    (plan,) = again.json()["product"]["product_pricings"]
    assert again.json()["product"]["pricing_type"] == 2
    assert (plan["unit_price"], plan["setup_fee"], plan["billing_cycle"], plan["billing_type"]) == (
        100.0,
        10.0,
        6,
        1,
    )


async def test_a_product_is_created_with_its_prices(client: httpx.AsyncClient) -> None:
    product = await new_product(
        client,
        "Seat",
        pricing_type=1,
        product_pricings=[{"currency_code": "EUR", "unit_price": "49.5", "setup_fee": 5}],
    )
    assert product["pricing_type"] == 1
    (price,) = product["product_pricings"]
    # a one-time price takes no setup fee; no USD price: no base currency amount
    assert (price["currency_code"], price["unit_price"], price["setup_fee"]) == ("EUR", 49.5, None)
    assert product["base_currency_amount"] is None
    assert await prices_of(client, product["id"]) == [price]


USD_PRICE = {"currency_code": "USD", "unit_price": 10}
WRONG_PRICES: list[tuple[dict[str, Any], str]] = [
    ({"pricing_type": 3, "product_pricings": [USD_PRICE]}, "Pricing type"),
    ({"pricing_type": None}, "Pricing type"),
    ({"pricing_type": [1]}, "Pricing type"),
    ({"product_pricings": [USD_PRICE]}, "Pricing type can't be blank"),
    ({"pricing_type": 1, "product_pricings": {"currency_code": "USD"}}, "product_pricings"),
    ({"pricing_type": 1, "product_pricings": [1]}, "product_pricings"),
    ({"pricing_type": 1, "product_pricings": None}, "product_pricings"),
    ({"pricing_type": 1, "product_pricings": [{"unit_price": 10}]}, "Currency code"),
    ({"pricing_type": 1, "product_pricings": [{**USD_PRICE, "currency_code": "XYZ"}]}, "Currency"),
    ({"pricing_type": 1, "product_pricings": [{"currency_code": "USD"}]}, "Unit price"),
    ({"pricing_type": 1, "product_pricings": [{**USD_PRICE, "unit_price": "ten"}]}, "Unit price"),
    ({"pricing_type": 1, "product_pricings": [{**USD_PRICE, "unit_price": -1}]}, "Unit price"),
    ({"pricing_type": 1, "product_pricings": [{**USD_PRICE, "unit_price": 1e300}]}, "Unit price"),
    ({"pricing_type": 1, "product_pricings": [USD_PRICE, USD_PRICE]}, "already been taken"),
    ({"pricing_type": 2, "product_pricings": [USD_PRICE]}, "Billing type can't be blank"),
    (
        {
            "pricing_type": 2,
            "product_pricings": [{**USD_PRICE, "billing_type": 5, "billing_cycle": 1}],
        },
        "Billing type",
    ),
    (
        {
            "pricing_type": 2,
            "product_pricings": [{**USD_PRICE, "billing_type": 1, "billing_cycle": 1.5}],
        },
        "Billing cycle",
    ),
    ({"product_pricings": [{"id": 999, "_destroy": True}]}, "Invalid product pricing: 999"),
    ({"product_pricings": [{"id": "x", "_destroy": True}]}, "Product pricing id"),
]


@pytest.mark.parametrize(("body", "says"), WRONG_PRICES)
async def test_a_wrong_price_is_the_documented_400_and_changes_nothing(
    client: httpx.AsyncClient, body: dict[str, Any], says: str
) -> None:
    product = await new_product(client, "Seat")
    before = (await client.get(f"/api/cpq/products/{product['id']}", params=WITH_PRICES)).json()
    assert says in refused(await priced(client, product["id"], body))
    after = (await client.get(f"/api/cpq/products/{product['id']}", params=WITH_PRICES)).json()
    assert after == before
    # a create with the same prices is refused too, and makes no product
    made = await client.post("/api/cpq/products", json={"product": {"name": "Twin", **body}})
    assert says in refused(made)


# -- a deal's products ----------------------------------------------------------------------


async def catalogue(client: httpx.AsyncClient) -> tuple[dict[str, Any], dict[str, Any]]:
    """A subscription product priced in USD and a one-time one (the seed's two)."""
    plan = await new_product(
        client,
        "Sample Product",
        category="Hardware",
        pricing_type=2,
        product_pricings=[
            {
                "currency_code": "USD",
                "unit_price": 100,
                "setup_fee": 10,
                "billing_cycle": 6,
                "billing_type": 1,
            }
        ],
    )
    box = await new_product(
        client,
        "Sample Product 2",
        pricing_type=1,
        product_pricings=[{"currency_code": "USD", "unit_price": 3000}],
    )
    return plan, box


def seed_lines(plan: dict[str, Any], box: dict[str, Any]) -> list[dict[str, Any]]:
    """The seed's "Add Products to the Deal" (and "... to the Document") line items, for
    the two products of :func:`catalogue`."""
    return [
        {
            "id": plan["id"],
            "quantity": 1,
            "discount": 0,
            "billing_cycle": 6,
            "unit_price": 2000,
            "setup_fee": 200,
        },
        {"id": box["id"], "quantity": 2, "discount": 10},
    ]


async def usd_deal(client: httpx.AsyncClient) -> dict[str, Any]:
    """A deal in US dollars, from the deals' widest view."""
    listed = await client.get("/api/deals/view/1", params={"per_page": "100"})
    deal: dict[str, Any] = next(d for d in listed.json()["deals"] if d["currency_id"] == USD)
    return deal


async def document_body(client: httpx.AsyncClient, **given: Any) -> dict[str, Any]:
    """The seed's "Create a Document" body (a quote in US dollars on a deal), and
    ``given``."""
    deal = await usd_deal(client)
    contacts = await client.get("/api/contacts/view/4", params={"per_page": "1"})
    return {
        "deal_id": deal["id"],
        "sales_account_id": deal["sales_account_id"],
        "contact_id": contacts.json()["contacts"][0]["id"],
        "document_type": "Quote",
        "stage": "Draft",
        "valid_till": "Thu Oct 21 2021 00:00:00 GMT+0500",
        "amount": 100,
        "display_name": "Sample Document",
        "currency_code": "USD",
        "cpq_document_template_name": "Sample Template",
        **given,
    }


async def usd_document(client: httpx.AsyncClient, **given: Any) -> dict[str, Any]:
    """A document made with :func:`document_body`; the answer's document."""
    body = await document_body(client, **given)
    made = await client.post(ROOT[DOCUMENTS], json={"cpq_document": body})
    assert made.status_code == 201, made.text
    document: dict[str, Any] = made.json()["cpq_document"]
    return document


async def with_products(
    client: httpx.AsyncClient, record_id: int, products: Any, kind: str = DEALS, **fields: Any
) -> httpx.Response:
    """``PUT <record>?include=products`` with ``products`` (and other ``fields``)."""
    return await client.put(
        f"{ROOT[kind]}/{record_id}",
        params=WITH_PRODUCTS,
        json={WRAPPER[kind]: {"products": products, **fields}},
    )


async def lines_of(client: httpx.AsyncClient, record_id: int, kind: str = DEALS) -> Any:
    got = await client.get(f"{ROOT[kind]}/{record_id}", params=WITH_PRODUCTS)
    assert got.status_code == 200, got.text
    record = got.json()[WRAPPER[kind]]
    return record["has_products"], record["products"], record["amount"]


async def test_products_are_added_edited_and_removed_as_the_seed_shows(
    client: httpx.AsyncClient,
) -> None:
    plan, box = await catalogue(client)
    deal = await usd_deal(client)
    owner = plan["owner_id"]  # the key's user, who made them
    assert owner is not None and box["owner_id"] == owner
    added = await with_products(client, deal["id"], seed_lines(plan, box))
    assert added.status_code == 200, added.text
    body = added.json()["deal"]
    assert body["has_products"] is True
    assert body["products"] == [
        {
            "product_id": plan["id"],
            "unit_price": 2000.0,
            "setup_fee": 200.0,
            "billing_type": 1,
            "billing_cycle": 6,
            "currency_code": "USD",
            "quantity": 1,
            "discount": 0.0,
            "deal_id": deal["id"],
            "_id": f"{deal['id']}-{plan['id']}",
            "id": plan["id"],
            "name": "Sample Product",
            "pricing_type": 2,
            "avatar": None,
            "owner_id": owner,
            "category": "Hardware",
        },
        {
            "product_id": box["id"],
            "unit_price": 3000.0,  # the product's price in the deal's currency
            "setup_fee": None,
            "billing_type": None,
            "billing_cycle": None,
            "currency_code": "USD",
            "quantity": 2,
            "discount": 10.0,
            "deal_id": deal["id"],
            "_id": f"{deal['id']}-{box['id']}",
            "id": box["id"],
            "name": "Sample Product 2",
            "pricing_type": 1,
            "avatar": None,
            "owner_id": owner,
            "category": None,
        },
    ]
    # the deal's value is its lines': 2000 + 200, and 2 x 3000 less 10%
    assert (body["amount"], body["base_currency_amount"]) == ("7600.0", "7600.0")
    assert await lines_of(client, deal["id"]) == (True, body["products"], "7600.0")
    plain = (await client.get(f"/api/deals/{deal['id']}")).json()["deal"]
    assert "products" not in plain and "has_products" not in plain

    # "Edit Products of the Deal": the one passed stays, the others go
    edited = await with_products(
        client,
        deal["id"],
        [
            {
                "id": plan["id"],
                "quantity": 2,
                "discount": 100,
                "billing_cycle": 6,
                "unit_price": 4000,
                "setup_fee": 400,
            }
        ],
    )
    has, lines, amount = await lines_of(client, deal["id"])
    assert edited.json()["deal"]["products"] == lines
    assert (has, [line["product_id"] for line in lines], amount) == (True, [plan["id"]], "0.0")
    assert (lines[0]["quantity"], lines[0]["unit_price"], lines[0]["discount"]) == (
        2,
        4000.0,
        100.0,
    )

    # another update keeps them, and the amount stays theirs
    kept = await client.put(f"/api/deals/{deal['id']}", json={"deal": {"amount": 5, "name": "X"}})
    assert kept.status_code == 200, kept.text
    assert await lines_of(client, deal["id"]) == (True, lines, "0.0")

    # "Delete Products of the Deal": an empty list
    emptied = await with_products(client, deal["id"], [])
    assert (emptied.json()["deal"]["has_products"], emptied.json()["deal"]["products"]) == (
        False,
        [],
    )
    assert await lines_of(client, deal["id"]) == (False, [], "0.0")


async def test_lines_take_the_product_defaults_and_the_deal_view_embeds_them(
    client: httpx.AsyncClient,
) -> None:
    plan, _ = await catalogue(client)
    view = {"include": "products", "per_page": "100"}
    listed = (await client.get("/api/deals/view/1", params=view)).json()["deals"]
    assert listed and all(d["has_products"] is False for d in listed)
    deal = next(d for d in listed if d["currency_id"] == USD)
    answer = await with_products(client, deal["id"], [{"id": str(plan["id"])}])
    assert answer.status_code == 200, answer.text
    (line,) = answer.json()["deal"]["products"]
    expected = (100.0, 10.0, 6, 1, 1, 0.0)
    keys = ("unit_price", "setup_fee", "billing_cycle", "billing_type", "quantity", "discount")
    assert tuple(line[k] for k in keys) == expected
    assert answer.json()["deal"]["amount"] == "110.0"
    # the deals view embeds them too, on request
    listed = (await client.get("/api/deals/view/1", params=view)).json()["deals"]
    shown = {d["id"]: d for d in listed}
    assert (shown[deal["id"]]["has_products"], shown[deal["id"]]["products"]) == (True, [line])
    plain = (await client.get("/api/deals/view/1", params={"per_page": "100"})).json()["deals"]
    assert not any("products" in d for d in plain)


async def test_a_deal_create_takes_no_products(client: httpx.AsyncClient) -> None:
    """The products of a deal are an update's (the Deals ATTRIBUTE table lists none): on a
    create the field is dropped, as Freshsales drops what it does not permit."""
    plan, _ = await catalogue(client)
    account = (await usd_deal(client))["sales_account_id"]
    made = await client.post(
        "/api/deals",
        json={
            "deal": {
                "name": "New",
                "amount": 50,
                "sales_account_id": account,
                "currency_id": USD,
                "products": [{"id": plan["id"]}],
            }
        },
    )
    assert made.status_code == 201, made.text
    assert await lines_of(client, made.json()["deal"]["id"]) == (False, [], "50.0")


@pytest.mark.parametrize("kind", [DEALS, DOCUMENTS])
async def test_a_wrong_product_is_the_documented_400_and_changes_nothing(
    client: httpx.AsyncClient, kind: str
) -> None:
    """The same rules on a deal's and on a document's line items (their sections
    document them alike)."""
    plan, box = await catalogue(client)
    gone = await new_product(
        client, "Gone", pricing_type=1, product_pricings=[{"currency_code": "USD", "unit_price": 1}]
    )
    await client.delete(f"/api/cpq/products/{gone['id']}")
    idle = await new_product(
        client,
        "Idle",
        is_active=False,
        pricing_type=1,
        product_pricings=[{"currency_code": "USD", "unit_price": 1}],
    )
    euro = await new_product(
        client, "Euro", pricing_type=1, product_pricings=[{"currency_code": "EUR", "unit_price": 1}]
    )
    unpriced = await new_product(client, "Unpriced")
    record = await (usd_deal(client) if kind == DEALS else usd_document(client))
    path, wrapper = f"{ROOT[kind]}/{record['id']}", WRAPPER[kind]
    key, usd, eur = CURRENCY[kind]
    first = await with_products(client, record["id"], [{"id": box["id"], "quantity": 3}], kind)
    assert first.status_code == 200, first.text
    before = await lines_of(client, record["id"], kind)
    wrong: list[tuple[Any, str]] = [
        ([{"id": 999}], "Invalid product: 999 does not exist"),
        ([{"id": gone["id"]}], f"Invalid product: {gone['id']} does not exist"),
        ([{"id": idle["id"]}], "inactive"),
        ([{"id": euro["id"]}], "has no price in USD"),
        ([{"id": unpriced["id"]}], "has no price in USD"),
        ([{"quantity": 1}], "Product id can't be blank"),
        ([{"id": [1]}], "Product id is not a number"),
        ([{"id": plan["id"]}, {"id": plan["id"]}], "given twice"),
        ([1], "products must be a list"),
        ({"id": plan["id"]}, "products must be a list"),
        (None, "products must be a list"),
        ("x", "products must be a list"),
        ([{"id": plan["id"], "quantity": 0}], "Quantity"),
        ([{"id": plan["id"], "quantity": "two"}], "Quantity"),
        ([{"id": plan["id"], "discount": 101}], "Discount"),
        ([{"id": plan["id"], "unit_price": -5}], "Unit price"),
        ([{"id": plan["id"], "setup_fee": {"a": 1}}], "Setup fee"),
        ([{"id": plan["id"], "billing_cycle": 0}], "Billing cycle"),
        ([{"id": box["id"], "quantity": 1}] * 101, "Maximum of 100 products"),
    ]
    for products, says in wrong:
        answer = await with_products(client, record["id"], products, kind)
        assert says in refused(answer), products
    # a record with products keeps its currency (its lines are priced in it)
    moved = await client.put(path, json={wrapper: {key: eur}})
    assert "Currency" in refused(moved)
    assert await lines_of(client, record["id"], kind) == before
    assert (await client.get(path)).json()[wrapper][key] == usd
    # with new products, it moves: they are priced in the new currency
    moved = await with_products(client, record["id"], [{"id": euro["id"]}], kind, **{key: eur})
    assert moved.status_code == 200, moved.text
    assert [line["currency_code"] for line in moved.json()[wrapper]["products"]] == ["EUR"]
    # a one-time product's subscription keys are not for it: ignored
    ignored = await with_products(
        client, record["id"], [{"id": euro["id"], "billing_cycle": "x", "setup_fee": [1]}], kind
    )
    assert ignored.status_code == 200, ignored.text
    assert ignored.json()[wrapper]["products"][0]["setup_fee"] is None


# -- a document's products ------------------------------------------------------------------


async def test_document_products_are_added_edited_and_removed_as_the_seed_shows(
    client: httpx.AsyncClient,
) -> None:
    plan, box = await catalogue(client)
    made = await usd_document(client)
    # the create's answer shows its (no) line items, as the seed's sample does
    assert (made["products"], made["has_products"], made["amount"]) == ([], False, 100.0)
    path = f"{ROOT[DOCUMENTS]}/{made['id']}"
    added = await with_products(client, made["id"], seed_lines(plan, box), DOCUMENTS)
    assert added.status_code == 200, added.text
    body = added.json()["cpq_document"]
    owner = plan["owner_id"]
    assert body["has_products"] is True
    assert body["products"] == [
        {
            "id": plan["id"],
            "product_id": plan["id"],
            "cpq_document_id": made["id"],
            "currency_code": "USD",
            "billing_cycle": 6,
            "billing_type": 1,
            "unit_price": 2000.0,
            "setup_fee": 200.0,
            "quantity": 1,
            "discount": 0.0,
            "item_id": f"{made['id']}-{plan['id']}",
            "name": "Sample Product",
            "pricing_type": 2,
            "avatar": None,
            "owner_id": owner,
        },
        {
            "id": box["id"],
            "product_id": box["id"],
            "cpq_document_id": made["id"],
            "currency_code": "USD",
            "billing_cycle": None,
            "billing_type": None,
            "unit_price": 3000.0,  # the product's price in the document's currency
            "setup_fee": None,
            "quantity": 2,
            "discount": 10.0,
            "item_id": f"{made['id']}-{box['id']}",
            "name": "Sample Product 2",
            "pricing_type": 1,
            "avatar": None,
            "owner_id": owner,
        },
    ]
    # its value is its lines': 2000 + 200, and 2 x 3000 less 10%
    assert (body["amount"], body["base_currency_amount"]) == (7600.0, 7600.0)
    assert await lines_of(client, made["id"], DOCUMENTS) == (True, body["products"], 7600.0)

    # without the handle, a view and an update show that it has products, not them (as
    # the seed's "Update a Document" sample); the amount can't be set while it has them
    plain = (await client.get(path)).json()["cpq_document"]
    assert ("products" in plain, plain["has_products"]) == (False, True)
    staged = await client.put(
        path, json={"cpq_document": {"stage": "Sent to customer", "amount": 5}}
    )
    assert staged.status_code == 200, staged.text
    shown = staged.json()["cpq_document"]
    assert ("products" in shown, shown["has_products"], shown["stage"]) == (
        False,
        True,
        "Sent to customer",
    )
    assert await lines_of(client, made["id"], DOCUMENTS) == (True, body["products"], 7600.0)

    # "Edit Products of the Document": the one passed stays, the others go
    edited = await with_products(
        client,
        made["id"],
        [{"id": plan["id"], "quantity": 2, "discount": 10, "unit_price": 4000, "setup_fee": 400}],
        DOCUMENTS,
    )
    has, lines, amount = await lines_of(client, made["id"], DOCUMENTS)
    assert edited.json()["cpq_document"]["products"] == lines
    # (2 x 4000 + 400) less 10%; its billing cycle the price's (6)
    assert (has, [line["product_id"] for line in lines], amount) == (True, [plan["id"]], 7560.0)
    assert lines[0]["billing_cycle"] == 6

    # "Delete Products of the Document": an empty list; then the amount is its own again
    emptied = await with_products(client, made["id"], [], DOCUMENTS)
    assert emptied.json()["cpq_document"]["products"] == []
    assert await lines_of(client, made["id"], DOCUMENTS) == (False, [], 0.0)
    again = await client.put(path, json={"cpq_document": {"amount": 250}})
    assert again.json()["cpq_document"]["amount"] == 250.0


async def test_a_document_is_created_with_products_in_its_currency(
    client: httpx.AsyncClient,
) -> None:
    """A create takes line items too, priced in the document's ``currency_code``; the
    base currency amount is their total at the account's rate (EUR: 1.08)."""
    euro = await new_product(
        client,
        "Euro",
        pricing_type=1,
        product_pricings=[
            {"currency_code": "EUR", "unit_price": 50},
            {"currency_code": "USD", "unit_price": 60},
        ],
    )
    made = await usd_document(
        client, currency_code="EUR", products=[{"id": euro["id"], "quantity": 4}]
    )
    assert (made["currency_code"], made["has_products"]) == ("EUR", True)
    assert [(p["unit_price"], p["currency_code"]) for p in made["products"]] == [(50.0, "EUR")]
    # the lines' total overrules the amount the body gives
    assert (made["amount"], made["base_currency_amount"]) == (200.0, 216.0)
    assert await lines_of(client, made["id"], DOCUMENTS) == (True, made["products"], 200.0)
    # a document restored after a delete comes back without its lines shown (the sample)
    path = f"{ROOT[DOCUMENTS]}/{made['id']}"
    await client.delete(path)
    restored = (await client.put(f"{path}/restore")).json()["cpq_document"]
    assert ("products" in restored, restored["has_products"]) == (False, True)


async def test_a_document_create_with_a_wrong_product_or_currency_makes_none(
    client: httpx.AsyncClient,
) -> None:
    plan, _ = await catalogue(client)
    last = await usd_document(client)
    for given, says in (
        ({"products": [{"id": 999}]}, "Invalid product: 999 does not exist"),
        ({"products": {"id": plan["id"]}}, "products must be a list"),
        ({"products": [{"id": plan["id"], "discount": "x"}]}, "Discount"),
        ({"currency_code": "EUR", "products": [{"id": plan["id"]}]}, "has no price in EUR"),
        ({"currency_code": "XYZ"}, "Currency code must be one of"),
        ({"currency_code": None}, "Currency code can't be blank"),
        ({"currency_code": ["USD"]}, "Currency code"),
    ):
        body = await document_body(client, **given)
        assert says in refused(await client.post(ROOT[DOCUMENTS], json={"cpq_document": body}))
    # none was made: the next document is the one after the last
    after = await usd_document(client)
    assert after["document_number"] == f"DOC-{int(last['document_number'][4:]) + 1}"


async def test_a_document_bulk_update_keeps_its_lines_total_and_currency(
    client: httpx.AsyncClient,
) -> None:
    """The bulk update's sample sets ``amount``: a document with line items keeps their
    total (and its currency; the queued job skips it); one without takes it. Products in
    a bulk body are dropped."""
    _, box = await catalogue(client)
    sold = await usd_document(client, products=[{"id": box["id"]}])
    bare = await usd_document(client)
    queued = await client.put(
        f"{ROOT[DOCUMENTS]}/cpq_documents_bulk_update",
        json={
            "cpq_document": {"owner_id": sold["owner_id"], "amount": 300, "products": []},
            "ids": [sold["id"], bare["id"]],
        },
    )
    assert queued.status_code == 200, queued.text
    assert await lines_of(client, sold["id"], DOCUMENTS) == (True, sold["products"], 3000.0)
    assert (await lines_of(client, bare["id"], DOCUMENTS))[2] == 300.0
    moved = await client.put(
        f"{ROOT[DOCUMENTS]}/cpq_documents_bulk_update",
        json={"cpq_document": {"currency_code": "EUR"}, "ids": [sold["id"], bare["id"]]},
    )
    assert moved.status_code == 200, moved.text
    currencies = [
        (await client.get(f"{ROOT[DOCUMENTS]}/{i}")).json()["cpq_document"]["currency_code"]
        for i in (sold["id"], bare["id"])
    ]
    assert currencies == ["USD", "EUR"]
