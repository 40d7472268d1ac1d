"""Read-only questions other domains ask about orders (no writes here)."""

from __future__ import annotations

from beanie import PydanticObjectId

from app.orders import store
from app.orders.store import Session


async def has_delivered_product(
    *, user_id: PydanticObjectId, product_id: PydanticObjectId, session: Session = None
) -> bool:
    """True when the user has a `delivered` order with the product in it (index
    `user_product_status`). Orders refunded or cancelled later do not count."""
    return await store.has_delivered_product(
        user_id=user_id, product_id=product_id, session=session
    )
