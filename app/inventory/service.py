"""Stock levels: the one place that moves a product's stock.

Every movement is a single conditional update, so stock never goes below zero even where
the server runs no transactions; callers pass `session=` to make it part of theirs.
"""

from __future__ import annotations

from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument

from app.catalog.models import Product
from app.core.clock import utcnow


async def take_stock(
    *,
    product_id: PydanticObjectId,
    quantity: int,
    reason: str = "sale",
    order_id: PydanticObjectId | None = None,
    actor: str | None = None,
    session=None,
) -> dict[str, Any] | None:
    """Take `quantity` units of an active product: the product document after the change,
    or None when it is archived, unknown or has fewer than `quantity` in stock (then nothing
    changed)."""
    del reason, order_id, actor  # recorded by the stock ledger
    return await Product.get_pymongo_collection().find_one_and_update(
        {"_id": product_id, "status": "active", "stock": {"$gte": quantity}},
        {"$inc": {"stock": -quantity}, "$set": {"updated_at": utcnow()}},
        return_document=ReturnDocument.AFTER,
        session=session,
    )


async def return_stock(
    *,
    product_id: PydanticObjectId,
    quantity: int,
    reason: str,
    order_id: PydanticObjectId | None = None,
    actor: str | None = None,
    session=None,
) -> dict[str, Any] | None:
    """Give `quantity` units back (cancel, expiry, refund, a failed checkout's compensation),
    archived products included. The product after the change, or None when it is gone."""
    del reason, order_id, actor  # recorded by the stock ledger
    return await Product.get_pymongo_collection().find_one_and_update(
        {"_id": product_id},
        {"$inc": {"stock": quantity}, "$set": {"updated_at": utcnow()}},
        return_document=ReturnDocument.AFTER,
        session=session,
    )
