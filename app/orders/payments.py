"""The order side of payments: intents and confirmation (refunds are in
`app.orders.refunds`).

The provider (through app/orders/provider.py) is never called inside a transaction. What it answers
is applied with conditional updates, so `/pay`, a webhook and the reconciliation job can race
on one intent and still converge on one `pending_payment → paid` (one history entry, one
email).
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from beanie import PydanticObjectId

from app.core import db
from app.core.clock import utcnow
from app.errors import AppError, Conflict, ErrorCode
from app.orders import lifecycle, provider, state, store
from app.orders.models import Order, Refund
from app.orders.refunds import RefundRefused, drive_refund, refund
from app.orders.settlement import reserve_refund
from app.orders.store import Session
from app.payments.types import Intent, ProviderUnavailable

if TYPE_CHECKING:
    from app.auth.models import User

log = logging.getLogger("app.orders.payments")

# A confirmation in flight this long is presumed lost (the process died): a new one may start.
ATTEMPT_LEASE = timedelta(minutes=2)


class PaymentDeclined(AppError):
    status, code = 402, ErrorCode.PAYMENT_DECLINED


class PaymentUnavailable(AppError):
    """The provider could not be reached: nothing was charged, try again."""

    status, code = 402, ErrorCode.PAYMENT_UNAVAILABLE


def provider_name() -> str:
    """The provider recorded on a new order's payment (checkout asks it here)."""
    return provider.name()


# -- intents and confirmation -----------------------------------------------------------------


async def ensure_intent(order: Order) -> Order:
    """Give an unpaid order its payment intent (once). When the provider cannot be reached
    the order keeps its stock reservation with `payment.status` `intent_failed`; `/pay`
    tries again."""
    if order.payment.intent_id or order.status != "pending_payment":
        return order
    try:
        intent = await provider.create_intent(order)
    except ProviderUnavailable as error:
        log.warning("payment intent for order %s not created: %s", order.number, error)
        changed = await store.update(
            order.id,
            {"payment.intent_id": None},
            {"$set": {"payment.status": "intent_failed"}},
        )
        return changed or await store.reload(order.id)
    changed = await store.update(
        order.id,
        {"payment.intent_id": None},
        {
            "$set": {
                "payment.intent_id": intent.id,
                "payment.client_secret": intent.client_secret,
                "payment.status": "requires_payment",
            }
        },
    )
    return changed or await store.reload(order.id)


async def pay_mine(*, user: User, order_id: PydanticObjectId, payment_method: str) -> Order:
    """The customer pays their order: see `pay`. Raises NotFound for another user's order."""
    order = await store.get(order_id=order_id, user_id=user.id)
    return await pay(order=order, payment_method=payment_method, actor="customer")


async def pay(*, order: Order, payment_method: str, actor: str) -> Order:
    """Confirm the order's payment with `payment_method`, server-side.

    Raises Conflict `invalid_transition` when the order is not awaiting payment (or was
    cancelled while the payment went through: that payment is then refunded), Conflict
    when another confirmation is in flight, PaymentDeclined (the order stays
    `pending_payment`; `payment.status` says why) and PaymentUnavailable.
    """
    if order.status != "pending_payment":
        raise state.invalid_transition(order.status, "paid")
    order = await ensure_intent(order)
    if order.payment.intent_id is None:
        raise PaymentUnavailable("The payment provider cannot be reached; try again shortly.")
    now = utcnow()
    claimed = await store.update(
        order.id,
        {
            "status": "pending_payment",
            "$or": [
                {"payment.status": {"$ne": "processing"}},
                {"payment.attempt_started_at": {"$lt": now - ATTEMPT_LEASE}},
            ],
        },
        {"$set": {"payment.status": "processing", "payment.attempt_started_at": now}},
    )
    if claimed is None:
        current = await store.reload(order.id)
        if current.status == "pending_payment":
            raise Conflict(
                "A payment for this order is already in progress.",
                code=ErrorCode.CONFLICT,
                headers={"Retry-After": "2"},
            )
        if current.status in state.REFUNDABLE:
            return current  # paid meanwhile (a webhook, another tab): nothing to do twice
        raise state.invalid_transition(current.status, "paid")
    assert claimed.payment.intent_id is not None  # attached above; an intent is never detached
    try:
        intent = await provider.confirm(
            intent_id=claimed.payment.intent_id,
            payment_method=payment_method,
            idempotency_key=f"confirm-{order.id}-{uuid.uuid4().hex}",
        )
    except ProviderUnavailable as error:
        log.warning("confirming order %s failed: %s", order.number, error)
        await store.update(
            order.id,
            {"payment.status": "processing", "payment.attempt_started_at": now},
            {"$set": {"payment.status": "requires_payment", "payment.attempt_started_at": None}},
        )
        raise PaymentUnavailable(
            "The payment provider cannot be reached; nothing was charged. Try again shortly."
        ) from None
    if intent.succeeded:
        # `claimed` is the order as this request just changed it: no need to read it again
        # (every move below is conditional on the status it was read with).
        paid = await record_success(order_id=order.id, intent=intent, actor=actor, read=claimed)
        if paid.status == "cancelled":
            raise Conflict(
                "The order was cancelled while the payment went through; it is being refunded.",
                code=ErrorCode.INVALID_TRANSITION,
            )
        return paid
    reason = intent.failure_reason or intent.status
    await record_failure(order_id=order.id, reason=reason)
    raise PaymentDeclined(
        f"The payment was declined ({reason}). Try another payment method.",
        decline_code=reason,
        order_id=str(order.id),
    )


async def record_failure(
    *, order_id: PydanticObjectId, reason: str, unless_in_flight: bool = False
) -> Order | None:
    """The provider declined: the order keeps waiting for payment, saying why.

    `unless_in_flight`: leave an order alone while a confirmation of ours is in flight (a
    webhook about an earlier attempt must not clear the claim of the current one; the
    confirmation records its own outcome)."""
    condition: dict[str, Any] = {"status": "pending_payment"}
    if unless_in_flight:
        condition["$or"] = [
            {"payment.status": {"$ne": "processing"}},
            {"payment.attempt_started_at": {"$lt": utcnow() - ATTEMPT_LEASE}},
        ]
    return await store.update(
        order_id,
        condition,
        {
            "$set": {
                "payment.status": "declined",
                "payment.failure_reason": reason[:200],
                "payment.attempt_started_at": None,
            }
        },
    )


async def record_success(
    *, order_id: PydanticObjectId, intent: Intent, actor: str, read: Order | None = None
) -> Order:
    """The provider took the money: move the order to `paid`, exactly once whoever tells us
    (pay, webhook, reconciliation). A payment that does not match the order (less or more than
    its total, another currency) is flagged for an admin, not accepted: an overpayment is as
    much a sign of an intent changed elsewhere as an underpayment, and is owed back. One that
    arrives after the order was cancelled is refunded.

    `read`: the order as the caller last read it, to spare a read (a stale one costs
    nothing: every change below is conditional, and a move that meets another status reads
    the order again)."""
    order = read if read is not None else await store.reload(order_id)
    if intent.amount_received != order.total or intent.currency.lower() != order.currency:
        log.error(
            "order %s: provider reports %s %s for a total of %s %s; flagged for review",
            order.number,
            intent.amount_received,
            intent.currency,
            order.total,
            order.currency,
        )
        flagged = await store.update(
            order_id,
            {"status": "pending_payment"},
            {
                "$set": {
                    "payment.status": "amount_mismatch",
                    "payment.amount_received": intent.amount_received,
                    "payment.failure_reason": (
                        f"provider reported {intent.amount_received} {intent.currency}"
                    ),
                }
            },
        )
        return flagged or await _refund_mismatch_after_cancel(order_id, intent=intent)
    for _ in range(3):
        if order.status != "pending_payment":
            break

        async def work(session: Session, current: Order = order) -> Order | None:
            return await lifecycle.move(
                current,
                "paid",
                actor=actor,
                also_set={
                    "payment.status": "succeeded",
                    "payment.failure_reason": None,
                    "payment.attempt_started_at": None,
                },
                session=session,
            )

        moved = await db.run_in_transaction(work)
        if moved is not None:
            log.info("order %s paid (%s)", moved.number, actor)
            return moved
        order = await store.reload(order_id)
    # Already refunded, being refunded, or owed (`refund_failed`: the job asks again).
    settled = ("refund_pending", "refunded", "refund_failed")
    if order.status == "cancelled" and order.payment.status not in settled:
        log.warning("order %s was paid after it was cancelled: refunding", order.number)
        try:
            await refund(
                order=order,
                amount=order.refundable,
                reason="paid after cancellation",
                actor="system",
                allow_cancelled=True,
            )
        except RefundRefused:
            pass  # recorded: the order owes the money (`refund_failed`) and it is asked again
        order = await store.reload(order_id)
    return order


async def _refund_mismatch_after_cancel(order_id: PydanticObjectId, *, intent: Intent) -> Order:
    """A mismatched payment reported once the order was cancelled unpaid (it went through
    as the order was cancelled): give back what it took, as for any payment after
    cancellation. What was taken and its refund are booked in one update, once however
    often it is reported; a refusal leaves it owed (`refund_failed`) and asked again."""
    received = intent.amount_received
    booked = Refund(amount=received, reason="paid after cancellation", actor="system")
    condition, update = reserve_refund(booked, total=received)
    update["$set"]["payment.amount_received"] = received
    reserved = None
    if received > 0:
        reserved = await store.update(
            order_id,
            # Cancelled before it took anything: no refund was ever booked on it.
            {"status": "cancelled", "payment.refunds_version": 0, **condition},
            update,
        )
    if reserved is None:
        return await store.reload(order_id)
    log.warning("order %s was paid %s after it was cancelled: refunding", reserved.number, received)
    try:
        return await drive_refund(order_id=order_id, refund_id=booked.id)
    except RefundRefused:
        return await store.reload(order_id)  # owed (`refund_failed`): the job asks again
