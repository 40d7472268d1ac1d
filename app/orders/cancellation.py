"""Cancelling an order, by its customer, an admin or the clock (unpaid for too long).

A cancel is one conditional move to `cancelled` that restocks every line and books the
refund of what was taken, in one transaction; the provider is asked after it (refund what was
paid, or cancel the intent of an unpaid order), never inside it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from beanie import PydanticObjectId

from app.core import db
from app.core.clock import as_utc, utcnow
from app.orders import lifecycle, payments, provider, provider_events, refunds, state, store
from app.orders.models import Order, Refund
from app.orders.restock import restock
from app.orders.settlement import reserve_refund
from app.orders.store import Query, Session
from app.payments.types import ProviderUnavailable

if TYPE_CHECKING:
    from app.auth.models import User

log = logging.getLogger("app.orders")
_MOVE_ATTEMPTS = 3


async def cancel(
    *, order: Order, actor: str, note: str | None = None, reason: str = "cancel"
) -> Order:
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
        order = await store.reload(order.id)  # changed meanwhile: judge it afresh
    else:
        raise state.invalid_transition(order.status, "cancelled")
    return await _after_cancel(before=order, moved=moved, owed=owed, actor=actor)


async def _cancel_once(
    order: Order,
    *,
    actor: str,
    note: str | None,
    reason: str,
    also_match: Query | None = None,
) -> tuple[Order | None, Refund | None]:
    """One conditional move of `order` from the status it was read with to `cancelled`,
    restocking and booking its refund in the same transaction: (the order after, the refund
    booked), or (None, None) when the order changed since it was read (or `also_match` no
    longer holds)."""
    taken = order.taken
    left = order.refundable
    # A payment that did not match the order (`amount_mismatch`) was taken all the same:
    # cancelling gives back what was received, like any paid order's cancel.
    mismatched = order.status == "pending_payment" and order.payment.status == "amount_mismatch"
    owed = (
        Refund(amount=left, reason="order cancelled", actor=actor, restock=False)
        if (order.status in state.REFUNDABLE or mismatched) and left > 0
        else None
    )

    async def work(session: Session) -> Order | None:
        also_set: Query = {}
        also_update: Query = {}
        condition: Query = dict(also_match or {})
        if owed is not None:
            reserve_condition, also_update = reserve_refund(owed, total=taken)
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
        moved = await lifecycle.move(
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
            await restock(order, reason=reason, actor=actor, session=session)
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
            return await store.reload(moved.id)
    if moved.payment.intent_id and before.status == "pending_payment":
        try:
            intent = await provider.cancel_intent(moved.payment.intent_id)
        except (ProviderUnavailable, LookupError) as error:
            # A payment that still goes through is refunded when it is reported.
            log.warning("could not cancel intent of order %s: %s", moved.number, error)
            return moved
        if intent.succeeded:
            # It was paid before we could cancel it: record that, which refunds it.
            log.warning("order %s was paid as it was cancelled: refunding", moved.number)
            return await payments.record_success(order_id=moved.id, intent=intent, actor=actor)
    return moved


async def cancel_mine(*, user: User, order_id: PydanticObjectId) -> Order:
    order = await store.get(order_id=order_id, user_id=user.id)
    return await cancel(order=order, actor="customer")


# -- expiry -------------------------------------------------------------------------------------


async def expire_unpaid_orders(*, older_than_seconds: int, limit: int = 200) -> int:
    """Cancel and restock orders left unpaid for `older_than_seconds`. Each is cancelled
    once however many workers run this at the same time (the move is conditional); orders
    with a confirmation in flight are left for the next run."""
    now = utcnow()
    cutoff = now - timedelta(seconds=older_than_seconds)
    candidates = await store.awaiting_payment(placed_before=cutoff, limit=limit)
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


async def _expire(order: Order, *, now: datetime) -> Order | None:
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
