"""The one way to move an order along its statuses (app/orders/state.py says which moves
exist): one conditional update on the status the caller read, so of two racing moves exactly
one wins. It appends to `history`, gives back the order's unpaid hold when it leaves
`pending_payment` (holds.py), gives back a cancelled or refunded order's discount use
(discount_uses.py) and queues the customer's email in the same transaction (pass
`session=`; without one, the order moves first and the hold follows).
"""

from __future__ import annotations

from app.core.clock import utcnow
from app.orders import discount_uses, events, holds, state, store
from app.orders.models import HistoryEntry, Order, OrderStatus
from app.orders.notifications import order_status_email
from app.orders.store import Query, Session


async def move(
    order: Order,
    target: OrderStatus,
    *,
    actor: str,
    note: str | None = None,
    also_set: Query | None = None,
    also_update: Query | None = None,
    also_match: Query | None = None,
    email_note: str | None = None,
    session: Session = None,
) -> Order | None:
    """Move `order` from the status it was read with to `target`.

    Returns the order after the move, or None when its status changed since it was read (the
    caller decides: re-read, converge or report a conflict). Raises Conflict
    `invalid_transition` when the move is not allowed from the status read.
    """
    if not state.can_move(order.status, target):
        raise state.invalid_transition(order.status, target)
    entry = HistoryEntry(status=target, at=utcnow(), actor=actor, note=note)
    moved = await store.move(
        order,
        target,
        entry=entry,
        also_set=also_set,
        also_update=also_update,
        also_match=also_match,
        session=session,
    )
    if moved is None:
        return None
    if order.status == "pending_payment" and moved.hold_keys:
        # No longer unpaid: its place under the cap is free. Only the move that took it out
        # of `pending_payment` gets here (the status was its condition), so this happens once.
        await holds.release(moved.hold_keys, order_id=moved.id, units=moved.units, session=session)
    if target in discount_uses.GIVES_USE_BACK:
        await discount_uses.give_back(moved, session=session)
    await order_status_email(moved, note=email_note or note, session=session)
    await events.order_moved(moved, target=target, session=session)
    return moved
