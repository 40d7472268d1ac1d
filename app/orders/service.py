"""Orders after checkout: the shopper's views and cancel, the admin's list, status changes,
refunds, and the expiry of unpaid orders. Checkout itself is `checkout.py`; money movements
through the provider are `payments.py` and `refunds.py`."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

from beanie import PydanticObjectId

from app.core import db
from app.core.clock import as_utc, utcnow
from app.core.pagination import Page, PageQuery
from app.errors import Invalid, NotFound
from app.orders import payments, provider_events, refunds, state
from app.orders.models import NEWEST_FIRST, Order, Refund
from app.payments.gateway import ProviderUnavailable, gateway

log = logging.getLogger("app.orders")
_MOVE_ATTEMPTS = 3


def _object_id(value: str) -> PydanticObjectId | None:
    return PydanticObjectId(value) if PydanticObjectId.is_valid(value) else None


async def get_order(*, order_id: str, user_id: PydanticObjectId | None = None) -> Order:
    """One order; with `user_id`, only if it is theirs (anyone else's is the same 404)."""
    oid = _object_id(order_id)
    query: dict[str, Any] = {"_id": oid}
    if user_id is not None:
        query["user_id"] = user_id
    order = await Order.find_one(query) if oid else None
    if order is None:
        raise NotFound("No such order.")
    return order


async def list_my_orders(*, user_id: PydanticObjectId, query: PageQuery) -> Page:
    """The user's orders, newest first (index `user_newest`)."""
    return await _newest_first({"user_id": user_id}, query=query)


async def list_orders(
    *,
    query: PageQuery,
    status: str | None = None,
    user_id: str | None = None,
    number: str | None = None,
    email: str | None = None,
    created_from=None,
    created_to=None,
) -> Page:
    """Every order, newest first, filtered. Served by `number` (prefix), `email_newest`,
    `user_newest`, `status_newest` or `newest`, each with the date range on `created_at`."""
    filters: dict[str, Any] = {}
    if status:
        filters["status"] = status
    if user_id:
        filters["user_id"] = PydanticObjectId(user_id)
    if email:
        filters["email"] = email  # normalised by the query's schema, as orders store it
    if number:
        filters["number"] = {"$regex": "^" + re.escape(number.strip().upper())}
    if created_from or created_to:
        filters["created_at"] = {
            **({"$gte": created_from} if created_from else {}),
            **({"$lte": created_to} if created_to else {}),
        }
    return await _newest_first(filters, query=query)


async def _newest_first(filters: dict[str, Any], *, query: PageQuery) -> Page:
    find = Order.find(filters)
    total = await find.count()
    items = await find.sort(NEWEST_FIRST).skip(query.skip).limit(query.per_page).to_list()
    return Page.build(items, query=query, total=total)


async def pay(*, user, order_id: str, payment_method: str) -> Order:
    """See `payments.pay`. Raises NotFound for another user's order."""
    order = await get_order(order_id=order_id, user_id=user.id)
    return await payments.pay(order=order, payment_method=payment_method, actor="customer")


# -- cancel -----------------------------------------------------------------------------------


async def cancel(*, order: Order, actor: str, note: str | None = None, reason: str = "cancel"):
    """Cancel an order: restock every line and, when it was paid, refund it in full.

    A refund the provider refuses leaves the order cancelled with the money owed
    (`payment.status` `refund_failed`): the background job asks again, an admin can refund it.

    Raises Conflict `invalid_transition` (shipped, delivered, already cancelled or refunded).
    """
    for _ in range(_MOVE_ATTEMPTS):
        if not state.can_move(order.status, "cancelled"):
            raise state.invalid_transition(order.status, "cancelled")
        moved, owed = await _cancel_once(order, actor=actor, note=note, reason=reason)
        if moved is not None:
            break
        order = await payments.reload(order.id)  # changed meanwhile: judge it afresh
    else:
        raise state.invalid_transition(order.status, "cancelled")
    return await _after_cancel(before=order, moved=moved, owed=owed, actor=actor)


async def _cancel_once(
    order: Order,
    *,
    actor: str,
    note: str | None,
    reason: str,
    also_match: dict[str, Any] | None = None,
) -> tuple[Order | None, Refund | None]:
    """One conditional move of `order` from the status it was read with to `cancelled`,
    restocking and booking its refund in the same transaction: (the order after, the refund
    booked), or (None, None) when the order changed since it was read (or `also_match` no
    longer holds)."""
    taken = refunds.taken(order)
    left = taken - order.payment.amount_refunded
    # A payment that did not match the order (`amount_mismatch`) was taken all the same:
    # cancelling gives back what was received, like any paid order's cancel.
    mismatched = order.status == "pending_payment" and order.payment.status == "amount_mismatch"
    owed = (
        Refund(amount=left, reason="order cancelled", actor=actor, restock=False)
        if (order.status in refunds.REFUNDABLE or mismatched) and left > 0
        else None
    )

    async def work(session) -> Order | None:
        also_set: dict[str, Any] = {}
        also_update: dict[str, Any] = {}
        condition: dict[str, Any] = dict(also_match or {})
        if owed is not None:
            reserve_condition, also_update = refunds.reserve_refund(owed, total=taken)
            condition.update(reserve_condition)
            also_set = also_update.pop("$set")
            if mismatched:  # still what was read: the refund is for that amount
                condition["payment.status"] = "amount_mismatch"
                condition["payment.amount_received"] = order.payment.amount_received
        elif order.status == "pending_payment":
            # Unpaid as read: a mismatched payment recorded meanwhile is refunded, not kept
            # (the move fails, the caller reads it again).
            condition["payment.status"] = {"$ne": "amount_mismatch"}
            if order.payment.intent_id:
                also_set["payment.status"] = "cancelled"
        elif order.payment.intent_id:
            also_set["payment.status"] = "cancelled"
        moved = await state.move(
            order,
            "cancelled",
            actor=actor,
            note=note,
            also_set=also_set,
            also_update=also_update,
            also_match=condition,
            session=session,
        )
        if moved is not None:
            await refunds.restock(order, reason=reason, actor=actor, session=session)
        return moved

    moved = await db.run_in_transaction(work)
    return (moved, owed) if moved is not None else (None, None)


async def _after_cancel(*, before: Order, moved: Order, owed: Refund | None, actor: str) -> Order:
    """What follows a cancel, with the provider (outside the transaction): refund what was
    paid, or cancel the intent of an unpaid order."""
    log.info("order %s cancelled by %s", moved.number, actor)
    if owed is not None:
        try:
            return await refunds.drive_refund(order_id=moved.id, refund_id=owed.id)
        except refunds.RefundRefused:
            # The cancel happened; the money is owed (`refund_failed`) and asked for again.
            return await payments.reload(moved.id)
    if moved.payment.intent_id and before.status == "pending_payment":
        try:
            intent = await gateway().cancel(intent_id=moved.payment.intent_id)
        except (ProviderUnavailable, LookupError) as error:
            # A payment that still goes through is refunded when it is reported.
            log.warning("could not cancel intent of order %s: %s", moved.number, error)
            return moved
        if intent.succeeded:
            # It was paid before we could cancel it: record that, which refunds it.
            log.warning("order %s was paid as it was cancelled: refunding", moved.number)
            return await payments.record_success(order_id=moved.id, intent=intent, actor=actor)
    return moved


async def cancel_mine(*, user, order_id: str) -> Order:
    order = await get_order(order_id=order_id, user_id=user.id)
    return await cancel(order=order, actor="customer")


# -- admin ------------------------------------------------------------------------------------


async def change_status(
    *,
    order_id: str,
    status: str,
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
    order = await get_order(order_id=order_id)
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

        async def work(session, order=order):
            return await state.move(
                order, status, actor=actor, note=note, also_set=also_set, session=session
            )

        moved = await db.run_in_transaction(work)
        if moved is not None:
            return moved
        order = await payments.reload(order.id)
    raise state.invalid_transition(order.status, status)


async def refund(
    *, order_id: str, admin_id: PydanticObjectId, amount: int | None, reason: str | None
) -> Order:
    order = await get_order(order_id=order_id)
    return await refunds.refund(
        order=order, amount=amount, reason=reason, actor=f"admin:{admin_id}"
    )


# -- background jobs --------------------------------------------------------------------------


async def expire_unpaid_orders(*, older_than_seconds: int, limit: int = 200) -> int:
    """Cancel and restock orders left unpaid for `older_than_seconds`. Each is cancelled
    once however many workers run this at the same time (the move is conditional); orders
    with a confirmation in flight are left for the next run."""
    now = utcnow()
    cutoff = now - timedelta(seconds=older_than_seconds)
    candidates = (
        await Order.find({"status": "pending_payment", "created_at": {"$lt": cutoff}})
        .sort([("created_at", 1)])
        .limit(limit)
        .to_list()
    )
    expired = 0
    for order in candidates:
        attempt = order.payment.attempt_started_at
        in_flight = attempt is not None and as_utc(attempt) > now - payments.ATTEMPT_LEASE
        if order.payment.status == "processing" and in_flight:
            continue
        if order.payment.status == "amount_mismatch":
            continue  # money was taken, not the right amount: for an admin, not the clock
        if order.payment.intent_id is not None:
            # Never cancel an order the customer paid whose webhook has not come (yet).
            try:
                outcome = await provider_events.reconcile_order(order)
            except ProviderUnavailable:
                continue  # cannot tell whether it was paid: the next run asks again
            if outcome == "paid" or outcome.endswith("amount_mismatch"):
                continue
        if await _expire(order, now=now) is not None:
            expired += 1
    return expired


async def _expire(order: Order, *, now) -> Order | None:
    """Cancel one order for the clock: only from `pending_payment`, with no confirmation in
    flight and no mismatched payment, all part of the move's condition. A lost race is the
    end of it (None): the order was paid, claimed by a confirmation or cancelled meanwhile,
    and is never cancelled from whatever it became (that would refund a sale)."""
    if order.status != "pending_payment":
        return None
    idle = {
        "payment.status": {"$ne": "amount_mismatch"},
        "$or": [
            {"payment.status": {"$ne": "processing"}},
            {"payment.attempt_started_at": None},
            {"payment.attempt_started_at": {"$lt": now - payments.ATTEMPT_LEASE}},
        ],
    }
    moved, _ = await _cancel_once(
        order, actor="system", note="not paid in time", reason="expiry", also_match=idle
    )
    if moved is None:
        log.info("order %s changed before it could expire: left as it is", order.number)
        return None
    return await _after_cancel(before=order, moved=moved, owed=None, actor="system")


async def retry_owed_refunds(*, limit: int = 100) -> int:
    """Ask again for the money of cancelled orders whose refund the provider refused, once
    each is due (REFUND_RETRY_BACKOFF_SECONDS, doubling). Stops when the provider cannot be
    reached; returns how many were asked."""
    asked = 0
    for order_id in await refunds.owed_refunds(limit=limit):
        try:
            if await refunds.retry_owed_refund(order_id) is not None:
                asked += 1
        except ProviderUnavailable as error:
            log.warning("owed refunds not retried: %s", error)
            break
        except Exception:  # one bad refund must not stop the others; it is logged
            log.exception("retrying the owed refund of order %s", order_id)
    return asked


async def retry_pending_refunds(*, older_than_seconds: int = 60) -> int:
    """Ask the provider again about refunds it did not confirm (it was unreachable)."""
    done = 0
    for order_id, refund_id in await refunds.pending_refunds(
        older_than=timedelta(seconds=older_than_seconds)
    ):
        try:
            await refunds.drive_refund(order_id=order_id, refund_id=refund_id)
            done += 1
        except refunds.RefundRefused:
            done += 1  # recorded: a cancelled order then owes it (`retry_owed_refunds`)
        except Exception:  # one bad refund must not stop the others; it is logged
            log.exception("retrying refund %s of order %s", refund_id, order_id)
    return done
