"""An order's row: read it, and change it with one conditional update (no read-modify-write
across a gap: the condition is the guard)."""

from __future__ import annotations

from beanie import PydanticObjectId
from pymongo import ReturnDocument

from app.core.clock import utcnow
from app.errors import NotFound
from app.orders.models import Order


async def reload(order_id: PydanticObjectId, *, session=None) -> Order:
    order = await Order.get(order_id, session=session)
    if order is None:
        raise NotFound("No such order.")
    return order


async def update(order_id, condition: dict, update: dict, *, session=None) -> Order | None:
    update.setdefault("$set", {})["updated_at"] = utcnow()
    row = await Order.get_pymongo_collection().find_one_and_update(
        {"_id": order_id, **condition},
        update,
        return_document=ReturnDocument.AFTER,
        session=session,
    )
    return Order.model_validate(row) if row else None
