"""Reading orders: the shopper's views and the admin's list. Everything that changes an order
has its own module (see the README's Architecture map): checkout.py, payments.py,
cancellation.py, refunds.py, admin.py, jobs.py."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from beanie import PydanticObjectId

from app.core.pagination import Page, PageQuery
from app.orders import store
from app.orders.models import Order


async def get_order(
    *, order_id: PydanticObjectId, user_id: PydanticObjectId | None = None
) -> Order:
    """One order; with `user_id`, only if it is theirs (anyone else's is the same 404)."""
    return await store.get(order_id=order_id, user_id=user_id)


async def join_guest_orders(user: Any, session: store.Session = None) -> None:
    """The guest orders placed with the address `user` has just verified join the account
    (auth calls this in the verification's transaction: never before it)."""
    await store.join_guest_orders(email=user.email, user_id=user.id, session=session)


async def list_my_orders(*, user_id: PydanticObjectId, query: PageQuery) -> Page[Order]:
    """The user's orders, newest first (index `user_newest`)."""
    return await store.newest_first({"user_id": user_id}, query=query)


async def list_orders(
    *,
    query: PageQuery,
    status: str | None = None,
    user_id: str | None = None,
    number: str | None = None,
    email: str | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
) -> Page[Order]:
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
    return await store.newest_first(filters, query=query)
