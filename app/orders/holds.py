"""Unpaid holds: what one holder keeps reserved in orders awaiting payment, capped so that one
account cannot reserve the whole stock (at most UNPAID_ORDERS_MAX orders and UNPAID_UNITS_MAX
units in `pending_payment` at a time).

One small document per holder key (UnpaidHold): `user:<id>` for an account; a guest's order
takes two, `ip:<hash>` (client_network of its address) and `email:<hash>`, so neither a new
email nor a new address alone gets a guest past the cap; an order lists the keys it took.

Checkout takes its place with one conditional update inside its transaction: only when the
holder has fewer than the maximum orders, the units stay within the maximum and the order is
not listed yet. Concurrent checkouts of one holder write the same document, so the server
serialises them (a transaction that loses the race is retried and reads the counts again;
without transactions the update alone is the guard), and the cap holds under any concurrency.
Counting the holder's orders with a query would not: two transactions both count 2 and both
insert.

An order leaving `pending_payment` (paid, cancelled by anyone, expired: all go through
`lifecycle.move`) gives its place back in the move's transaction, with an update conditional on
the order being listed: whoever repeats it, it happens once and the counts never go below
zero. Without transactions the order moves first and the hold follows; a crash between the
two leaves an order listed that is no longer unpaid (too strict, never too lax), and the
holder's next refused checkout gives back such places, and those of orders that never came to
be (a checkout that died after taking its place), before it judges again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError
from quart import current_app

from app.core.clock import utcnow
from app.core.ratelimit import client_network
from app.errors import Conflict, ErrorCode
from app.orders import store
from app.orders.models import UnpaidHold
from app.orders.store import Session

# A place whose order does not exist is a checkout still running (without transactions the
# place is taken before the order is inserted) until it is clearly older than any checkout.
_ORPHAN_AFTER = timedelta(minutes=5)


class UnpaidLimitReached(Conflict):
    code = ErrorCode.UNPAID_LIMIT_REACHED


def user_key(user_id: PydanticObjectId) -> str:
    return f"user:{user_id}"


def _digest(value: str) -> str:
    # Hashed as the rate limits' keys are: no address or email in clear in this collection.
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def ip_key(address: str | None) -> str:
    """A guest's client address (an IPv4 address, an IPv6 /64), hashed."""
    return "ip:" + _digest(client_network(address))


def email_key(email: str) -> str:
    """A guest's email address (normalised by the caller), hashed."""
    return "email:" + _digest(email)


def _holds() -> Any:  # the driver's collection, or the embedded engine's
    return UnpaidHold.get_pymongo_collection()


def _limits() -> tuple[int, int]:
    settings = current_app.config["SETTINGS"]
    return settings.UNPAID_ORDERS_MAX, settings.UNPAID_UNITS_MAX


async def ensure(keys: Iterable[str]) -> None:
    """Create the holders' documents that do not exist yet, outside any transaction: a
    conditional update can then take a place without an upsert (an upsert that loses a race
    raises DuplicateKeyError, which would abort the checkout's transaction)."""
    for key in keys:
        try:
            await _holds().update_one(
                {"key": key},
                {"$setOnInsert": {"orders": 0, "units": 0, "held": [], "updated_at": utcnow()}},
                upsert=True,
            )
        except DuplicateKeyError:
            pass  # created by a concurrent checkout of the same holder


async def take(
    keys: list[str], *, order_id: PydanticObjectId, units: int, session: Session = None
) -> None:
    """Take a place for the order (`units` units) under every key, or none.

    Raises UnpaidLimitReached (409 `unpaid_limit_reached`, with the limits and what the
    holder holds); then nothing is held for this order (without transactions the places
    already taken under other keys are given back here).
    """
    taken: list[str] = []
    for key in keys:
        if not await _take_one(key, order_id=order_id, units=units, session=session):
            if session is None:
                await release(taken, order_id=order_id, units=units)
            raise await _refusal(key, units=units, session=session)
        taken.append(key)


async def _take_one(key: str, *, order_id: PydanticObjectId, units: int, session: Session) -> bool:
    max_orders, max_units = _limits()
    if units > max_units:
        return False
    for attempt in range(2):
        result = await _holds().update_one(
            {
                "key": key,
                "orders": {"$lt": max_orders},
                "units": {"$lte": max_units - units},
                "held.order_id": {"$ne": order_id},
            },
            {
                "$inc": {"orders": 1, "units": units},
                "$push": {"held": {"order_id": order_id, "units": units}},
                "$set": {"updated_at": utcnow()},
            },
            session=session,
        )
        if result.matched_count:
            return True
        if attempt == 0 and not await _give_back_stale(key, session=session):
            return False
    return False


async def release(
    keys: Iterable[str], *, order_id: PydanticObjectId, units: int, session: Session = None
) -> None:
    """Give back the order's place under every key; a place no longer held is left alone."""
    for key in keys:
        await _holds().update_one(
            {"key": key, "held.order_id": order_id, "orders": {"$gte": 1}},
            {
                "$pull": {"held": {"order_id": order_id}},
                "$inc": {"orders": -1, "units": -units},
                "$set": {"updated_at": utcnow()},
            },
            session=session,
        )


async def _give_back_stale(key: str, *, session: Session) -> bool:
    """Give back the places of orders no longer unpaid, or never placed (see the module's
    docstring); True when there was any. Reads at most the holder's few listed orders."""
    row = await _holds().find_one({"key": key}, session=session)
    if row is None or not row.get("held"):
        return False
    held = {entry["order_id"]: entry["units"] for entry in row["held"]}
    status = await store.statuses(list(held), session=session)
    orphan_before = datetime.now(UTC) - _ORPHAN_AFTER
    stale = [
        oid
        for oid in held
        if status.get(oid, "pending_payment") != "pending_payment"
        or (oid not in status and oid.generation_time < orphan_before)
    ]
    for oid in stale:
        await release([key], order_id=oid, units=held[oid], session=session)
    return bool(stale)


async def _refusal(key: str, *, units: int, session: Session) -> UnpaidLimitReached:
    max_orders, max_units = _limits()
    row = await _holds().find_one({"key": key}, session=session) or {}
    held_orders, held_units = row.get("orders", 0), row.get("units", 0)
    return UnpaidLimitReached(
        f"You can hold at most {max_orders} unpaid orders with {max_units} items in all; "
        f"you hold {held_orders} with {held_units} items and this order has {units}. Pay or "
        "cancel an unpaid order first.",
        limits={"orders": max_orders, "units": max_units},
        held={"orders": held_orders, "units": held_units},
        requested_units=units,
    )
