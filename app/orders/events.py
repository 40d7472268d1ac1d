"""The orders' outgoing webhook events (app/hooks): each carries the order as
`GET /api/v1/admin/orders/{id}` shows it, written in the transaction of the change (pass
`session=`). The payment's `client_secret` is left out (null): it is the customer's, and a
receiver has no use for it."""

from __future__ import annotations

from app.hooks import events
from app.orders.models import Order, OrderStatus
from app.orders.schemas import AdminOrderOut
from app.orders.store import Session

# The status-specific event that goes with `order.status_changed` for these targets.
_BY_STATUS: dict[str, str] = {
    "paid": "order.paid",
    "cancelled": "order.cancelled",
    "refunded": "order.refunded",
}


def payload(order: Order) -> dict[str, object]:
    data = AdminOrderOut.of(order).model_dump(mode="json")
    data["payment"]["client_secret"] = None
    return data


async def order_created(order: Order, *, session: Session = None) -> None:
    await events.emit("order.created", payload(order), subject=f"order:{order.id}", session=session)


async def order_moved(order: Order, *, target: OrderStatus, session: Session = None) -> None:
    """`order.status_changed`, then `order.paid` / `.cancelled` / `.refunded` where it applies
    (`order` as it is after the move)."""
    data = payload(order)
    subject = f"order:{order.id}"
    await events.emit("order.status_changed", data, subject=subject, session=session)
    specific = _BY_STATUS.get(target)
    if specific is not None:
        await events.emit(specific, data, subject=subject, session=session)
