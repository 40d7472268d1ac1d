"""The order side of payments: intents, confirmation, refunds, through the gateway.

The gateway (`app.payments.gateway`) is never called inside a transaction. What it answers
is applied with conditional updates, so `/pay`, a webhook and the reconciliation job can race
on one intent and still converge on one `pending_payment → paid` (one history entry, one
email). Refunds are reserved on the order first (`amount_refunded` never exceeds the total,
even under concurrent refunds), then asked of the provider with an idempotency key made from
the refund's id, so asking again after a time-out can never refund twice.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument

from app.core import db
from app.core.clock import utcnow
from app.errors import AppError, Conflict, ErrorCode, Invalid, NotFound
from app.inventory import service as inventory
from app.orders import state
from app.orders.models import Order, Refund
from app.payments.gateway import Intent, ProviderUnavailable, RefundResult, gateway

log = logging.getLogger("app.orders.payments")

# A confirmation in flight this long is presumed lost (the process died): a new one may start.
ATTEMPT_LEASE = timedelta(minutes=2)
REFUNDABLE = ("paid", "processing", "shipped", "delivered")


class PaymentDeclined(AppError):
    status, code = 402, ErrorCode.PAYMENT_DECLINED


class PaymentUnavailable(AppError):
    """The provider could not be reached: nothing was charged, try again."""

    status, code = 402, ErrorCode.PAYMENT_UNAVAILABLE


def provider_name() -> str:
    return gateway().name


async def reload(order_id: PydanticObjectId, *, session=None) -> Order:
    order = await Order.get(order_id, session=session)
    if order is None:
        raise NotFound("No such order.")
    return order


async def _update(order_id, condition: dict, update: dict, *, session=None) -> Order | None:
    update.setdefault("$set", {})["updated_at"] = utcnow()
    row = await Order.get_pymongo_collection().find_one_and_update(
        {"_id": order_id, **condition},
        update,
        return_document=ReturnDocument.AFTER,
        session=session,
    )
    return Order.model_validate(row) if row else None


# -- intents and confirmation -----------------------------------------------------------------


async def ensure_intent(order: Order) -> Order:
    """Give an unpaid order its payment intent (once). When the provider cannot be reached
    the order keeps its stock reservation with `payment.status` `intent_failed`; `/pay`
    tries again."""
    if order.payment.intent_id or order.status != "pending_payment":
        return order
    try:
        intent = await gateway().create_intent(
            amount=order.total,
            currency=order.currency,
            order_id=str(order.id),
            order_number=order.number,
            idempotency_key=f"order-{order.id}",
        )
    except ProviderUnavailable as error:
        log.warning("payment intent for order %s not created: %s", order.number, error)
        changed = await _update(
            order.id,
            {"payment.intent_id": None},
            {"$set": {"payment.status": "intent_failed"}},
        )
        return changed or await reload(order.id)
    changed = await _update(
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
    return changed or await reload(order.id)


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
    claimed = await _update(
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
        current = await reload(order.id)
        if current.status == "pending_payment":
            raise Conflict(
                "A payment for this order is already in progress.",
                code=ErrorCode.CONFLICT,
                headers={"Retry-After": "2"},
            )
        if current.status in REFUNDABLE:
            return current  # paid meanwhile (a webhook, another tab): nothing to do twice
        raise state.invalid_transition(current.status, "paid")
    try:
        intent = await gateway().confirm(
            intent_id=claimed.payment.intent_id,
            payment_method=payment_method,
            idempotency_key=f"confirm-{order.id}-{uuid.uuid4().hex}",
        )
    except ProviderUnavailable as error:
        log.warning("confirming order %s failed: %s", order.number, error)
        await _update(
            order.id,
            {"payment.status": "processing", "payment.attempt_started_at": now},
            {"$set": {"payment.status": "requires_payment", "payment.attempt_started_at": None}},
        )
        raise PaymentUnavailable(
            "The payment provider cannot be reached; nothing was charged. Try again shortly."
        ) from None
    if intent.succeeded:
        paid = await record_success(order_id=order.id, intent=intent, actor=actor)
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
    return await _update(
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


async def record_success(*, order_id: PydanticObjectId, intent: Intent, actor: str) -> Order:
    """The provider took the money: move the order to `paid`, exactly once whoever tells us
    (pay, webhook, reconciliation). A payment that does not match the order is flagged for an
    admin, not accepted; one that arrives after the order was cancelled is refunded."""
    order = await reload(order_id)
    if intent.amount_received < order.total or intent.currency.lower() != order.currency:
        log.error(
            "order %s: provider reports %s %s for a total of %s %s; flagged for review",
            order.number,
            intent.amount_received,
            intent.currency,
            order.total,
            order.currency,
        )
        flagged = await _update(
            order_id,
            {"status": "pending_payment"},
            {
                "$set": {
                    "payment.status": "amount_mismatch",
                    "payment.failure_reason": (
                        f"provider reported {intent.amount_received} {intent.currency}"
                    ),
                }
            },
        )
        return flagged or await reload(order_id)
    for _ in range(3):
        if order.status != "pending_payment":
            break

        async def work(session, current=order):
            return await state.move(
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
        order = await reload(order_id)
    if order.status == "cancelled" and order.payment.status not in ("refund_pending", "refunded"):
        log.warning("order %s was paid after it was cancelled: refunding", order.number)
        await refund(
            order=order,
            amount=order.total - order.payment.amount_refunded,
            reason="paid after cancellation",
            actor="system",
            allow_cancelled=True,
        )
        order = await reload(order_id)
    return order


# -- refunds --------------------------------------------------------------------------------


def reserve_refund(refund: Refund, *, total: int) -> tuple[dict, dict]:
    """The condition and update that book `refund` on an order without going over `total`."""
    condition = {"payment.amount_refunded": {"$lte": total - refund.amount}}
    update = {
        "$push": {"payment.refunds": refund.model_dump()},
        "$inc": {"payment.amount_refunded": refund.amount, "payment.refunds_version": 1},
        "$set": {"payment.status": "refund_pending"},
    }
    return condition, update


async def refund(
    *,
    order: Order,
    amount: int | None,
    reason: str | None,
    actor: str,
    allow_cancelled: bool = False,
) -> Order:
    """Refund `amount` (default: all that is left) of a paid order through the provider.

    A full refund moves the order to `refunded` (and restocks it when nothing was shipped).
    Raises Conflict `not_refundable`, Invalid `refund_exceeds_payment`.
    """
    statuses = (*REFUNDABLE, "cancelled") if allow_cancelled else REFUNDABLE
    if order.status not in statuses or order.payment.intent_id is None:
        raise Conflict(
            f"An order that is {order.status} has no payment to refund.",
            code=ErrorCode.NOT_REFUNDABLE,
        )
    left = order.total - order.payment.amount_refunded
    amount = left if amount is None else amount
    if amount <= 0 or amount > left:
        raise Invalid(
            f"At most {left} can be refunded on this order.",
            code=ErrorCode.REFUND_EXCEEDS_PAYMENT,
            errors=[{"loc": ["amount"], "msg": f"must be between 1 and {left}"}],
        )
    booked = Refund(amount=amount, reason=reason, actor=actor)
    condition, update = reserve_refund(booked, total=order.total)
    reserved = await _update(order.id, {"status": {"$in": list(statuses)}, **condition}, update)
    if reserved is None:
        raise Conflict(
            "The order changed while refunding; look at it again.", code=ErrorCode.CONFLICT
        )
    return await drive_refund(order_id=order.id, refund_id=booked.id)


async def drive_refund(*, order_id: PydanticObjectId, refund_id: PydanticObjectId) -> Order:
    """Ask the provider for a booked refund and apply the answer. Safe to repeat: the
    provider's idempotency key is the refund's id. An unreachable provider leaves the refund
    `pending` for the background job to ask again."""
    order = await reload(order_id)
    booked = next((r for r in order.payment.refunds if r.id == refund_id), None)
    if booked is None or booked.status != "pending":
        return order
    try:
        result = await gateway().refund(
            intent_id=order.payment.intent_id,
            amount=booked.amount,
            idempotency_key=f"refund-{refund_id}",
            reason=booked.reason,
        )
    except ProviderUnavailable as error:
        log.warning("refund %s of order %s pending: %s", refund_id, order.number, error)
        return order
    if result.status == "failed":
        log.error("refund %s of order %s failed at the provider", refund_id, order.number)
        failed = await _change_pending_refund(
            order_id,
            refund_id,
            {"status": "failed"},
            inc={"payment.amount_refunded": -booked.amount},
        )
        await _settle_payment_status(failed or await reload(order_id))
        raise Conflict("The payment provider refused the refund.", code=ErrorCode.REFUND_FAILED)
    return await _complete_refund(order_id=order_id, refund_id=refund_id, provider_id=result.id)


async def _change_pending_refund(
    order_id, refund_id, fields: dict[str, Any], *, inc: dict | None = None, session=None
) -> Order | None:
    """Change one pending refund: the order after, or None when it is not pending any more.
    A read-modify-write of the list guarded by `refunds_version` (positional updates of
    array elements are not reliable on every engine we run on)."""
    for _ in range(5):
        order = await reload(order_id, session=session)
        refunds = [refund.model_copy(update=None) for refund in order.payment.refunds]
        target = next((r for r in refunds if r.id == refund_id), None)
        if target is None or target.status != "pending":
            return None
        for name, value in fields.items():
            setattr(target, name, value)
        changed = await _update(
            order_id,
            {"payment.refunds_version": order.payment.refunds_version},
            {
                "$set": {"payment.refunds": [refund.model_dump() for refund in refunds]},
                "$inc": {"payment.refunds_version": 1, **(inc or {})},
            },
            session=session,
        )
        if changed is not None:
            return changed
    raise Conflict("The order's refunds changed concurrently; try again.", code=ErrorCode.CONFLICT)


async def _complete_refund(
    *, order_id: PydanticObjectId, refund_id: PydanticObjectId, provider_id: str
) -> Order:
    for _ in range(3):
        order = await reload(order_id)

        async def work(session, order=order) -> Order | None:
            done = await _change_pending_refund(
                order_id,
                refund_id,
                {"status": "succeeded", "provider_refund_id": provider_id},
                session=session,
            )
            if done is None:
                return await reload(order_id, session=session)  # someone else completed it
            booked = next(r for r in done.payment.refunds if r.id == refund_id)
            return await _settle(done, actor=booked.actor or "system", session=session)

        settled = await db.run_in_transaction(work)
        if settled is not None:
            return settled
    return await reload(order_id)


async def _settle(order: Order, *, actor: str = "system", session) -> Order | None:
    """After a refund: the payment's status, and `refunded` once everything is given back."""
    refunded = sum(r.amount for r in order.payment.refunds if r.status == "succeeded")
    pending = any(r.status == "pending" for r in order.payment.refunds)
    full = refunded >= order.total
    if full and order.status in REFUNDABLE:
        moved = await state.move(
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
    status: Any = (
        "refund_pending"
        if pending
        else "refunded"
        if full
        else "partially_refunded"
        if refunded
        else "succeeded"
    )
    return await _update(order.id, {}, {"$set": {"payment.status": status}}, session=session)


async def apply_provider_refunds(
    *, order_id: PydanticObjectId, refunds: list[RefundResult], actor: str = "provider"
) -> Order:
    """Bring the order's refunds in line with the provider's list of them (a `charge.refunded`
    webhook, a refund made in the provider's dashboard).

    Each succeeded refund of the provider's is counted once, matched first by its provider
    id, then by its reference (`refund-<our refund id>`, the key we asked with): one of ours
    left pending is completed; one we never asked for is recorded as made by the provider.
    Refunding everything makes the order `refunded` (and restocks it when nothing shipped);
    less keeps its status, with `payment.status` `partially_refunded`.
    """
    succeeded = [r for r in refunds if r.status == "succeeded"]
    for _ in range(5):
        order = await reload(order_id)
        known = {r.provider_refund_id for r in order.payment.refunds if r.provider_refund_id}
        ours = {f"refund-{r.id}": r for r in order.payment.refunds if r.status == "pending"}
        completing: dict[Any, str] = {}
        made_elsewhere: list[Refund] = []
        for result in succeeded:
            if result.id in known:
                continue
            mine = ours.get(result.reference or "")
            if mine is not None and mine.id not in completing:
                completing[mine.id] = result.id
                continue
            made_elsewhere.append(
                Refund(
                    amount=result.amount,
                    reason="refunded at the payment provider",
                    status="succeeded",
                    provider_refund_id=result.id,
                    actor=actor,
                )
            )
        if not completing and not made_elsewhere:
            return order
        updated = [refund.model_copy() for refund in order.payment.refunds]
        for refund in updated:
            if refund.id in completing:
                refund.status = "succeeded"
                refund.provider_refund_id = completing[refund.id]
        updated.extend(made_elsewhere)
        # The provider's word is the truth: recorded even past what we thought was left.
        changed = await _update(
            order_id,
            {"payment.refunds_version": order.payment.refunds_version},
            {
                "$set": {"payment.refunds": [refund.model_dump() for refund in updated]},
                "$inc": {
                    "payment.refunds_version": 1,
                    "payment.amount_refunded": sum(r.amount for r in made_elsewhere),
                },
            },
        )
        if changed is not None:
            log.info(
                "order %s: provider refunds applied (%d completed, %d made elsewhere)",
                changed.number,
                len(completing),
                len(made_elsewhere),
            )
            return await _settle_latest(order_id, actor=actor)
    raise Conflict("The order's refunds changed concurrently; try again.", code=ErrorCode.CONFLICT)


async def _settle_latest(order_id: PydanticObjectId, *, actor: str) -> Order:
    for _ in range(3):

        async def work(session) -> Order | None:
            current = await reload(order_id, session=session)
            return await _settle(current, actor=actor, session=session)

        settled = await db.run_in_transaction(work)
        if settled is not None:
            return settled
    return await reload(order_id)


async def _settle_payment_status(order: Order) -> None:
    await db.run_in_transaction(lambda session: _settle(order, session=session))


async def restock(order: Order, *, reason: str, actor: str, session=None) -> None:
    for item in order.items:
        await inventory.return_stock(
            product_id=item.product_id,
            quantity=item.quantity,
            reason=reason,
            order_id=order.id,
            actor=actor,
            session=session,
        )


async def pending_refunds(*, older_than: timedelta, limit: int = 100) -> list[tuple[Any, Any]]:
    """(order id, refund id) of refunds still waiting for the provider."""
    cutoff = utcnow() - older_than
    rows = (
        await Order.get_pymongo_collection()
        .find(
            {
                "payment.refunds": {
                    "$elemMatch": {"status": "pending", "created_at": {"$lt": cutoff}}
                }
            },
            {"payment.refunds": 1},
            limit=limit,
        )
        .to_list()
    )
    return [
        (row["_id"], refund["id"])
        for row in rows
        for refund in row["payment"]["refunds"]
        if refund["status"] == "pending"
    ]
