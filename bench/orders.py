"""A year of synthetic orders for the reports' benchmark (issue 20).

`count` orders spread evenly over the 365 days before now, on the demo catalog's products:
1-3 lines each, most paid and delivered, some cancelled before payment, some refunded in full
or in part. Deterministic for a given count. Written as stored documents (an `Order` built
once and copied), in one bulk load on the embedded engine.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any
from uuid import uuid4

from beanie import PydanticObjectId
from beanie.odm.utils.dump import get_dict
from bson import ObjectId

from app.catalog.models import Product
from app.core.clock import utcnow
from app.core.memory import MemoryCollection
from app.orders.models import HistoryEntry, Order, OrderItem, Payment, ShippingAddress


async def seed_orders(count: int, *, currency: str = "usd") -> int:
    products = await Product.find({"status": "active"}).limit(40).to_list()
    if not products:
        raise RuntimeError("seed the demo catalog first")
    rng = random.Random(count)  # noqa: S311 (test data, not secrets)
    now = utcnow()
    start = now - timedelta(days=365)
    step = timedelta(days=365) / count
    template = get_dict(
        Order(
            number="SO-BENCH",
            user_id=PydanticObjectId(),
            email="buyer@bench.test",
            items=[],
            subtotal=0,
            total=0,
            currency=currency,
            shipping_address=ShippingAddress(
                line1="1 Bench St", city="Benchtown", postal_code="1", country="US"
            ),
            payment=Payment(provider="dev", status="succeeded"),
        ),
        to_db=True,
    )
    rows: list[dict[str, Any]] = []
    for index in range(count):
        created = start + step * index
        items = []
        for product in rng.sample(products, rng.randint(1, 3)):
            quantity = rng.randint(1, 3)
            items.append(
                OrderItem(
                    product_id=product.id,
                    name=product.name,
                    slug=product.slug,
                    unit_price=product.price,
                    quantity=quantity,
                    line_total=product.price * quantity,
                ).model_dump()
            )
        total = sum(item["line_total"] for item in items)
        fate = rng.random()
        statuses = ["pending_payment"]
        refunds: list[dict[str, Any]] = []
        if fate < 0.08:
            statuses.append("cancelled")  # never paid
        else:
            statuses += ["paid", "processing", "shipped", "delivered"]
            if fate > 0.95:
                statuses.append("refunded")
                refunds.append({"id": ObjectId(), "amount": total, "status": "succeeded"})
            elif fate > 0.90:
                refunds.append({"id": ObjectId(), "amount": total // 3, "status": "succeeded"})
        row = dict(template)
        row.update(
            _id=ObjectId(),
            revision_id=uuid4(),
            number=f"SO-BENCH-{index:07d}",
            user_id=ObjectId(),
            status=statuses[-1],
            items=items,
            subtotal=total,
            total=total,
            payment={
                **template["payment"],
                "refunds": refunds,
                "amount_refunded": sum(r["amount"] for r in refunds),
            },
            history=[HistoryEntry(status=s, at=created).model_dump() for s in statuses],
            created_at=created,
            updated_at=created,
        )
        rows.append(row)
    collection = Order.get_pymongo_collection()
    if isinstance(collection, MemoryCollection):
        await collection.bulk_load(rows)
    else:
        await collection.insert_many(rows)
    return count
