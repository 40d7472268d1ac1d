"""Orders helpers: a shipping address, and stock, orders and refunds read as they are stored."""

from __future__ import annotations

from datetime import timedelta

from beanie import PydanticObjectId

from app.catalog.models import Product
from app.core.clock import utcnow
from app.orders.models import Order
from app.payments.models import DevPaymentIntent

ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "12 Analytical Row",
    "city": "London",
    "postal_code": "N1 9GU",
    "country": "GB",
}


async def stock_of(product) -> int:
    return (await Product.get(product.id)).stock


async def order_count() -> int:
    return await Order.find_all().count()


async def make_due(order_id) -> None:
    """The backoff has run out (the clock moved on): the job may ask again now."""
    await Order.get_pymongo_collection().update_one(
        {"_id": PydanticObjectId(order_id)},
        {"$set": {"payment.refund_retry_at": utcnow() - timedelta(seconds=1)}},
    )


async def provider_refunded(order: dict) -> int:
    """What the dev provider has given back on the order's intent."""
    return (await DevPaymentIntent.get(order["payment"]["intent_id"])).amount_refunded
