"""A write request's cost does not grow with the data (issue 16, "writes that stay flat").

On the embedded engine, each request of the shopper's and the admin's write paths (add to
cart, checkout, pay, create a product) is run with the demo catalog, then again after the
shop grew by 2,000 products and by other shoppers' carts, sessions and idempotency records;
the documents each request touched (tests/touched.py) must be the same number both times.
A scan of any collection (a query the engine cannot look up, a TTL sweep over every
document, a uniqueness check by comparison) shows as a count that grows.

Counts, never timings. On a server the same queries are served by the models' declared
indexes (the catalog's and inventory's index tests explain them there).
"""

from __future__ import annotations

import os
import uuid
from datetime import timedelta

import mongomock_ng
import pytest
from beanie import PydanticObjectId

from app.auth.models import AuthSession
from app.cart.models import Cart, CartLine
from app.catalog.models import Category, Product
from app.catalog.slugs import slugify
from app.core.clock import utcnow
from app.core.idempotency import IdempotencyRecord
from app.inventory.demo import seed_demo_catalog
from bench.catalog import seed_products
from tests.touched import touched

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("MONGODB_URI")), reason="counts the embedded engine's documents"
)

ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "12 Analytical Row",
    "city": "London",
    "postal_code": "N1 9GU",
    "country": "GB",
}
GROWTH = 2_000
OTHERS = 300


async def _grow_the_shop() -> None:
    """2,000 more products, and other shoppers' carts, sessions and idempotency records."""
    await seed_products(GROWTH)
    some = await Product.find({"status": "active"}).limit(3).to_list()
    now = utcnow()
    for _ in range(OTHERS):
        user_id = PydanticObjectId()
        await Cart(
            user_id=user_id,
            lines=[CartLine(product_id=p.id, quantity=1) for p in some],
            version=1,
            updated_at=now,
        ).insert()
        await AuthSession(user_id=user_id, expires_at=now + timedelta(days=30)).insert()
        await IdempotencyRecord(
            user_id=user_id,
            key=uuid.uuid4().hex,
            fingerprint="x",
            locked_until=now,
            expires_at=now + timedelta(hours=24),
        ).insert()


async def _write_requests(
    client, create_user, product_id: str, category_id: str, new_name: str
) -> dict:
    """One shopper's add, checkout and pay, and an admin's new product named like an
    existing one (so its free slug is looked for): what each request touched."""
    _, shopper = await create_user()
    _, admin = await create_user(role="admin")
    costs = {}
    async with touched() as counts:
        added = await client.post(
            "/api/v1/cart/items", json={"product_id": product_id, "quantity": 1}, headers=shopper
        )
    assert added.status_code in (200, 201), await added.get_json()
    costs["add to cart"] = dict(counts)
    async with touched() as counts:
        placed = await client.post(
            "/api/v1/orders",
            json={"shipping_address": ADDRESS},
            headers={**shopper, "Idempotency-Key": uuid.uuid4().hex},
        )
    assert placed.status_code == 201, await placed.get_json()
    costs["checkout"] = dict(counts)
    async with touched() as counts:
        paid = await client.post(
            f"/api/v1/orders/{(await placed.get_json())['id']}/pay",
            json={"payment_method": "pm_card_visa"},
            headers={**shopper, "Idempotency-Key": uuid.uuid4().hex},
        )
    assert paid.status_code == 200, await paid.get_json()
    costs["pay"] = dict(counts)
    async with touched() as counts:
        made = await client.post(
            "/api/v1/admin/products",
            json={
                "name": new_name,
                "description": "Again.",
                "price": 1999,
                "category": category_id,
                "stock": 10,
            },
            headers=admin,
        )
    assert made.status_code == 201, await made.get_json()
    costs["create product"] = dict(counts)
    return costs


async def test_write_requests_touch_as_many_documents_with_2000_more_products(
    client, create_user, monkeypatch
):
    # The engine's TTL clock stands still: the rate limiter's buckets (POST /orders writes
    # them, due seconds later) would otherwise expire while the shop grows, whenever that
    # takes a few seconds, and their removal would count in the next request. Expiry follows
    # the time that passed, not the data.
    started = mongomock_ng.utcnow()
    monkeypatch.setattr(mongomock_ng, "utcnow", lambda: started)
    await seed_demo_catalog()
    product = await Product.find_one({"slug": "trail-running-shoe"})
    category = await Category.get(product.category_id)
    ids = (str(product.id), str(category.id))
    # Names taken once each (their slug is free at the first suffix): same work every time.
    first, second, third = [
        p.name
        for p in await Product.find({"status": "active"}).limit(10).to_list()
        if slugify(p.name) == p.slug
    ][:3]
    await _write_requests(client, create_user, *ids, first)  # the engine builds its maps
    small = await _write_requests(client, create_user, *ids, second)
    await _grow_the_shop()
    big = await _write_requests(client, create_user, *ids, third)
    for request in small:
        assert big[request] == small[request], (request, small[request], big[request])
    for request, counts in big.items():
        assert sum(counts.values()) < 100, (request, counts)  # lookups, not scans
