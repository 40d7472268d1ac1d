"""Variants (issue 18): a product's options and variants, each with its own stock, sku and
price; every stock write names a variant, guarded, and keeps the product's derived fields."""

from __future__ import annotations

import asyncio

import pytest
from pymongo.errors import OperationFailure

from app.catalog.models import Product, VariantSku
from app.core import db
from app.inventory import stock as inventory
from tests.support.inventory import ALERTED, alerts, ledger, stored

PRODUCTS = "/api/v1/admin/products"
ADDRESS = {"line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"}

OPTIONS = [
    {"name": "size", "values": ["S", "M", "L"]},
    {"name": "color", "values": ["blue", "red"]},
]


def variant(size, color, stock, sku=None, **extra):
    return {
        "sku": sku or f"TEE-{size}-{color}".upper(),
        "options": {"size": size, "color": color},
        "stock": stock,
        **extra,
    }


def tee_body(category, **overrides):
    body = {
        "name": "Cotton Tee",
        "description": "A tee.",
        "price": 2000,
        "category": str(category.id),
        "options": OPTIONS,
        "variants": [
            variant("S", "blue", 4),
            variant("M", "blue", 1, price=1800),
            variant("M", "red", 0),
            variant("L", "red", 9, price=2400),
        ],
    }
    body.update(overrides)
    return body


@pytest.fixture
async def admin_headers(create_user):
    _, headers = await create_user(email="admin@example.com", role="admin")
    return headers


@pytest.fixture
async def tee(client, admin_headers, shelf):
    response = await client.post(PRODUCTS, json=tee_body(shelf), headers=admin_headers)
    assert response.status_code == 201, await response.get_json()
    return await response.get_json()


def by_options(product: dict, size: str, color: str) -> dict:
    return next(v for v in product["variants"] if v["options"] == {"size": size, "color": color})


async def test_a_product_with_variants_derives_price_stock_and_status(tee):
    assert tee["options"] == OPTIONS
    assert [v["sku"] for v in tee["variants"]] == [
        "TEE-S-BLUE",
        "TEE-M-BLUE",
        "TEE-M-RED",
        "TEE-L-RED",
    ]
    assert tee["price"] == 1800  # the lowest variant price
    assert tee["stock"] == 14  # the sum
    assert tee["stock_status"] == "in_stock"  # the best
    assert by_options(tee, "S", "blue")["price"] == 2000  # no own price: the product's
    assert by_options(tee, "M", "red")["stock_status"] == "out_of_stock"
    assert by_options(tee, "M", "blue")["stock_status"] == "low_stock"
    assert len({v["id"] for v in tee["variants"]}) == 4
    rows = await ledger(await Product.get(tee["id"]))
    assert sorted((m.sku, m.delta, m.reason) for m in rows) == [
        ("TEE-L-RED", 9, "initial"),
        ("TEE-M-BLUE", 1, "initial"),
        ("TEE-S-BLUE", 4, "initial"),
    ]


async def test_a_product_without_options_has_one_variant_with_its_id(client, admin_headers, shelf):
    body = {"name": "Mug", "description": "", "price": 900, "category": str(shelf.id), "stock": 3}
    made = await (await client.post(PRODUCTS, json=body, headers=admin_headers)).get_json()
    (only,) = made["variants"]
    assert (only["id"], only["sku"], only["options"], only["stock"]) == (
        made["id"],
        f"P-{made['id']}",
        {},
        3,
    )


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"variants": [variant("XL", "blue", 1)]}, ["variants", 0, "options", "size"]),
        (
            {"variants": [{"sku": "A", "options": {"size": "S"}, "stock": 1}]},
            ["variants", 0, "options"],
        ),
        (
            {"variants": [variant("S", "blue", 1), variant("S", "BLUE", 1, sku="B")]},
            ["variants", 1, "options"],
        ),
        (
            {"variants": [variant("S", "blue", 1), variant("M", "blue", 1, sku="TEE-S-BLUE")]},
            ["variants", 1, "sku"],
        ),
        ({"variants": [variant("S", "blue", 1)], "stock": 5}, ["stock"]),
        ({"variants": None}, ["variants"]),
        (
            {
                "options": [{"name": "size", "values": ["S", "s"]}],
                "variants": [variant("S", "blue", 1)],
            },
            ["options", 0, "values"],
        ),
    ],
)
async def test_bad_variants_are_a_422_that_writes_nothing(
    client, admin_headers, shelf, change, loc
):
    body = tee_body(shelf, **change)
    if change.get("variants", 1) is None:
        del body["variants"]
    response = await client.post(PRODUCTS, json=body, headers=admin_headers)
    assert response.status_code == 422, await response.get_json()
    problem = await response.get_json()
    assert problem["code"] == "variant_invalid" and problem["errors"][0]["loc"] == loc
    assert await Product.count() == 0 and await VariantSku.count() == 0


async def test_more_than_three_options_is_a_422(client, admin_headers, shelf):
    options = [{"name": f"o{i}", "values": ["a"]} for i in range(4)]
    response = await client.post(
        PRODUCTS, json=tee_body(shelf, options=options), headers=admin_headers
    )
    assert response.status_code == 422


async def test_a_sku_is_unique_store_wide(client, admin_headers, shelf, tee):
    other = tee_body(
        shelf, name="Other Tee", options=[], variants=[{"sku": "TEE-M-BLUE", "stock": 1}]
    )
    response = await client.post(PRODUCTS, json=other, headers=admin_headers)
    assert response.status_code == 409
    assert (await response.get_json())["code"] == "sku_taken"
    assert await Product.count() == 1
    # ... and through the variant routes too; a sku freed by its variant can be taken again.
    url = f"{PRODUCTS}/{tee['id']}/variants/{by_options(tee, 'S', 'blue')['id']}"
    second = await client.post(
        PRODUCTS,
        json=tee_body(shelf, name="Second", options=[], variants=[{"sku": "X-1", "stock": 1}]),
        headers=admin_headers,
    )
    assert second.status_code == 201
    taken = await client.patch(url, json={"sku": "X-1"}, headers=admin_headers)
    assert taken.status_code == 409 and (await taken.get_json())["code"] == "sku_taken"
    freed = await client.patch(url, json={"sku": "TEE-S-BLUE-2"}, headers=admin_headers)
    assert freed.status_code == 200
    third = await client.post(
        PRODUCTS,
        json=tee_body(
            shelf, name="Third", options=[], variants=[{"sku": "TEE-S-BLUE", "stock": 1}]
        ),
        headers=admin_headers,
    )
    assert third.status_code == 201


async def test_variant_routes_add_edit_and_remove(client, admin_headers, tee):
    base = f"{PRODUCTS}/{tee['id']}/variants"
    added = await client.post(
        base,
        json={
            "sku": "TEE-S-RED",
            "options": {"size": "s", "color": "Red"},
            "stock": 2,
            "price": 1500,
        },
        headers=admin_headers,
    )
    assert added.status_code == 201, await added.get_json()
    product = await added.get_json()
    new = by_options(product, "S", "red")  # spelled as the option lists it
    assert (new["stock"], product["stock"], product["price"]) == (2, 16, 1500)

    edited = await client.patch(
        f"{base}/{new['id']}", json={"stock": 7, "price": None}, headers=admin_headers
    )
    product = await edited.get_json()
    assert edited.status_code == 200, product
    assert (by_options(product, "S", "red")["stock"], product["stock"], product["price"]) == (
        7,
        21,
        1800,
    )

    same = await client.post(
        base, json={"options": {"size": "S", "color": "red"}, "stock": 1}, headers=admin_headers
    )
    assert same.status_code == 422 and (await same.get_json())["code"] == "variant_invalid"

    removed = await client.delete(f"{base}/{new['id']}", headers=admin_headers)
    product = await removed.get_json()
    assert removed.status_code == 200 and product["stock"] == 14 and len(product["variants"]) == 4
    rows = [m for m in await ledger(await Product.get(tee["id"])) if m.variant_id == new["id"]]
    assert [(m.delta, m.stock_after, m.reason) for m in rows] == [
        (2, 2, "initial"),
        (5, 7, "admin edit"),
        (-7, 0, "variant removed"),
    ]
    unknown = await client.patch(f"{base}/nope", json={"stock": 1}, headers=admin_headers)
    assert unknown.status_code == 404


async def test_admin_stock_adjustment_names_the_variant(client, admin_headers, tee):
    url = f"{PRODUCTS}/{tee['id']}/stock"
    response = await client.post(
        url, json={"delta": 3, "reason": "delivery"}, headers=admin_headers
    )
    assert response.status_code == 422 and (await response.get_json())["code"] == "variant_required"
    m_red = by_options(tee, "M", "red")
    response = await client.post(
        url,
        json={"delta": 3, "reason": "delivery", "variant_id": m_red["id"]},
        headers=admin_headers,
    )
    body = await response.get_json()
    assert response.status_code == 200, body
    assert (body["variant_id"], body["sku"], body["variant_stock"], body["stock"]) == (
        m_red["id"],
        "TEE-M-RED",
        3,
        17,
    )
    assert (body["movement"]["variant_id"], body["movement"]["stock_after"]) == (m_red["id"], 3)
    short = await client.post(
        url,
        json={"delta": -5, "reason": "breakage", "variant_id": m_red["id"]},
        headers=admin_headers,
    )
    problem = await short.get_json()
    assert short.status_code == 409 and problem["lines"][0]["sku"] == "TEE-M-RED"
    unknown = await client.post(
        url, json={"set": 1, "reason": "count", "variant_id": "nope"}, headers=admin_headers
    )
    assert unknown.status_code == 404


@pytest.fixture(params=[True, False], ids=["transaction", "no-transaction"])
def transactions(request):
    if not request.param:
        request.getfixturevalue("no_transactions")
    return request.param


async def test_concurrent_takes_of_a_variants_last_units_never_oversell(tee, staff, transactions):
    """Ten buyers race for the last unit of one variant (and the product has plenty of others):
    exactly one gets it, the other variants and the product's sum stay exact."""
    product = await Product.get(tee["id"])
    m_blue = by_options(tee, "M", "blue")

    async def sell(session):
        return await inventory.take_stock(
            product_id=product.id, variant_id=m_blue["id"], quantity=1, session=session
        )

    async def buyer():
        while True:
            try:
                return await db.run_in_transaction(sell)
            except OperationFailure as error:
                if not error.has_error_label("TransientTransactionError"):
                    raise

    results = await asyncio.gather(*(buyer() for _ in range(10)))
    assert sum(r is not None for r in results) == 1
    after = await stored(product)
    assert after.variant(m_blue["id"]).stock == 0
    assert after.stock == 13 == sum(v.stock for v in after.variants)
    assert after.variant(by_options(tee, "L", "red")["id"]).stock == 9
    sales = [m for m in await ledger(product) if m.reason == "sale"]
    assert [(m.variant_id, m.stock_after) for m in sales] == [(m_blue["id"], 0)]
    # M/blue was already low (1 <= 5) when created: no crossing, no alert.
    assert await alerts() == []


async def test_a_variant_crossing_its_threshold_alerts_naming_it(tee, staff):
    product = await Product.get(tee["id"])
    l_red = by_options(tee, "L", "red")
    await inventory.take_stock(product_id=product.id, variant_id=l_red["id"], quantity=4)
    sent = await alerts()
    assert sorted(r.to for r in sent) == sorted(["admin@example.com", *ALERTED])
    assert "TEE-L-RED" in sent[0].text and "size L" in sent[0].text and "5 left" in sent[0].text
    assert (await stored(product)).low_stock is True


# -- cart, checkout, cancel ------------------------------------------------------------------


async def test_buying_a_size_m_in_blue(client, customer, tee):
    _, headers = customer
    add = await client.post(
        "/api/v1/cart/items", json={"product_id": tee["id"], "quantity": 1}, headers=headers
    )
    assert add.status_code == 422 and (await add.get_json())["code"] == "variant_required"
    m_blue = by_options(tee, "M", "blue")
    add = await client.post(
        "/api/v1/cart/items",
        json={"product_id": tee["id"], "variant_id": m_blue["id"], "quantity": 2},
        headers=headers,
    )
    assert add.status_code == 409  # one left
    assert (await add.get_json())["variant_id"] == m_blue["id"]
    unknown = await client.post(
        "/api/v1/cart/items",
        json={"product_id": tee["id"], "variant_id": "nope", "quantity": 1},
        headers=headers,
    )
    assert unknown.status_code == 404
    s_blue = by_options(tee, "S", "blue")
    for chosen in (m_blue, s_blue):
        add = await client.post(
            "/api/v1/cart/items",
            json={"product_id": tee["id"], "variant_id": chosen["id"], "quantity": 1},
            headers=headers,
        )
    cart = await add.get_json()
    assert [(i["sku"], i["options"], i["unit_price"]) for i in cart["items"]] == [
        ("TEE-M-BLUE", {"size": "M", "color": "blue"}, 1800),
        ("TEE-S-BLUE", {"size": "S", "color": "blue"}, 2000),
    ]
    # Two lines of one product: the product id names neither, a variant id names one.
    ambiguous = await client.patch(
        f"/api/v1/cart/items/{tee['id']}", json={"quantity": 2}, headers=headers
    )
    assert ambiguous.status_code == 404
    patched = await client.patch(
        f"/api/v1/cart/items/{s_blue['id']}", json={"quantity": 2}, headers=headers
    )
    assert patched.status_code == 200

    response = await client.post(
        "/api/v1/orders", json={"shipping_address": ADDRESS}, headers=headers
    )
    order = await response.get_json()
    assert response.status_code == 201, order
    assert [(i["variant_id"], i["sku"], i["options"], i["quantity"]) for i in order["items"]] == [
        (m_blue["id"], "TEE-M-BLUE", {"size": "M", "color": "blue"}, 1),
        (s_blue["id"], "TEE-S-BLUE", {"size": "S", "color": "blue"}, 2),
    ]
    assert order["subtotal"] == 1800 + 2 * 2000
    after = await Product.get(tee["id"])
    assert (after.variant(m_blue["id"]).stock, after.variant(s_blue["id"]).stock, after.stock) == (
        0,
        2,
        11,
    )

    cancel = await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=headers)
    assert cancel.status_code == 200, await cancel.get_json()
    after = await Product.get(tee["id"])
    assert (after.variant(m_blue["id"]).stock, after.variant(s_blue["id"]).stock, after.stock) == (
        1,
        4,
        14,
    )
    returned = [m for m in await ledger(after) if m.reason == "cancel"]
    assert sorted((m.sku, m.delta) for m in returned) == [("TEE-M-BLUE", 1), ("TEE-S-BLUE", 2)]


async def test_a_guest_buys_variants_and_a_merge_keeps_them_apart(client, customer, tee):
    """Guest carts hold variant lines like an account's: merging adds each guest line to the
    account's line of the same variant (never to another size of the product), capped by
    that variant's stock; a guest checkout takes each variant's stock."""
    _, headers = customer
    m_blue, s_blue, l_red = (
        by_options(tee, size, color) for size, color in (("M", "blue"), ("S", "blue"), ("L", "red"))
    )

    async def add(variant_id, quantity, with_headers):
        response = await client.post(
            "/api/v1/cart/items",
            json={"product_id": tee["id"], "variant_id": variant_id, "quantity": quantity},
            headers=with_headers,
        )
        body = await response.get_json()
        assert response.status_code == 200, body
        return body

    await add(s_blue["id"], 3, headers)  # the account holds 3 of S blue (4 in stock)
    token = (await add(s_blue["id"], 2, {}))["cart_token"]
    guest = {"Cart-Token": token}
    await add(m_blue["id"], 1, guest)
    merged = await client.post("/api/v1/cart/merge", json={"cart_token": token}, headers=headers)
    body = await merged.get_json()
    assert merged.status_code == 200, body
    assert {i["variant_id"]: i["quantity"] for i in body["items"]} == {
        s_blue["id"]: 4,  # 3 + 2, capped by S blue's 4
        m_blue["id"]: 1,
    }
    assert [(c["variant_id"], c["added"], c["reason"]) for c in body["cart_merge"]["capped"]] == [
        (s_blue["id"], 1, "stock")
    ]

    token = (await add(l_red["id"], 2, {}))["cart_token"]
    response = await client.post(
        "/api/v1/orders",
        json={"email": "guest@example.com", "shipping_address": ADDRESS},
        headers={"Cart-Token": token},
    )
    order = await response.get_json()
    assert response.status_code == 201, order
    assert order["order_token"]
    assert [(i["variant_id"], i["sku"], i["quantity"]) for i in order["items"]] == [
        (l_red["id"], "TEE-L-RED", 2)
    ]
    assert order["subtotal"] == 2 * 2400
    after = await Product.get(tee["id"])
    assert (after.variant(l_red["id"]).stock, after.stock) == (7, 12)


# -- products stored before variants -----------------------------------------------------------


async def legacy_product(shelf, **fields) -> Product:
    """A product document as stored before variants: no `variants`, `options`, `base_price`."""
    product = Product(
        name="Old Lamp",
        slug="old-lamp",
        price=3000,
        category_id=shelf.id,
        category_path=[shelf.id],
        stock=6,
        attributes={"color": "Green"},
        **fields,
    )
    row = product.model_dump(
        by_alias=True, exclude={"variants", "options", "base_price", "revision_id"}
    )
    row["facets"] = {"brand": None, "color": "green", "size": None}
    await Product.get_pymongo_collection().insert_one(row)
    return product


async def test_a_product_stored_before_variants_reads_as_one_variant(client, shelf):
    product = await legacy_product(shelf)
    body = await (await client.get(f"/api/v1/products/{product.id}")).get_json()
    assert [(v["id"], v["sku"], v["stock"], v["price"]) for v in body["variants"]] == [
        (str(product.id), f"P-{product.id}", 6, 3000)
    ]
    # The first stock write stores that variant (same id), guarded like any other.
    assert await inventory.take_stock(product_id=product.id, quantity=7) is None
    taken = await inventory.take_stock(product_id=product.id, quantity=2)
    assert (taken.variant.id, taken.variant.stock, taken.product.stock) == (str(product.id), 4, 4)
    row = await Product.get_pymongo_collection().find_one({"_id": product.id})
    assert [(v["id"], v["stock"], v["keys"]) for v in row["variants"]] == [
        (str(product.id), 4, ["color:green"])
    ]
    assert row["base_price"] == 3000


async def test_the_migration_stores_every_legacy_product_once(shelf, tee):
    old = await legacy_product(shelf)
    assert await inventory.migrate_variants() == 1
    row = await Product.get_pymongo_collection().find_one({"_id": old.id})
    assert [(v["id"], v["sku"], v["stock"], v["low_stock"]) for v in row["variants"]] == [
        (str(old.id), f"P-{old.id}", 6, False)
    ]
    assert await inventory.migrate_variants() == 0  # a re-run changes nothing
    again = await Product.get_pymongo_collection().find_one({"_id": old.id})
    assert again == row
