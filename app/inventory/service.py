"""Stock levels: the one place that moves a product's stock, keeps the stock ledger and
raises low-stock alerts.

Every movement is one atomic update of the product (an update pipeline) that
- adds `delta` to the stock under a guard (active product, `stock >= quantity`, bounds...),
- recomputes the stored `low_stock` flag (`stock <= low_stock_threshold`) from the new stock,
and returns the document after it. Being atomic, the stock just before it was exactly
`after.stock - delta` (with the same threshold), so the returned document alone tells whether
*this* update flipped `low_stock` from False to True: a crossing. Concurrent sales are
serialised on the product by the server, so a burst of them has exactly one such flip per
crossing, with or without transactions; stock going back above the threshold flips the flag
back, which re-arms it. The same update claims the `low_stock` email to the admins when it
crosses and the product's last alert is older than LOW_STOCK_ALERT_INTERVAL_SECONDS (it
stores the time and its own claim id, `_claim_alert`): stock bouncing around the threshold
(checkout, cancel, checkout...) mails them once per interval, however fast and however
concurrent. (We read the result, never the pre-image: one MongoDB-compatible server we test
on returns stale pre-images under concurrency, while its post-images are exact.)

The ledger row (and the alert emails) are written with the caller's `session=`, so they
commit or roll back with the change. Without transactions (`session` None) they are written
right after the update, from its returned document, so `stock_after` is exact all the same.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument
from quart import current_app

from app.catalog import cache
from app.catalog.models import Product, stock_status
from app.catalog.schemas import MAX_STOCK
from app.core import db
from app.core.clock import utcnow
from app.core.pagination import Page, PageQuery
from app.errors import Conflict, ErrorCode, NotFound
from app.inventory.models import StockMovement
from app.inventory.schemas import LowStockItemOut, MovementOut
from app.users import service as users

log = logging.getLogger("app.inventory")

# A `set` is a delta guarded by the stock it was computed from; under a storm of concurrent
# sales it may have to recompute a few times.
SET_ATTEMPTS = 10


class InsufficientStock(Conflict):
    code = ErrorCode.INSUFFICIENT_STOCK


@dataclass(frozen=True)
class StockChange:
    """One applied movement: the product after it, the stock before it, its ledger row, and
    whether it claimed the product's low-stock alert (see `_claim_alert`)."""

    after: dict[str, Any]
    stock_before: int
    movement: StockMovement | None
    alert_claimed: bool = False

    @property
    def threshold(self) -> int:
        return _threshold(self.after)


def _threshold(product: dict[str, Any]) -> int:
    return product.get("low_stock_threshold", 5)


def _status(product: dict[str, Any]) -> str:
    return stock_status(product["stock"], _threshold(product))


def _products():
    return Product.get_pymongo_collection()


def _new_flag() -> dict[str, Any]:
    return {"$set": {"low_stock": {"$lte": ["$stock", "$low_stock_threshold"]}}}


_NEVER = datetime(1970, 1, 1, tzinfo=UTC)


def _claim_alert(delta: int, *, now: datetime, claim: PydanticObjectId) -> dict[str, Any]:
    """The fields of the movement's first pipeline stage (where `$stock` is still the stock
    before it) that claim the low-stock alert: `low_stock_alerted_at` becomes `now` and
    `low_stock_alert_id` this update's own `claim` only when this update takes an active
    product from above its threshold to at or under it, and the last alert is at least
    LOW_STOCK_ALERT_INTERVAL_SECONDS old (0: every crossing). However often the stock crosses,
    and however many updates race, one update per interval finds its `claim` in the document
    it returns, and only that one mails the admins. The `low_stock` flag (the admin's list)
    flips on every crossing all the same."""
    interval = current_app.config["SETTINGS"].LOW_STOCK_ALERT_INTERVAL_SECONDS
    conditions: list[dict[str, Any]] = [
        {"$eq": ["$status", "active"]},
        {"$gt": ["$stock", "$low_stock_threshold"]},
        {"$lte": [{"$add": ["$stock", delta]}, "$low_stock_threshold"]},
    ]
    if interval > 0:
        last = {"$ifNull": ["$low_stock_alerted_at", _NEVER]}
        conditions.append({"$lte": [last, now - timedelta(seconds=interval)]})
    claimed = {"$and": conditions}
    return {
        "low_stock_alerted_at": {"$cond": [claimed, {"$literal": now}, "$low_stock_alerted_at"]},
        "low_stock_alert_id": {"$cond": [claimed, {"$literal": claim}, "$low_stock_alert_id"]},
    }


async def _move(
    *,
    match: dict[str, Any],
    delta: int,
    reason: str,
    actor: str | None,
    order_id: PydanticObjectId | None,
    session=None,
) -> StockChange | None:
    """Add `delta` to the stock of the product `match` finds, in one atomic update, then
    write its ledger row and, on a crossing, the alert. None when `match` found nothing
    (then nothing was written)."""
    now = utcnow()
    claim = PydanticObjectId()
    after = await _products().find_one_and_update(
        match,
        [
            {
                "$set": {
                    "stock": {"$add": ["$stock", delta]},
                    "updated_at": now,
                    **_claim_alert(delta, now=now, claim=claim),
                }
            },
            _new_flag(),
        ],
        return_document=ReturnDocument.AFTER,
        session=session,
    )
    if after is None:
        return None
    movement = StockMovement(
        product_id=after["_id"],
        delta=delta,
        stock_after=after["stock"],
        reason=reason,
        actor=actor,
        order_id=order_id,
        at=now,
    )
    await movement.insert(session=session)
    change = StockChange(
        after=after,
        stock_before=after["stock"] - delta,
        movement=movement,
        alert_claimed=after.get("low_stock_alert_id") == claim,
    )
    await _after_move(change, session=session)
    return change


async def _after_move(change: StockChange, *, session=None) -> None:
    if change.alert_claimed:
        await _alert_low_stock(change.after, session=session)
    # List pages show the stock status: a move between in, low and out of stock bumps the
    # catalog version (in this session, after the write, as the cache requires).
    await cache.stock_changed(
        before=change.stock_before,
        after=change.after["stock"],
        threshold=change.threshold,
        session=session,
    )


async def _set(
    *,
    match: dict[str, Any],
    stock: int,
    reason: str,
    actor: str | None,
    record_unchanged: bool = True,
    session=None,
) -> StockChange | None:
    """Set the stock of the product `match` finds: the delta from the stock we read, guarded
    by that stock still being there (a concurrent sale makes us read again). None when
    `match` found nothing."""
    for _ in range(SET_ATTEMPTS):
        current = await _products().find_one(match, session=session)
        if current is None:
            return None
        delta = stock - current["stock"]
        if delta == 0 and not record_unchanged:
            return StockChange(after=current, stock_before=current["stock"], movement=None)
        change = await _move(
            match={**match, "stock": current["stock"]},
            delta=delta,
            reason=reason,
            actor=actor,
            order_id=None,
            session=session,
        )
        if change is not None:
            return change
    raise Conflict("The stock is changing too fast to set it; try again.")


async def _alert_low_stock(product: dict[str, Any], *, session=None) -> None:
    """One `low_stock` email to every active admin, in the caller's transaction."""
    sent = await users.email_admins(
        kind="low_stock",
        context={
            "product_id": str(product["_id"]),
            "name": product["name"],
            "slug": product["slug"],
            "stock": product["stock"],
            "threshold": product.get("low_stock_threshold", 5),
        },
        about=f"product {product['_id']} is low on stock",
        session=session,
    )
    if sent:
        log.info("low-stock alert for product %s sent to %d admins", product["_id"], sent)


async def backfill_low_stock_flags() -> int:
    """Set the stored `low_stock` flag on products stored before it existed (the low-stock
    list reads only the flag). One server-side update: nothing is loaded, products that have
    the flag are untouched, so running it again changes nothing. Returns how many it set."""
    result = await _products().update_many(
        {"low_stock": {"$exists": False}},
        [
            {"$set": {"low_stock_threshold": {"$ifNull": ["$low_stock_threshold", 5]}}},
            _new_flag(),
        ],
    )
    if result.modified_count:
        await cache.bump_catalog_version()
    return result.modified_count


async def record_initial_stock(
    *, product_id: PydanticObjectId, stock: int, actor: str | None, session=None
) -> StockMovement | None:
    """A new product's first ledger row: its opening stock (reason `initial`), so that the
    deltas of every product's ledger add up to its stock. None for an opening stock of 0.
    Written with the product's insert (`session=`); a product created at or under its
    threshold starts flagged low (see Product) without an alert: nothing crossed."""
    if stock == 0:
        return None
    movement = StockMovement(
        product_id=product_id, delta=stock, stock_after=stock, reason="initial", actor=actor
    )
    await movement.insert(session=session)
    return movement


# -- the movements of orders -------------------------------------------------------------------


async def take_stock(
    *,
    product_id: PydanticObjectId,
    quantity: int,
    reason: str = "sale",
    order_id: PydanticObjectId | None = None,
    actor: str | None = None,
    session=None,
) -> dict[str, Any] | None:
    """Take `quantity` units of an active product: the product document after the change,
    or None when it is archived, unknown or has fewer than `quantity` in stock (then nothing
    changed). Writes the ledger row, and the low-stock alert when this takes the stock to or
    under the threshold."""
    if quantity <= 0:
        raise ValueError("quantity must be positive")
    change = await _move(
        match={"_id": product_id, "status": "active", "stock": {"$gte": quantity}},
        delta=-quantity,
        reason=reason,
        actor=actor,
        order_id=order_id,
        session=session,
    )
    return change.after if change else None


async def return_stock(
    *,
    product_id: PydanticObjectId,
    quantity: int,
    reason: str,
    order_id: PydanticObjectId | None = None,
    actor: str | None = None,
    session=None,
) -> dict[str, Any] | None:
    """Give `quantity` units back (cancel, expiry, refund, a failed checkout's compensation),
    archived products included. The product after the change, or None when it is gone.
    Writes the ledger row; going back above the threshold re-arms the low-stock alert."""
    if quantity <= 0:
        raise ValueError("quantity must be positive")
    change = await _move(
        match={"_id": product_id},
        delta=quantity,
        reason=reason,
        actor=actor,
        order_id=order_id,
        session=session,
    )
    return change.after if change else None


# -- the catalog's writes ----------------------------------------------------------------------


async def set_stock(
    *,
    product_id: PydanticObjectId,
    stock: int,
    reason: str,
    actor: str | None = None,
    record_unchanged: bool = True,
    session=None,
) -> dict[str, Any] | None:
    """Set a product's stock (any status): the product after, or None when it is gone.
    `record_unchanged=False` writes no ledger row when the stock was already `stock` (an
    edit form that sends every field back)."""
    change = await _set(
        match={"_id": product_id},
        stock=stock,
        reason=reason,
        actor=actor,
        record_unchanged=record_unchanged,
        session=session,
    )
    return change.after if change else None


async def set_low_stock_threshold(
    *, product_id: PydanticObjectId, threshold: int, session=None
) -> dict[str, Any] | None:
    """Change a product's threshold and its `low_stock` flag in one update: the product
    after, or None when it is gone. Not a stock movement, so no ledger row and no alert
    (the admin who moves the threshold sees the product in the low-stock list at once);
    a product the new threshold puts above its stock is re-armed."""
    after = await _products().find_one_and_update(
        {"_id": product_id, "low_stock_threshold": {"$ne": threshold}},
        [
            {"$set": {"low_stock_threshold": {"$literal": threshold}, "updated_at": utcnow()}},
            _new_flag(),
        ],
        return_document=ReturnDocument.AFTER,
        session=session,
    )
    if after is None:  # gone, or the threshold was this already
        return await _products().find_one({"_id": product_id}, session=session)
    # The status may have moved with the threshold (a spare bump is cheap, a missed one not).
    await cache.bump_catalog_version(session=session)
    return after


# -- admin adjustments -------------------------------------------------------------------------


def _object_id(value: str) -> PydanticObjectId:
    if not PydanticObjectId.is_valid(value):
        raise NotFound("No such product.")
    return PydanticObjectId(value)


async def _refusal(product_id: PydanticObjectId, delta: int, *, session=None) -> Exception:
    """Why a guarded delta matched nothing (read in the same transaction, when there is one)."""
    row = await _products().find_one({"_id": product_id}, {"stock": 1}, session=session)
    if row is None:
        return NotFound("No such product.")
    stock = row["stock"]
    if stock + delta < 0:
        return InsufficientStock(f"Only {stock} in stock: cannot remove {-delta}.", available=stock)
    if stock + delta > MAX_STOCK:
        message = f"Stock cannot exceed {MAX_STOCK}: {stock} in stock."
        return Conflict(message, errors=[{"loc": ["delta"], "msg": message}])
    return Conflict("The stock changed concurrently; try again.")


async def adjust_stock(
    *,
    product_id: str,
    reason: str,
    actor: str | None,
    delta: int | None = None,
    set_to: int | None = None,
) -> StockChange:
    """An admin's adjustment: add or remove `delta` units, or set the stock to `set_to`
    (exactly one), in one transaction with its ledger row and any low-stock alert.

    Raises NotFound; InsufficientStock (409, nothing written) when `delta` would take the
    stock below 0; Conflict (409) when it would exceed the store's maximum stock.
    """
    if (delta is None) == (set_to is None):
        raise ValueError("exactly one of delta or set_to")
    oid = _object_id(product_id)

    async def work(session) -> StockChange:
        if delta is None:
            change = await _set(
                match={"_id": oid}, stock=set_to, reason=reason, actor=actor, session=session
            )
            if change is None:
                raise NotFound("No such product.")
            return change
        bound = {"$gte": -delta} if delta < 0 else {"$lte": MAX_STOCK - delta}
        change = await _move(
            match={"_id": oid, "stock": bound},
            delta=delta,
            reason=reason,
            actor=actor,
            order_id=None,
            session=session,
        )
        if change is None:
            raise await _refusal(oid, delta, session=session)
        return change

    return await db.run_in_transaction(work)


# -- admin reads -------------------------------------------------------------------------------


def _utc(moment: datetime) -> datetime:
    """A query bound: naive means UTC, anything else is converted to UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


async def product_names(ids) -> dict[PydanticObjectId, str]:
    """Names of many products (any status) in one query."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = await _products().find({"_id": {"$in": wanted}}, {"name": 1}).to_list()
    return {row["_id"]: row["name"] for row in rows}


def movement_out(movement: StockMovement, names: dict) -> MovementOut:
    return MovementOut(
        id=str(movement.id),
        product_id=str(movement.product_id),
        product_name=names.get(movement.product_id),
        delta=movement.delta,
        stock_after=movement.stock_after,
        reason=movement.reason,
        actor=movement.actor,
        order_id=str(movement.order_id) if movement.order_id else None,
        at=_utc(movement.at),
    )


async def list_movements(
    *,
    query: PageQuery,
    product_id: str | None = None,
    reason: str | None = None,
    at_from: datetime | None = None,
    at_to: datetime | None = None,
) -> Page[MovementOut]:
    """The stock ledger, newest first. Served by `product_newest`, `reason_newest` or
    `newest` (see StockMovement), each with the date range on `at`."""
    filters: dict[str, Any] = {}
    if product_id:
        filters["product_id"] = PydanticObjectId(product_id)
    if reason:
        filters["reason"] = reason
    if at_from or at_to:
        filters["at"] = {
            **({"$gte": _utc(at_from)} if at_from else {}),
            **({"$lte": _utc(at_to)} if at_to else {}),
        }
    find = StockMovement.find(filters)
    total = await find.count()
    rows = (
        await find.sort([("at", -1), ("_id", -1)]).skip(query.skip).limit(query.per_page).to_list()
    )
    names = await product_names(row.product_id for row in rows)
    return Page.build([movement_out(row, names) for row in rows], query=query, total=total)


_LOW_STOCK_PROJECTION = {
    "slug": 1,
    "name": 1,
    "stock": 1,
    "low_stock_threshold": 1,
    "updated_at": 1,
}


async def list_low_stock(*, query: PageQuery) -> Page[LowStockItemOut]:
    """Active products at or under their threshold, lowest stock first.

    `stock <= low_stock_threshold` compares two fields of one document: `$expr` can say it,
    but no index can serve it (every active product would be read). The stored `low_stock`
    flag, kept exact by every stock and threshold write, is an equality the
    `active_low_stock` index (status, low_stock, stock, _id) serves, order included.
    """
    filters = {"status": "active", "low_stock": True}
    collection = _products()
    total = await collection.count_documents(filters)
    rows = await collection.find(
        filters,
        _LOW_STOCK_PROJECTION,
        sort=[("stock", 1), ("_id", 1)],
        skip=query.skip,
        limit=query.per_page,
    ).to_list()
    items = [
        LowStockItemOut(
            id=str(row["_id"]),
            slug=row["slug"],
            name=row["name"],
            stock=row["stock"],
            low_stock_threshold=row["low_stock_threshold"],
            stock_status=_status(row),
            updated_at=_utc(row["updated_at"]),
        )
        for row in rows
    ]
    return Page.build(items, query=query, total=total)
