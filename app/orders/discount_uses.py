"""An order's discount use: given back once when the order is cancelled (expiry included) or
fully refunded, in the same transaction as that move (lifecycle.move)."""

from __future__ import annotations

from app.charges import discounts
from app.orders.models import Order
from app.orders.store import Session

GIVES_USE_BACK = frozenset({"cancelled", "refunded"})


async def give_back(order: Order, *, session: Session = None) -> None:
    """Release the order's discount use unless it was released already: the flag flips with
    a conditional update, so of two callers exactly one gives the use back."""
    if order.discount is None or order.discount.released:
        return
    flipped = await Order.get_pymongo_collection().update_one(
        {"_id": order.id, "discount.released": False},
        {"$set": {"discount.released": True}},
        session=session,
    )
    if not flipped.modified_count:
        return
    await discounts.release(
        discount_id=order.discount.id,
        customer=order.discount.customer,
        order_id=order.id,
        session=session,
    )
    order.discount.released = True
