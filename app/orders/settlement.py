"""Where an order stands after its refunds: what it owes, when the job asks again for it, how
a refund is booked, and the settlement after every change (the payment's status, and
`refunded` once everything is given back).

What a cancel gives back is what was taken (`Order.taken`): the total, or what the provider
reported when it did not match (`amount_mismatch`: `payment.amount_received`). A cancelled
(or refunded) order must give back every cent it took; what it has not is owed:
`payment.status` `refund_failed`, asked again by the job (owed_refunds.py) with a backoff
until REFUND_RETRY_MAX_ATTEMPTS.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from beanie import PydanticObjectId
from quart import current_app

from app.core import db
from app.core.clock import as_utc
from app.orders import lifecycle, state, store
from app.orders.models import Order, PaymentStatus, Refund
from app.orders.restock import restock
from app.orders.store import Query, Session


def amount_owed(order: Order) -> int:
    """What a cancelled (or refunded) order took and has not given back (nor asked back:
    pending refunds are booked in `amount_refunded`). Such an order has refunds only when it
    took money: cancelling it books one, and so does a payment arriving after cancellation."""
    if order.status not in state.GIVE_ALL_BACK or not order.payment.refunds:
        return 0
    return max(order.refundable, 0)


def next_refund_retry(order: Order) -> datetime | None:
    """When the job may ask again for what `order` owes: the last refusal plus the backoff,
    doubled for each refusal; None once the provider has refused REFUND_RETRY_MAX_ATTEMPTS."""
    settings = current_app.config["SETTINGS"]
    refused = [r for r in order.payment.refunds if r.status == "failed"]
    if not refused or len(refused) >= settings.REFUND_RETRY_MAX_ATTEMPTS:
        return None
    last = max(as_utc(r.failed_at or r.created_at) for r in refused)
    return last + timedelta(seconds=settings.REFUND_RETRY_BACKOFF_SECONDS * 2 ** (len(refused) - 1))


def reserve_refund(refund: Refund, *, total: int) -> tuple[Query, Query]:
    """The condition and update that book `refund` on an order without going over `total`
    (what it took: `taken`)."""
    condition: Query = {"payment.amount_refunded": {"$lte": total - refund.amount}}
    update: Query = {
        "$push": {"payment.refunds": refund.model_dump()},
        "$inc": {"payment.amount_refunded": refund.amount, "payment.refunds_version": 1},
        "$set": {"payment.status": "refund_pending"},
    }
    return condition, update


async def settle(order: Order, *, actor: str = "system", session: Session) -> Order | None:
    """After a refund: the payment's status, and `refunded` once everything is given back."""
    refunded = sum(r.amount for r in order.payment.refunds if r.status == "succeeded")
    pending = any(r.status == "pending" for r in order.payment.refunds)
    full = refunded >= order.taken
    if full and order.status in state.REFUNDABLE:
        moved = await lifecycle.move(
            order,
            "refunded",
            actor=actor,
            also_set={"payment.status": "refunded"},
            session=session,
        )
        if moved is None:
            return None  # its status changed under us: the caller re-reads and tries again
        if order.status in state.NOT_SHIPPED:
            await restock(order, reason="refund", actor=actor, session=session)
        return moved
    owed = amount_owed(order)
    status: PaymentStatus = (
        "refund_pending"
        if pending
        else "refund_failed"
        if owed
        else "refunded"
        if full
        else "partially_refunded"
        if refunded
        else "succeeded"
    )
    retry_at = next_refund_retry(order) if status == "refund_failed" else None
    return await store.update(
        order.id,
        {},
        {"$set": {"payment.status": status, "payment.refund_retry_at": retry_at}},
        session=session,
    )


async def settle_latest(order_id: PydanticObjectId, *, actor: str) -> Order:
    for _ in range(3):

        async def work(session: Session) -> Order | None:
            current = await store.reload(order_id, session=session)
            return await settle(current, actor=actor, session=session)

        settled = await db.run_in_transaction(work)
        if settled is not None:
            return settled
    return await store.reload(order_id)
