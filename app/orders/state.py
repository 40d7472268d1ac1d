"""The order state machine: which status may follow which, and the one way to move.

    pending_payment -> paid -> processing -> shipped -> delivered
    pending_payment | paid | processing -> cancelled
    paid | processing | shipped | delivered -> refunded

Every move is one conditional update on the status the caller read, so of two racing moves
exactly one wins; it appends to `history`, gives back the order's unpaid hold when it leaves
`pending_payment` (holds.py) and queues the customer's email in the same transaction (pass
`session=`; without one, the order moves first and the hold follows).
"""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument

from app.core.clock import utcnow
from app.errors import Conflict, ErrorCode
from app.orders import holds
from app.orders.models import HistoryEntry, Order, OrderStatus
from app.orders.notifications import order_status_email

TRANSITIONS: dict[str, frozenset[str]] = {
    "pending_payment": frozenset({"paid", "cancelled"}),
    "paid": frozenset({"processing", "cancelled", "refunded"}),
    "processing": frozenset({"shipped", "cancelled", "refunded"}),
    "shipped": frozenset({"delivered", "refunded"}),
    "delivered": frozenset({"refunded"}),
    "cancelled": frozenset(),
    "refunded": frozenset(),
}
CANCELLABLE = frozenset(s for s, targets in TRANSITIONS.items() if "cancelled" in targets)
# Goods not yet handed to the carrier: cancelling or refunding puts them back on the shelf.
NOT_SHIPPED = frozenset({"pending_payment", "paid", "processing"})


def can_move(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def invalid_transition(current: str, target: str) -> Conflict:
    return Conflict(
        f"An order that is {current} cannot become {target}.",
        code=ErrorCode.INVALID_TRANSITION,
        current_status=current,
        requested_status=target,
    )


async def move(
    order: Order,
    target: OrderStatus,
    *,
    actor: str,
    note: str | None = None,
    also_set: dict[str, Any] | None = None,
    also_update: dict[str, Any] | None = None,
    also_match: dict[str, Any] | None = None,
    email_note: str | None = None,
    session=None,
) -> Order | None:
    """Move `order` from the status it was read with to `target`.

    Returns the order after the move, or None when its status changed since it was read (the
    caller decides: re-read, converge or report a conflict). Raises Conflict
    `invalid_transition` when the move is not allowed from the status read.
    """
    if not can_move(order.status, target):
        raise invalid_transition(order.status, target)
    now = utcnow()
    entry = HistoryEntry(status=target, at=now, actor=actor, note=note)
    update: dict[str, Any] = {
        "$set": {"status": target, "updated_at": now, **(also_set or {})},
        "$push": {"history": entry.model_dump()},
    }
    for operator, fields in (also_update or {}).items():
        update.setdefault(operator, {}).update(fields)
    row = await Order.get_pymongo_collection().find_one_and_update(
        {**(also_match or {}), "_id": order.id, "status": order.status},
        update,
        return_document=ReturnDocument.AFTER,
        session=session,
    )
    if row is None:
        return None
    moved = Order.model_validate(row)
    if order.status == "pending_payment" and moved.hold_keys:
        # No longer unpaid: its place under the cap is free. Only the move that took it out
        # of `pending_payment` gets here (the status was its condition), so this happens once.
        await holds.release(moved.hold_keys, order_id=moved.id, units=moved.units, session=session)
    await order_status_email(moved, note=email_note or note, session=session)
    return moved
