"""Refunds of an order, through the gateway.

A refund is reserved on the order first (`amount_refunded` never exceeds the total, even
under concurrent refunds), then asked of the provider with an idempotency key made from the
refund's id, so asking again after a time-out can never refund twice. What the provider says
later (a `charge.refunded` webhook, a refund made in its dashboard) is applied by
`apply_provider_refunds`; refunds left pending are asked again by the background job.

A cancelled order must give back every cent it took. When the provider refuses that refund
the money stays owed, in the open: `payment.status` `refund_failed`, the refund `failed` with
the provider's reason. The job asks again (`retry_owed_refunds`) with a new refund each time
(a new idempotency key: the provider replays a refused key's first answer), backing off
until REFUND_RETRY_MAX_ATTEMPTS; an admin can refund it at any time. Each attempt is
reserved like any refund, so the owed money is never given back twice.

A refund can also fail after it succeeded (Stripe reports a `refund.failed` days later when
the card cannot take it back). That reopens the debt: the refund is marked `failed` with the
provider's reason, its amount leaves `amount_refunded` (once: the refunds' read-modify-write
is guarded), the active admins are emailed in the same transaction, and an order that was to
give everything back (cancelled, refunded) owes it: `refund_failed`, asked again as above.
A partial refund of an order that stands (paid, shipped...) is an admin's call: its payment
says what was really given back (`partially_refunded`, or `succeeded`), the admin is told.

What a cancel gives back is what was taken (`taken`): the total, or what the provider
reported when it did not match (`amount_mismatch`: `payment.amount_received`).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from beanie import PydanticObjectId
from quart import current_app

from app.core import db
from app.core.clock import as_utc, utcnow
from app.errors import Conflict, ErrorCode, Invalid
from app.inventory import service as inventory
from app.orders import state
from app.orders.models import Order, Refund
from app.orders.notifications import refund_failed_alert
from app.orders.store import reload
from app.orders.store import update as _update
from app.payments.gateway import ProviderUnavailable, RefundResult, gateway

log = logging.getLogger("app.orders.refunds")

REFUNDABLE = ("paid", "processing", "shipped", "delivered")
# Orders that give back every cent they took: what is not given back is owed.
GIVE_ALL_BACK = ("cancelled", "refunded")


class RefundRefused(Conflict):
    """The provider refused the refund: nothing was given back."""

    code = ErrorCode.REFUND_FAILED


def taken(order: Order) -> int:
    """What the provider took for the order: its total, or what it reported when that did
    not match (`amount_mismatch`)."""
    received = order.payment.amount_received
    return order.total if received is None else received


def amount_owed(order: Order) -> int:
    """What a cancelled (or refunded) order took and has not given back (nor asked back:
    pending refunds are booked in `amount_refunded`). Such an order has refunds only when it
    took money: cancelling it books one, and so does a payment arriving after cancellation."""
    if order.status not in GIVE_ALL_BACK or not order.payment.refunds:
        return 0
    return max(taken(order) - order.payment.amount_refunded, 0)


def next_refund_retry(order: Order):
    """When the job may ask again for what `order` owes: the last refusal plus the backoff,
    doubled for each refusal; None once the provider has refused REFUND_RETRY_MAX_ATTEMPTS."""
    settings = current_app.config["SETTINGS"]
    refused = [r for r in order.payment.refunds if r.status == "failed"]
    if not refused or len(refused) >= settings.REFUND_RETRY_MAX_ATTEMPTS:
        return None
    last = max(as_utc(r.failed_at or r.created_at) for r in refused)
    return last + timedelta(seconds=settings.REFUND_RETRY_BACKOFF_SECONDS * 2 ** (len(refused) - 1))


def reserve_refund(refund: Refund, *, total: int) -> tuple[dict, dict]:
    """The condition and update that book `refund` on an order without going over `total`
    (what it took: `taken`)."""
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
    statuses = (*REFUNDABLE, order.status) if cancelled_paid or refunded_owing else REFUNDABLE
    if order.status not in statuses or order.payment.intent_id is None:
        raise Conflict(
            f"An order that is {order.status} has no payment to refund.",
            code=ErrorCode.NOT_REFUNDABLE,
        )
    left = taken(order) - order.payment.amount_refunded
    amount = left if amount is None else amount
    if amount <= 0 or amount > left:
        raise Invalid(
            f"At most {left} can be refunded on this order.",
            code=ErrorCode.REFUND_EXCEEDS_PAYMENT,
            errors=[{"loc": ["amount"], "msg": f"must be between 1 and {left}"}],
        )
    booked = Refund(amount=amount, reason=reason, actor=actor)
    condition, update = reserve_refund(booked, total=taken(order))
    update["$set"]["payment.refund_retry_at"] = None  # this is the attempt now
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
    if booked.provider_refund_id is not None:
        # The provider took it but had not finished (slow refund methods): asking again with
        # the same key would replay its first answer, so read how its refunds stand now.
        try:
            listed = await gateway().list_refunds(intent_id=order.payment.intent_id)
        except ProviderUnavailable as error:
            log.warning("refund %s of order %s: %s", refund_id, order.number, error)
            return order
        return await apply_provider_refunds(order_id=order_id, refunds=listed)
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
        reason = (result.failure_reason or "refused")[:200]
        log.error(
            "refund %s of order %s refused by the provider: %s", refund_id, order.number, reason
        )

        async def fail(session) -> Order | None:
            failed = await _change_pending_refund(
                order_id,
                refund_id,
                {"status": "failed", "failure_reason": reason, "failed_at": utcnow()},
                inc={"payment.amount_refunded": -booked.amount},
                session=session,
            )
            # Its payment's status in the same transaction: a cancelled order that owes the
            # money says `refund_failed` (and when it is asked again) as soon as it does.
            return await _settle(failed, session=session) if failed is not None else None

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
        return accepted or await reload(order_id)
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
    full = refunded >= taken(order)
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
    owed = amount_owed(order)
    status: Any = (
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
    return await _update(
        order.id,
        {},
        {"$set": {"payment.status": status, "payment.refund_retry_at": retry_at}},
        session=session,
    )


async def apply_provider_refunds(
    *, order_id: PydanticObjectId, refunds: list[RefundResult], actor: str = "provider"
) -> Order:
    """Bring the order's refunds in line with the provider's list of them (a `charge.refunded`
    or `refund.failed` webhook, a refund made in the provider's dashboard, the job).

    Each refund of the provider's is matched to one of ours by its provider id, then (while
    ours is pending) by its reference (`refund-<our refund id>`, the key we asked with): for
    a pending one, `succeeded` completes it, `failed` (or cancelled) fails it and gives its
    amount back, `pending` leaves it be; one that succeeded and is now `failed` failed later:
    its amount is taken back out of `amount_refunded` and the active admins are emailed,
    in the same transaction (see the module's docstring). A succeeded one we never asked for
    is recorded as made by the provider. Refunding everything makes the order `refunded` (and
    restocks it when nothing shipped); less keeps its status, with `payment.status` saying
    what was given back (`refund_failed` when a cancelled or refunded order owes some).
    Applying the same list twice, or concurrently, changes nothing twice.
    """
    for _ in range(5):

        async def work(session) -> tuple[Order, bool] | None:
            order = await reload(order_id, session=session)
            changes = _match_provider_refunds(order, refunds, actor=actor)
            if changes is None:
                return order, True
            updated, released, made_elsewhere, failed_later = changes
            # The provider's word is the truth: recorded even past what we thought was left.
            changed = await _update(
                order_id,
                {"payment.refunds_version": order.payment.refunds_version},
                {
                    "$set": {"payment.refunds": [refund.model_dump() for refund in updated]},
                    "$inc": {
                        "payment.refunds_version": 1,
                        "payment.amount_refunded": sum(r.amount for r in made_elsewhere) - released,
                    },
                },
                session=session,
            )
            if changed is None:
                return None  # changed meanwhile: read it again
            for refund in failed_later:
                log.error(
                    "order %s: refund %s (%s) failed after it succeeded: %s",
                    changed.number,
                    refund.id,
                    refund.amount,
                    refund.failure_reason,
                )
                await refund_failed_alert(changed, refund, session=session)
            settled = await _settle(changed, actor=actor, session=session)
            return (settled, True) if settled is not None else (changed, False)

        outcome = await db.run_in_transaction(work)
        if outcome is None:
            continue
        order, settled = outcome
        # Its status changed as it was settled (no transactions): settle it as it is now.
        return order if settled else await _settle_latest(order_id, actor=actor)
    raise Conflict("The order's refunds changed concurrently; try again.", code=ErrorCode.CONFLICT)


def _match_provider_refunds(
    order: Order, results: list[RefundResult], *, actor: str
) -> tuple[list[Refund], int, list[Refund], list[Refund]] | None:
    """The order's refunds after the provider's list, the amount given back to the order
    (failed refunds), the refunds made elsewhere, and those that failed after they succeeded;
    None when the list changes nothing."""
    open_ = [r for r in order.payment.refunds if r.status in ("pending", "succeeded")]
    by_provider_id = {r.provider_refund_id: r for r in open_ if r.provider_refund_id}
    by_reference = {f"refund-{r.id}": r for r in open_ if r.status == "pending"}
    known = {r.provider_refund_id for r in order.payment.refunds if r.provider_refund_id}
    completing: dict[Any, str] = {}
    failing: dict[Any, str] = {}
    made_elsewhere: list[Refund] = []
    for result in results:
        mine = by_provider_id.get(result.id) or by_reference.get(result.reference or "")
        if mine is not None:
            if mine.id in completing or mine.id in failing:
                continue
            if result.status == "failed":
                failing[mine.id] = (result.failure_reason or "failed")[:200]
            elif result.status == "succeeded" and mine.status == "pending":
                completing[mine.id] = result.id
            continue  # still pending at the provider, or succeeded as we know
        if result.status != "succeeded" or result.id in known:
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
    if not completing and not failing and not made_elsewhere:
        return None
    updated = [refund.model_copy() for refund in order.payment.refunds]
    released = 0
    failed_later: list[Refund] = []
    for refund in updated:
        if refund.id in completing:
            refund.status = "succeeded"
            refund.provider_refund_id = completing[refund.id]
        elif refund.id in failing:
            if refund.status == "succeeded":
                failed_later.append(refund)
            refund.status = "failed"  # the reservation is given back: it can be retried
            refund.failure_reason, refund.failed_at = failing[refund.id], utcnow()
            released += refund.amount
    updated.extend(made_elsewhere)
    log.info(
        "order %s: provider refunds applied (%d completed, %d failed, %d failed after they "
        "succeeded, %d made elsewhere)",
        order.number,
        len(completing),
        len(failing) - len(failed_later),
        len(failed_later),
        len(made_elsewhere),
    )
    return updated, released, made_elsewhere, failed_later


async def _settle_latest(order_id: PydanticObjectId, *, actor: str) -> Order:
    for _ in range(3):

        async def work(session) -> Order | None:
            current = await reload(order_id, session=session)
            return await _settle(current, actor=actor, session=session)

        settled = await db.run_in_transaction(work)
        if settled is not None:
            return settled
    return await reload(order_id)


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


async def owed_refunds(*, limit: int = 100) -> list[PydanticObjectId]:
    """Cancelled (or refunded) orders whose money is owed and due to be asked for again,
    longest waiting first (index `refund_retry`)."""
    rows = (
        await Order.get_pymongo_collection()
        .find(
            {"payment.status": "refund_failed", "payment.refund_retry_at": {"$lte": utcnow()}},
            {"_id": 1},
            sort=[("payment.refund_retry_at", 1)],
            limit=limit,
        )
        .to_list()
    )
    return [row["_id"] for row in rows]


async def retry_owed_refund(order_id: PydanticObjectId) -> Order | None:
    """Ask the provider again for what a cancelled (or refunded) order owes, once it is due;
    the order after, or None when there was nothing to do (not due, not owed, or taken by
    someone else: an admin's refund, another worker).

    The provider's refunds are read first: money given back elsewhere meanwhile (a refund in
    its dashboard whose webhook has not come) is recorded, not asked for a second time. The
    attempt is reserved like any refund, conditional on the order still owing exactly what
    was read and being due, so of an admin and two workers at most one asks.

    Raises ProviderUnavailable (try again next round).
    """
    order = await reload(order_id)
    if order.payment.status != "refund_failed" or order.payment.intent_id is None:
        return None
    listed = await gateway().list_refunds(intent_id=order.payment.intent_id)
    order = await apply_provider_refunds(order_id=order_id, refunds=listed)
    owed = amount_owed(order)
    now = utcnow()
    due = order.payment.refund_retry_at is not None and as_utc(order.payment.refund_retry_at) <= now
    if order.payment.status != "refund_failed" or not owed or not due:
        return None
    refused = [r for r in order.payment.refunds if r.status == "failed"]
    booked = Refund(
        amount=owed, reason=refused[-1].reason if refused else "order cancelled", actor="system"
    )
    condition, update = reserve_refund(booked, total=taken(order))
    update["$set"]["payment.refund_retry_at"] = None
    reserved = await _update(
        order_id,
        {
            "status": {"$in": list(GIVE_ALL_BACK)},
            "payment.status": "refund_failed",
            "payment.refund_retry_at": {"$lte": now},
            **condition,
        },
        update,
    )
    if reserved is None:
        return None  # refunded, or being refunded, by someone else meanwhile
    log.info("order %s: asking again for the %s it owes", order.number, owed)
    try:
        return await drive_refund(order_id=order_id, refund_id=booked.id)
    except RefundRefused:
        return await reload(order_id)  # refused again: it says when it is asked next
