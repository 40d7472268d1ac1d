"""Refunds of an order, through the provider.

A refund is reserved on the order first (`amount_refunded` never exceeds what was taken, even
under concurrent refunds), then asked of the provider with an idempotency key made from the
refund's id, so asking again after a time-out can never refund twice. An unreachable provider
leaves it pending for the job (jobs.py) to ask again; a refusal marks it `failed` with the
provider's reason and gives its amount back to the order, and a cancelled order then owes the
money in the open (settlement.py, owed_refunds.py). What the provider says later is applied by
provider_refunds.py.
"""

from __future__ import annotations

import logging
from typing import Any

from beanie import PydanticObjectId

from app.core import db
from app.core.clock import utcnow
from app.errors import Conflict, ErrorCode, Invalid
from app.orders import provider, state, store
from app.orders.models import Order, Refund
from app.orders.provider_refunds import apply_provider_refunds
from app.orders.settlement import amount_owed, reserve_refund, settle
from app.orders.store import Session
from app.payments.types import ProviderUnavailable

log = logging.getLogger("app.orders.refunds")


class RefundRefused(Conflict):
    """The provider refused the refund: nothing was given back."""

    code = ErrorCode.REFUND_FAILED


async def refund(
    *,
    order: Order,
    amount: int | None,
    reason: str | None,
    actor: str,
    allow_cancelled: bool = False,
) -> Order:
    """Refund `amount` (default: all that is left) of a paid order through the provider.

    A full refund moves the order to `refunded` (and restocks it when nothing was shipped);
    on a cancelled (or refunded) order that still owes money (`refund_failed`) it gives that
    back. Never more than the provider took (`taken`: a mismatched payment's amount).
    Raises Conflict `not_refundable`, RefundRefused (409 `refund_failed`), Invalid
    `refund_exceeds_payment`.
    """
    # A cancelled order is refundable when it took money (it has refunds: see amount_owed),
    # or when the caller knows it did (a payment that arrived after the cancellation); a
    # refunded one when a refund failed after it succeeded (it owes that again).
    cancelled_paid = order.status == "cancelled" and (allow_cancelled or order.payment.refunds)
    refunded_owing = order.status == "refunded" and amount_owed(order) > 0
    statuses = (
        (*state.REFUNDABLE, order.status) if cancelled_paid or refunded_owing else state.REFUNDABLE
    )
    if order.status not in statuses or order.payment.intent_id is None:
        raise Conflict(
            f"An order that is {order.status} has no payment to refund.",
            code=ErrorCode.NOT_REFUNDABLE,
        )
    left = order.refundable
    amount = left if amount is None else amount
    if amount <= 0 or amount > left:
        raise Invalid(
            f"At most {left} can be refunded on this order.",
            code=ErrorCode.REFUND_EXCEEDS_PAYMENT,
            errors=[{"loc": ["amount"], "msg": f"must be between 1 and {left}"}],
        )
    booked = Refund(amount=amount, reason=reason, actor=actor)
    condition, update = reserve_refund(booked, total=order.taken)
    update["$set"]["payment.refund_retry_at"] = None  # this is the attempt now
    reserved = await store.update(
        order.id, {"status": {"$in": list(statuses)}, **condition}, update
    )
    if reserved is None:
        raise Conflict(
            "The order changed while refunding; look at it again.", code=ErrorCode.CONFLICT
        )
    return await drive_refund(order_id=order.id, refund_id=booked.id)


async def drive_refund(*, order_id: PydanticObjectId, refund_id: PydanticObjectId) -> Order:
    """Ask the provider for a booked refund and apply the answer. Safe to repeat: the
    provider's idempotency key is the refund's id. An unreachable provider leaves the refund
    `pending` for the background job to ask again."""
    order = await store.reload(order_id)
    booked = next((r for r in order.payment.refunds if r.id == refund_id), None)
    if booked is None or booked.status != "pending":
        return order
    intent_id = order.payment.intent_id
    assert intent_id is not None  # refunds are booked on paid orders, which have their intent
    if booked.provider_refund_id is not None:
        # The provider took it but had not finished (slow refund methods): asking again with
        # the same key would replay its first answer, so read how its refunds stand now.
        try:
            listed = await provider.list_refunds(intent_id)
        except ProviderUnavailable as error:
            log.warning("refund %s of order %s: %s", refund_id, order.number, error)
            return order
        return await apply_provider_refunds(order_id=order_id, refunds=listed)
    try:
        result = await provider.refund(
            intent_id=intent_id,
            amount=booked.amount,
            key=f"refund-{refund_id}",
            reason=booked.reason,
        )
    except ProviderUnavailable as error:
        log.warning("refund %s of order %s pending: %s", refund_id, order.number, error)
        return order
    if result.status == "failed":
        reason = (result.failure_reason or "refused")[:200]
        log.error(
            "refund %s of order %s refused by the provider: %s", refund_id, order.number, reason
        )

        async def fail(session: Session) -> Order | None:
            failed = await _change_pending_refund(
                order_id,
                refund_id,
                {"status": "failed", "failure_reason": reason, "failed_at": utcnow()},
                inc={"payment.amount_refunded": -booked.amount},
                session=session,
            )
            # Its payment's status in the same transaction: a cancelled order that owes the
            # money says `refund_failed` (and when it is asked again) as soon as it does.
            return await settle(failed, session=session) if failed is not None else None

        await db.run_in_transaction(fail)
        raise RefundRefused(
            f"The payment provider refused the refund ({reason}).",
            refund_id=str(refund_id),
            failure_reason=reason,
        )
    if result.status == "pending":
        # Accepted, not finished: it stays pending (and reserved) until the provider says
        # `succeeded` (a webhook, or the job reading its refunds) or `failed` (released).
        log.info("refund %s of order %s accepted, pending at the provider", refund_id, order.number)
        accepted = await _change_pending_refund(
            order_id, refund_id, {"provider_refund_id": result.id}
        )
        return accepted or await store.reload(order_id)
    return await _complete_refund(order_id=order_id, refund_id=refund_id, provider_id=result.id)


async def _change_pending_refund(
    order_id: PydanticObjectId,
    refund_id: PydanticObjectId,
    fields: dict[str, Any],
    *,
    inc: dict[str, int] | None = None,
    session: Session = None,
) -> Order | None:
    """Change one pending refund: the order after, or None when it is not pending any more.
    A read-modify-write of the list guarded by `refunds_version` (positional updates of
    array elements are not reliable on every engine we run on)."""
    for _ in range(5):
        order = await store.reload(order_id, session=session)
        refunds = [refund.model_copy(update=None) for refund in order.payment.refunds]
        target = next((r for r in refunds if r.id == refund_id), None)
        if target is None or target.status != "pending":
            return None
        for name, value in fields.items():
            setattr(target, name, value)
        changed = await store.update(
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
        order = await store.reload(order_id)

        async def work(session: Session, order: Order = order) -> Order | None:
            done = await _change_pending_refund(
                order_id,
                refund_id,
                {"status": "succeeded", "provider_refund_id": provider_id},
                session=session,
            )
            if done is None:
                return await store.reload(order_id, session=session)  # someone else completed it
            booked = next(r for r in done.payment.refunds if r.id == refund_id)
            return await settle(done, actor=booked.actor or "system", session=session)

        settled = await db.run_in_transaction(work)
        if settled is not None:
            return settled
    return await store.reload(order_id)
