"""An admin's changes to an order: its status (ship, deliver, cancel, refund) and refunds."""

from __future__ import annotations

from beanie import PydanticObjectId

from app.core import db
from app.errors import Invalid
from app.orders import lifecycle, refunds, state, store
from app.orders.cancellation import cancel
from app.orders.models import Order, OrderStatus
from app.orders.store import Session

_MOVE_ATTEMPTS = 3


async def change_status(
    *,
    order_id: PydanticObjectId,
    status: OrderStatus,
    admin_id: PydanticObjectId,
    tracking_number: str | None = None,
    note: str | None = None,
) -> Order:
    """An admin moves an order along. `paid` only comes from the payment provider;
    `cancelled` and `refunded` restock and refund as their own routes do; `shipped` needs a
    tracking number.

    Raises NotFound, Conflict `invalid_transition`, Invalid (tracking number).
    """
    actor = f"admin:{admin_id}"
    order = await store.get(order_id=order_id)
    if status == "paid":
        raise state.invalid_transition(order.status, "paid")
    if status == "cancelled":
        return await cancel(order=order, actor=actor, note=note)
    if status == "refunded":
        if not state.can_move(order.status, "refunded"):
            raise state.invalid_transition(order.status, "refunded")
        return await refunds.refund(order=order, amount=None, reason=note, actor=actor)
    if status == "shipped" and not tracking_number:
        raise Invalid(
            "A tracking number is required to ship an order.",
            errors=[{"loc": ["tracking_number"], "msg": "required when status is shipped"}],
        )
    also_set = {"tracking_number": tracking_number} if tracking_number else None
    for _ in range(_MOVE_ATTEMPTS):

        async def work(session: Session, order: Order = order) -> Order | None:
            return await lifecycle.move(
                order, status, actor=actor, note=note, also_set=also_set, session=session
            )

        moved = await db.run_in_transaction(work)
        if moved is not None:
            return moved
        order = await store.reload(order.id)
    raise state.invalid_transition(order.status, status)


async def refund(
    *,
    order_id: PydanticObjectId,
    admin_id: PydanticObjectId,
    amount: int | None,
    reason: str | None,
) -> Order:
    order = await store.get(order_id=order_id)
    return await refunds.refund(
        order=order, amount=amount, reason=reason, actor=f"admin:{admin_id}"
    )
