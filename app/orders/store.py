"""Every read and write of the order row (the `orders` collection) goes through here.

Changes are conditional updates (no read-modify-write across a gap: the condition is the
guard), and each sets `updated_at`. Services say what to change; this module is where it
touches the database, so no other module names the collection.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument

from app.core import db
from app.core.clock import utcnow
from app.core.pagination import Page, PageQuery
from app.core.security import token_digest
from app.errors import NotFound
from app.orders.models import NEWEST_FIRST, HistoryEntry, Order, OrderStatus

# A driver session from `app.core.db.transaction()` (or the embedded engine's), or None.
Session = Any
# A MongoDB filter or update document.
Query = dict[str, Any]


# -- reads ------------------------------------------------------------------------------------


async def reload(order_id: PydanticObjectId, *, session: Session = None) -> Order:
    """The order as it is now. Raises NotFound."""
    order = await Order.get(order_id, session=session)
    if order is None:
        raise NotFound("No such order.")
    return order


async def get(*, order_id: PydanticObjectId, user_id: PydanticObjectId | None = None) -> Order:
    """One order by its id as a client gave it; with `user_id`, only if it is theirs (anyone
    else's is the same 404). Raises NotFound."""
    query: Query = {"_id": order_id}
    if user_id is not None:
        query["user_id"] = user_id
    order = await db.find_one(Order, query)
    if order is None:
        raise NotFound("No such order.")
    return order


async def get_guest(*, order_id: PydanticObjectId, token: str) -> Order:
    """A guest's order by its id and Order-Token (compared as SHA-256, found by `_id`). A
    wrong token, an unknown id and an account's order are one and the same 404."""
    order = await Order.find_one({"_id": order_id, "guest_token_hash": token_digest(token)})
    if order is None:
        raise NotFound("No such order.")
    return order


async def join_guest_orders(
    *, email: str, user_id: PydanticObjectId, session: Session = None
) -> int:
    """Give the guest orders placed with `email` (normalised) to the account that has just
    proved it owns that address (index `email_newest`); how many joined."""
    result = await Order.get_pymongo_collection().update_many(
        {"email": email, "user_id": None, "guest_token_hash": {"$type": "string"}},
        {"$set": {"user_id": user_id, "updated_at": utcnow()}},
        session=session,
    )
    return result.modified_count


async def get_or_none(order_id: PydanticObjectId) -> Order | None:
    return await Order.get(order_id)


async def newest_first(filters: Query, *, query: PageQuery) -> Page[Order]:
    """A page of the orders matching `filters`, newest first (the callers' filters are each
    served by an index ending in NEWEST_FIRST)."""
    find = Order.find(filters)
    total = await find.count()
    newest = find.sort(NEWEST_FIRST)  # type: ignore[arg-type]  # Beanie's SortDirection: ints
    items = await newest.skip(query.skip).limit(query.per_page).to_list()
    return Page.build(items, query=query, total=total)


async def awaiting_payment(*, placed_before: datetime, limit: int) -> list[Order]:
    """Orders awaiting payment placed before `placed_before`, oldest first (index
    `status_newest`)."""
    return (
        await Order.find({"status": "pending_payment", "created_at": {"$lt": placed_before}})
        .sort([("created_at", 1)])  # type: ignore[list-item]  # Beanie's SortDirection: ints
        .limit(limit)
        .to_list()
    )


async def by_intent(intent_id: str) -> Order | None:
    """The order of a payment intent (index `payment_intent`)."""
    return await Order.find_one({"payment.intent_id": intent_id})


async def by_idempotency_key(
    user_id: PydanticObjectId | None, key: str, *, session: Session = None
) -> Order | None:
    """The user's order placed with this Idempotency-Key (index `user_idempotency_key`); a
    guest's (`user_id` None) has its key scoped to the guest cart by checkout."""
    return await Order.find_one({"user_id": user_id, "idempotency_key": key}, session=session)


async def statuses(
    order_ids: list[PydanticObjectId], *, session: Session = None
) -> dict[PydanticObjectId, OrderStatus]:
    """The status of each of these orders that exists."""
    rows = (
        await Order.get_pymongo_collection()
        .find({"_id": {"$in": order_ids}}, {"status": 1}, session=session)
        .to_list()
    )
    return {row["_id"]: row["status"] for row in rows}


async def has_delivered_product(
    *, user_id: PydanticObjectId, product_id: PydanticObjectId, session: Session = None
) -> bool:
    """True when the user has a `delivered` order with the product in it (index
    `user_product_status`)."""
    found = await Order.get_pymongo_collection().find_one(
        {"user_id": user_id, "items.product_id": product_id, "status": "delivered"},
        {"_id": 1},
        session=session,
    )
    return found is not None


async def pending_refund_ids(
    *, created_before: datetime, limit: int
) -> list[tuple[PydanticObjectId, PydanticObjectId]]:
    """(order id, refund id) of refunds still waiting for the provider, booked at or before
    `created_before` (index `refund_status`)."""
    rows = (
        await Order.get_pymongo_collection()
        .find(
            {
                "payment.refunds": {
                    "$elemMatch": {"status": "pending", "created_at": {"$lte": created_before}}
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


async def owed_refund_ids(*, due_by: datetime, limit: int) -> list[PydanticObjectId]:
    """Orders whose money is owed (`refund_failed`) and due to be asked for again by
    `due_by`, longest waiting first (index `refund_retry`)."""
    rows = (
        await Order.get_pymongo_collection()
        .find(
            {"payment.status": "refund_failed", "payment.refund_retry_at": {"$lte": due_by}},
            {"_id": 1},
            sort=[("payment.refund_retry_at", 1)],
            limit=limit,
        )
        .to_list()
    )
    return [row["_id"] for row in rows]


# -- writes -----------------------------------------------------------------------------------


async def insert_order(order: Order, *, session: Session = None) -> Order:
    """Store a new order (checkout). A second order for one Idempotency-Key raises
    DuplicateKeyError (index `user_idempotency_key`)."""
    return await db.insert(order, session=session)


async def update(
    order_id: PydanticObjectId, condition: Query, update: Query, *, session: Session = None
) -> Order | None:
    """Apply `update` to the order if it matches `condition`: the order after, or None when
    it does not (any more)."""
    update.setdefault("$set", {})["updated_at"] = utcnow()
    row = await Order.get_pymongo_collection().find_one_and_update(
        {"_id": order_id, **condition},
        update,
        return_document=ReturnDocument.AFTER,
        session=session,
    )
    return Order.model_validate(row) if row else None


async def move(
    order: Order,
    target: OrderStatus,
    *,
    entry: HistoryEntry,
    also_set: Query | None = None,
    also_update: Query | None = None,
    also_match: Query | None = None,
    session: Session = None,
) -> Order | None:
    """Move `order` from the status it was read with to `target`, appending `entry` to its
    history: the order after, or None when its status (or `also_match`) changed since."""
    changes: Query = {
        "$set": {"status": target, **(also_set or {})},
        "$push": {"history": entry.model_dump()},
    }
    for operator, fields in (also_update or {}).items():
        changes.setdefault(operator, {}).update(fields)
    return await update(
        order.id,
        {**(also_match or {}), "status": order.status},
        changes,
        session=session,
    )


async def attach_intent(order_id: PydanticObjectId, intent_id: str) -> bool:
    """Give an order without an intent this one (found by the order id in the intent's
    metadata); False when it has one already."""
    attached = await update(
        order_id,
        {"payment.intent_id": None},
        {"$set": {"payment.intent_id": intent_id, "payment.status": "requires_payment"}},
    )
    return attached is not None
