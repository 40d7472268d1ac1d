"""Read-only questions other domains ask about orders (no writes here)."""

from __future__ import annotations

from beanie import PydanticObjectId

from app.orders.models import Order


async def has_delivered_product(
    *, user_id: PydanticObjectId, product_id: PydanticObjectId, session=None
) -> bool:
    """True when the user has a `delivered` order with the product in it (index
    `user_product_status`). Orders refunded or cancelled later do not count."""
    found = await Order.get_pymongo_collection().find_one(
        {"user_id": user_id, "items.product_id": product_id, "status": "delivered"},
        {"_id": 1},
        session=session,
    )
    return found is not None
