"""Money an order owes and refunds left pending: what the background job asks again.

A cancelled order must give back every cent it took. When the provider refuses that refund
the money stays owed, in the open: `payment.status` `refund_failed`, the refund `failed` with
the provider's reason. The job asks again (`retry_owed_refund`) with a new refund each time
(a new idempotency key: the provider replays a refused key's first answer), backing off
until REFUND_RETRY_MAX_ATTEMPTS; an admin can refund it at any time. Each attempt is
reserved like any refund, so the owed money is never given back twice.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from beanie import PydanticObjectId

from app.core.clock import as_utc, utcnow
from app.orders import provider, state, store
from app.orders.models import Order, Refund
from app.orders.provider_refunds import apply_provider_refunds
from app.orders.refunds import RefundRefused, drive_refund
from app.orders.settlement import amount_owed, reserve_refund

log = logging.getLogger("app.orders.refunds")


async def pending_refunds(
    *, older_than: timedelta, limit: int = 100
) -> list[tuple[PydanticObjectId, PydanticObjectId]]:
    """(order id, refund id) of refunds still waiting for the provider."""
    return await store.pending_refund_ids(created_before=utcnow() - older_than, limit=limit)


async def owed_refunds(*, limit: int = 100) -> list[PydanticObjectId]:
    """Cancelled (or refunded) orders whose money is owed and due to be asked for again,
    longest waiting first (index `refund_retry`)."""
    return await store.owed_refund_ids(due_by=utcnow(), limit=limit)


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
    order = await store.reload(order_id)
    if order.payment.status != "refund_failed" or order.payment.intent_id is None:
        return None
    listed = await provider.list_refunds(order.payment.intent_id)
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
    condition, update = reserve_refund(booked, total=order.taken)
    update["$set"]["payment.refund_retry_at"] = None
    reserved = await store.update(
        order_id,
        {
            "status": {"$in": list(state.GIVE_ALL_BACK)},
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
        return await store.reload(order_id)  # refused again: it says when it is asked next
