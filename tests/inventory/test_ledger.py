"""The stock ledger: every path that moves stock writes one exact movement with the change."""

from __future__ import annotations

import asyncio

import pytest
from beanie import PydanticObjectId

from app.cart.models import Cart, CartLine
from app.catalog.cache import current_version
from app.catalog.models import Product
from app.core import db
from app.email.models import OutboxEmail
from app.inventory import stock as inventory
from app.inventory.models import StockMovement
from tests.support.inventory import ledger, stored

pytestmark = pytest.mark.usefixtures("app")

PRODUCTS = "/api/v1/admin/products"
ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "12 Analytical Row",
    "city": "London",
    "postal_code": "N1 9GU",
    "country": "GB",
}


def stock_url(product) -> str:
    return f"{PRODUCTS}/{product.id}/stock"


# -- admin adjustments ------------------------------------------------------------------------


async def test_admin_delta_moves_stock_and_records_it(client, admin, stocked):
    user, headers = admin
    product = await stocked(stock=10, low_stock_threshold=2)

    response = await client.post(
        stock_url(product), json={"delta": -3, "reason": "damaged in transit"}, headers=headers
    )

    assert response.status_code == 200, await response.get_json()
    body = await response.get_json()
    assert (body["product_id"], body["name"]) == (str(product.id), "Stoneware Mug")
    assert (body["stock"], body["low_stock_threshold"], body["stock_status"]) == (7, 2, "in_stock")
    movement = body["movement"]
    assert movement["delta"] == -3 and movement["stock_after"] == 7
    assert movement["reason"] == "damaged in transit"
    assert movement["actor"] == f"admin:{user.id}" and movement["order_id"] is None
    assert movement["product_id"] == str(product.id)
    assert movement["product_name"] == "Stoneware Mug"
    assert movement["at"].endswith("Z")
    assert (await stored(product)).stock == 7
    [row] = await ledger(product)
    assert str(row.id) == movement["id"]
    assert (row.delta, row.stock_after, row.reason) == (-3, 7, "damaged in transit")

    restock = await client.post(
        stock_url(product), json={"delta": 25, "reason": "delivery 4711"}, headers=headers
    )
    assert (await restock.get_json())["stock"] == 32
    assert [(m.delta, m.stock_after) for m in await ledger(product)] == [(-3, 7), (25, 32)]


async def test_admin_set_records_the_difference(client, admin, stocked):
    _, headers = admin
    product = await stocked(stock=10)

    response = await client.post(
        stock_url(product), json={"set": 42, "reason": "stocktake"}, headers=headers
    )
    assert response.status_code == 200
    body = await response.get_json()
    assert body["stock"] == 42
    assert (body["movement"]["delta"], body["movement"]["stock_after"]) == (32, 42)

    down = await client.post(
        stock_url(product), json={"set": 0, "reason": "recall"}, headers=headers
    )
    assert (await down.get_json())["stock_status"] == "out_of_stock"
    # A stocktake that finds what the system says is still worth a line in the ledger.
    same = await client.post(
        stock_url(product), json={"set": 0, "reason": "recount"}, headers=headers
    )
    assert same.status_code == 200
    assert [(m.delta, m.stock_after, m.reason) for m in await ledger(product)] == [
        (32, 42, "stocktake"),
        (-42, 0, "recall"),
        (0, 0, "recount"),
    ]
    assert (await stored(product)).stock == 0


async def test_delta_below_zero_is_refused_and_writes_nothing(client, admin, stocked):
    _, headers = admin
    product = await stocked(stock=2, low_stock_threshold=5)
    before = await stored(product)

    response = await client.post(
        stock_url(product), json={"delta": -3, "reason": "shrinkage"}, headers=headers
    )

    assert response.status_code == 409
    problem = await response.get_json()
    assert problem["code"] == "insufficient_stock" and problem["available"] == 2
    assert response.content_type == "application/problem+json"
    # The payload the API documents for insufficient_stock, as the cart and checkout answer it.
    assert problem["lines"] == [
        {"product_id": str(product.id), "name": product.name, "requested": 3, "available": 2}
    ]
    after = await stored(product)
    assert (after.stock, after.updated_at) == (2, before.updated_at)
    assert await StockMovement.count() == 0
    assert await OutboxEmail.count() == 0


async def test_delta_over_the_store_maximum_is_refused(client, admin, stocked):
    _, headers = admin
    product = await stocked(stock=999_999_990)

    response = await client.post(
        stock_url(product), json={"delta": 11, "reason": "too many"}, headers=headers
    )

    assert response.status_code == 409
    assert (await response.get_json())["errors"][0]["loc"] == ["delta"]
    assert (await stored(product)).stock == 999_999_990 and await StockMovement.count() == 0
    fits = await client.post(
        stock_url(product), json={"delta": 10, "reason": "exactly full"}, headers=headers
    )
    assert (await fits.get_json())["stock"] == 1_000_000_000


@pytest.mark.parametrize("product_id", ["0" * 24, "not-an-id"])
async def test_unknown_product_is_404(client, admin, product_id):
    _, headers = admin
    for body in (
        {"delta": -1, "reason": "x"},
        {"delta": 1, "reason": "x"},
        {"set": 1, "reason": "x"},
    ):
        response = await client.post(f"{PRODUCTS}/{product_id}/stock", json=body, headers=headers)
        assert response.status_code == 404, body
    assert await StockMovement.count() == 0


async def test_archived_products_can_be_counted(client, admin, stocked):
    _, headers = admin
    product = await stocked(stock=3, status="archived")

    response = await client.post(
        stock_url(product), json={"delta": -3, "reason": "written off"}, headers=headers
    )

    assert response.status_code == 200 and (await response.get_json())["stock"] == 0
    assert [m.stock_after for m in await ledger(product)] == [0]


async def test_concurrent_admin_deltas_never_go_below_zero(client, admin, stocked):
    _, headers = admin
    product = await stocked(stock=5)

    responses = await asyncio.gather(
        *(
            client.post(stock_url(product), json={"delta": -2, "reason": "pick"}, headers=headers)
            for _ in range(4)
        )
    )

    assert sorted(r.status_code for r in responses) == [200, 200, 409, 409]
    assert (await stored(product)).stock == 1
    assert sorted(m.stock_after for m in await ledger(product)) == [1, 3]


# -- PATCH /admin/products/{id} with stock -----------------------------------------------------


async def test_patch_stock_goes_through_the_ledger(client, admin, stocked):
    user, headers = admin
    product = await stocked(stock=10)

    response = await client.patch(
        f"{PRODUCTS}/{product.id}", json={"stock": 4, "name": "Big Mug"}, headers=headers
    )

    assert response.status_code == 200
    body = await response.get_json()
    assert (body["stock"], body["stock_status"], body["name"]) == (4, "low_stock", "Big Mug")
    [row] = await ledger(product)
    assert (row.delta, row.stock_after, row.reason) == (-6, 4, "admin edit")
    assert row.actor == f"admin:{user.id}" and row.order_id is None


async def test_patch_without_a_stock_change_writes_no_movement(client, admin, stocked):
    _, headers = admin
    product = await stocked(stock=10)

    for body in ({"stock": 10}, {"name": "Renamed"}, {"low_stock_threshold": 2}):
        response = await client.patch(f"{PRODUCTS}/{product.id}", json=body, headers=headers)
        assert response.status_code == 200, body

    assert await ledger(product) == []
    assert (await stored(product)).stock == 10


# -- the order paths: take_stock / return_stock --------------------------------------------------


@pytest.mark.parametrize("transactional", [True, False], ids=["transaction", "no-transaction"])
async def test_take_stock_records_a_sale(stocked, transactional, request):
    if not transactional:
        request.getfixturevalue("without_transactions")
    product = await stocked(stock=10)
    order_id = PydanticObjectId()

    async def sell(session):
        return await inventory.take_stock(
            product_id=product.id,
            quantity=3,
            reason="sale",
            order_id=order_id,
            actor="user:abc",
            session=session,
        )

    after = await db.run_in_transaction(sell)

    assert after.product.stock == 7 and after.product.id == product.id
    assert after.product.name == product.name and after.stock_before == 10
    [row] = await ledger(product)
    assert (row.delta, row.stock_after, row.reason) == (-3, 7, "sale")
    assert (row.order_id, row.actor) == (order_id, "user:abc")
    assert (await stored(product)).stock == 7


@pytest.mark.parametrize("reason", ["cancel", "expiry", "refund", "checkout_compensation"])
async def test_return_stock_records_each_reason(stocked, reason):
    product = await stocked(stock=2)
    order_id = PydanticObjectId()

    after = await db.run_in_transaction(
        lambda session: inventory.return_stock(
            product_id=product.id,
            quantity=4,
            reason=reason,
            order_id=order_id,
            actor="system",
            session=session,
        )
    )

    assert after.product.stock == 6
    [row] = await ledger(product)
    assert (row.delta, row.stock_after, row.reason, row.order_id, row.actor) == (
        4,
        6,
        reason,
        order_id,
        "system",
    )


async def test_return_stock_reaches_archived_products_and_misses_gone_ones(stocked):
    product = await stocked(stock=0, status="archived")

    after = await inventory.return_stock(product_id=product.id, quantity=2, reason="refund")
    gone = await inventory.return_stock(product_id=PydanticObjectId(), quantity=2, reason="refund")

    assert after.product.stock == 2 and gone is None
    assert await StockMovement.count() == 1


@pytest.mark.parametrize(
    "fields, quantity",
    [({"stock": 2}, 3), ({"stock": 5, "status": "archived"}, 1)],
    ids=["short", "archived"],
)
async def test_take_stock_refusal_writes_nothing(stocked, fields, quantity):
    product = await stocked(**fields)

    assert await inventory.take_stock(product_id=product.id, quantity=quantity) is None

    assert (await stored(product)).stock == fields["stock"]
    assert await StockMovement.count() == 0


async def test_an_aborted_transaction_takes_its_movement_and_alert_with_it(stocked, staff):
    if not db.get_db().supports_transactions:
        pytest.skip("needs transactions")
    product = await stocked(stock=6, low_stock_threshold=5)

    async def sell_then_fail(session):
        await inventory.take_stock(product_id=product.id, quantity=2, session=session)
        raise RuntimeError("payment provider exploded")

    with pytest.raises(RuntimeError):
        await db.run_in_transaction(sell_then_fail)

    assert (await stored(product)).stock == 6
    assert await StockMovement.count() == 0
    assert await OutboxEmail.count() == 0


async def test_concurrent_sales_have_exact_stock_after_without_transactions(
    stocked, without_transactions
):
    product = await stocked(stock=20)

    results = await asyncio.gather(
        *(inventory.take_stock(product_id=product.id, quantity=3) for _ in range(8))
    )

    assert sum(r is not None for r in results) == 6  # 6 x 3 = 18 of 20
    assert (await stored(product)).stock == 2
    rows = await ledger(product)
    assert sorted(m.stock_after for m in rows) == [2, 5, 8, 11, 14, 17]
    assert {m.delta for m in rows} == {-3}


# -- through the shop: checkout and cancel -------------------------------------------------------


async def test_checkout_and_cancel_write_sale_and_cancel_movements(client, customer, stocked):
    user, headers = customer
    mug = await stocked(stock=10)
    lamp = await stocked("Desk Lamp", stock=4)
    await Cart(
        user_id=user.id,
        lines=[CartLine(product_id=mug.id, quantity=2), CartLine(product_id=lamp.id, quantity=1)],
    ).insert()

    placed = await client.post(
        "/api/v1/orders", json={"shipping_address": ADDRESS}, headers=headers
    )
    assert placed.status_code == 201, await placed.get_json()
    order_id = PydanticObjectId((await placed.get_json())["id"])
    cancelled = await client.post(f"/api/v1/orders/{order_id}/cancel", headers=headers)
    assert cancelled.status_code == 200, await cancelled.get_json()

    for product, quantity, start in ((mug, 2, 10), (lamp, 1, 4)):
        rows = await ledger(product)
        assert [(m.reason, m.delta, m.stock_after) for m in rows] == [
            ("sale", -quantity, start - quantity),
            ("cancel", quantity, start),
        ]
        assert {m.order_id for m in rows} == {order_id}
        assert rows[0].actor == f"user:{user.id}"
        assert (await stored(product)).stock == start


async def create_product(client, headers, **fields) -> Product:
    body = {"description": "", "price": 2500, "low_stock_threshold": 2, **fields}
    created = await client.post("/api/v1/admin/products", json=body, headers=headers)
    assert created.status_code == 201, await created.get_json()
    return await Product.get(PydanticObjectId((await created.get_json())["id"]))


async def test_a_created_products_ledger_adds_up_to_its_stock(client, admin, customer, shelf):
    admin_user, admin_headers = admin
    user, headers = customer
    product = await create_product(
        client, admin_headers, name="Field Kettle", category=str(shelf.id), stock=10
    )
    [opening] = await ledger(product)
    assert (opening.reason, opening.delta, opening.stock_after) == ("initial", 10, 10)
    assert opening.actor == f"admin:{admin_user.id}"

    url = stock_url(product)
    await client.post(url, json={"delta": 5, "reason": "delivery"}, headers=admin_headers)
    await client.post(url, json={"set": 12, "reason": "count"}, headers=admin_headers)
    await Cart(user_id=user.id, lines=[CartLine(product_id=product.id, quantity=3)]).insert()
    placed = await client.post(
        "/api/v1/orders", json={"shipping_address": ADDRESS}, headers=headers
    )
    assert placed.status_code == 201
    await client.post(f"/api/v1/orders/{(await placed.get_json())['id']}/cancel", headers=headers)
    line = {"product_id": str(product.id), "quantity": 4}
    assert (await client.post("/api/v1/cart/items", json=line, headers=headers)).status_code == 200
    assert (
        await client.post("/api/v1/orders", json={"shipping_address": ADDRESS}, headers=headers)
    ).status_code == 201

    rows = await ledger(product)
    assert [m.reason for m in rows] == ["initial", "delivery", "count", "sale", "cancel", "sale"]
    stock = (await stored(product)).stock
    assert stock == 8 and sum(m.delta for m in rows) == stock == rows[-1].stock_after


async def test_a_product_created_without_stock_has_no_opening_row_and_starts_low(
    client, admin, shelf, staff
):
    _, headers = admin
    product = await create_product(client, headers, name="Preorder", category=shelf.slug, stock=0)
    assert await ledger(product) == [] and product.low_stock is True
    low = await client.get("/api/v1/admin/inventory/low-stock", headers=headers)
    assert str(product.id) in {item["id"] for item in (await low.get_json())["items"]}
    assert await OutboxEmail.find({"kind": "low_stock"}).count() == 0  # nothing crossed


# -- the catalog cache: list pages show the stock status -----------------------------------------


async def test_stock_status_changes_bump_the_catalog_version(client, stocked):
    product = await stocked(stock=8, low_stock_threshold=5)

    async def version_after(move) -> int:
        before = (await current_version())[1]
        await move()
        return (await current_version())[1] - before

    take = lambda n: lambda: inventory.take_stock(product_id=product.id, quantity=n)  # noqa: E731
    assert await version_after(take(1)) == 0  # 7: still in stock
    assert await version_after(take(2)) == 1  # 5: low
    assert await version_after(take(1)) == 0  # 4: still low
    assert await version_after(take(4)) == 1  # 0: out
    back = lambda: inventory.return_stock(product_id=product.id, quantity=9, reason="cancel")  # noqa: E731
    assert await version_after(back) == 1  # 9: in stock again
    assert (
        await version_after(
            lambda: inventory.set_low_stock_threshold(product_id=product.id, threshold=9)
        )
        == 1
    )

    # A cached list page is not served after a crossing.
    async def listed_status() -> list[str]:
        page = await (await client.get("/api/v1/products")).get_json()
        return [item["stock_status"] for item in page["items"]]

    assert await listed_status() == ["low_stock"]  # 9 at a threshold of 9
    await inventory.take_stock(product_id=product.id, quantity=9)
    assert await listed_status() == ["out_of_stock"]


async def test_the_backfill_flags_products_stored_before_the_flag(client, admin, stocked):
    _, headers = admin
    kept = await stocked("Kept", stock=1, low_stock_threshold=5)  # flagged when written
    raw = Product.get_pymongo_collection()
    base = {k: v for k, v in (await raw.find_one({"_id": kept.id})).items() if k != "_id"}
    old_low = (await raw.insert_one({**base, "slug": "old-low", "stock": 2})).inserted_id
    old_full = (await raw.insert_one({**base, "slug": "old-full", "stock": 50})).inserted_id
    no_threshold = {**base, "slug": "old-default", "stock": 5}
    del no_threshold["low_stock_threshold"]
    old_default = (await raw.insert_one(no_threshold)).inserted_id
    await raw.update_many({"_id": {"$ne": kept.id}}, {"$unset": {"low_stock": ""}})

    assert await inventory.backfill_low_stock_flags() == 3
    flags = {
        row["slug"]: row["low_stock"] async for row in raw.find({}, {"slug": 1, "low_stock": 1})
    }
    assert flags == {kept.slug: True, "old-low": True, "old-full": False, "old-default": True}
    assert (await raw.find_one({"_id": old_default}))["low_stock_threshold"] == 5
    assert await inventory.backfill_low_stock_flags() == 0  # idempotent
    low = await client.get("/api/v1/admin/inventory/low-stock", headers=headers)
    listed = {item["id"] for item in (await low.get_json())["items"]}
    assert {str(old_low), str(old_default)} <= listed and str(old_full) not in listed
