"""The shopper's cart.

Lines hold a product id and a quantity; names, prices and availability are read live from
the catalog on every view, so a cart always shows current prices. Writes are read-modify-
write of the lines guarded by `version` (optimistic concurrency).
"""

from __future__ import annotations

from beanie import PydanticObjectId

from app.cart.models import Cart, CartLine
from app.core.clock import utcnow


async def checkout_lines(*, user_id: PydanticObjectId, session=None) -> list[CartLine]:
    """The cart's lines as checkout sees them (inside its transaction)."""
    cart = await Cart.find_one({"user_id": user_id}, session=session)
    return list(cart.lines) if cart else []


async def empty(*, user_id: PydanticObjectId, session=None) -> None:
    """Empty the cart (checkout does this in its transaction)."""
    await Cart.get_pymongo_collection().update_one(
        {"user_id": user_id},
        {"$set": {"lines": [], "updated_at": utcnow()}, "$inc": {"version": 1}},
        session=session,
    )
