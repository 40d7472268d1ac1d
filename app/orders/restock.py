"""Putting an order's goods back on the shelf (a cancel, an expiry, a full refund of goods
not shipped), through the inventory's service. Its own small module because the cancel
(cancellation.py) and the refunds' settlement (settlement.py) both need it, and the
cancel depends on the refunds."""

from __future__ import annotations

from app.inventory import stock as inventory
from app.orders.models import Order
from app.orders.store import Session


async def restock(order: Order, *, reason: str, actor: str, session: Session = None) -> None:
    for item in order.items:
        await inventory.return_stock(
            product_id=item.product_id,
            variant_id=item.variant_id,
            quantity=item.quantity,
            reason=reason,
            order_id=order.id,
            actor=actor,
            session=session,
        )
