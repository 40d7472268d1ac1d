"""Stock levels: the one module that writes a product's stock fields (`stock`,
`low_stock_threshold`, `low_stock`, the alert claim), keeps the stock ledger with every write
and claims low-stock alerts. Orders, the catalog's admin writes and the admin's adjustments
all come through here.

Every movement is one atomic update of the product (an update pipeline) that
- adds `delta` to the stock under a guard (active product, `stock >= quantity`, bounds...),
- recomputes the stored `low_stock` flag (`stock <= low_stock_threshold`) from the new stock,
and returns the document after it. Being atomic, the stock just before it was exactly
`after.stock - delta` (with the same threshold), so the returned document alone tells whether
*this* update flipped `low_stock` from False to True: a crossing. Concurrent sales are
serialised on the product by the server, so a burst of them has exactly one such flip per
crossing, with or without transactions; stock going back above the threshold flips the flag
back, which re-arms it. The same update claims the `low_stock` email (alerts.py): stock
bouncing around the threshold (checkout, cancel, checkout...) mails the admins once per
interval, however fast and however concurrent. (We read the result, never the pre-image: one
MongoDB-compatible server we test on returns stale pre-images under concurrency, while its
post-images are exact.)

The ledger row (and the alert emails) are written with the caller's `session=`, so they
commit or roll back with the change. Without transactions (`session` None) they are written
right after the update, from its returned document, so `stock_after` is exact all the same.

Where the stock lives (today the product document; with variants, each variant) is known to
this module alone: `_products`, the `match` filters and the update pipeline below.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument

from app.catalog import cache
from app.catalog.models import Product
from app.catalog.products import products_by_id
from app.catalog.stock_fields import DEFAULT_LOW_STOCK_THRESHOLD, MAX_STOCK
from app.core import db
from app.core.clock import utcnow
from app.errors import Conflict, NotFound
from app.inventory import alerts, events
from app.inventory.errors import InsufficientStock, Shortage
from app.inventory.models import StockMovement

# A `set` is a delta guarded by the stock it was computed from; under a storm of concurrent
# sales it may have to recompute a few times.
SET_ATTEMPTS = 10


@dataclass(frozen=True)
class StockChange:
    """One applied movement: the product after it, the stock before it, its ledger row (None
    when a `set` found the stock already there), and whether it claimed the product's
    low-stock alert."""

    product: Product
    stock_before: int
    movement: StockMovement | None
    alert_claimed: bool = False


def _products() -> Any:
    return Product.get_pymongo_collection()


def _product(row: dict[str, Any]) -> Product:
    return Product.model_validate(row)


def _new_flag() -> dict[str, Any]:
    return {"$set": {"low_stock": {"$lte": ["$stock", "$low_stock_threshold"]}}}


def available(product: Product | None) -> int:
    """How many units of `product` can be bought now: its stock while it is active."""
    if product is None or product.status != "active":
        return 0
    return max(product.stock, 0)


async def _move(
    *,
    match: dict[str, Any],
    delta: int,
    reason: str,
    actor: str | None,
    order_id: PydanticObjectId | None,
    session: Any = None,
) -> StockChange | None:
    """Add `delta` to the stock of the product `match` finds, in one atomic update, then
    write its ledger row and, on a crossing, the alert. None when `match` found nothing
    (then nothing was written)."""
    now = utcnow()
    claim_id = PydanticObjectId()
    after = await _products().find_one_and_update(
        match,
        [
            {
                "$set": {
                    "stock": {"$add": ["$stock", delta]},
                    "updated_at": now,
                    **alerts.claim(delta, now=now, claim_id=claim_id),
                }
            },
            _new_flag(),
        ],
        return_document=ReturnDocument.AFTER,
        session=session,
    )
    if after is None:
        return None
    product = _product(after)
    movement = StockMovement(
        product_id=product.id,
        delta=delta,
        stock_after=product.stock,
        reason=reason,
        actor=actor,
        order_id=order_id,
        at=now,
    )
    await movement.insert(session=session)
    change = StockChange(
        product=product,
        stock_before=product.stock - delta,
        movement=movement,
        alert_claimed=product.low_stock_alert_id == claim_id,
    )
    if change.alert_claimed:
        await alerts.alert_low_stock(product, session=session)
    await events.stock_moved(product, stock_before=change.stock_before, session=session)
    # List pages show the stock status: a move between in, low and out of stock bumps the
    # catalog version (in this session, after the write, as the cache requires).
    await cache.stock_changed(
        before=change.stock_before,
        after=product.stock,
        threshold=product.low_stock_threshold,
        session=session,
    )
    return change


async def _set(
    *,
    match: dict[str, Any],
    stock: int,
    reason: str,
    actor: str | None,
    record_unchanged: bool = True,
    session: Any = None,
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
            return StockChange(
                product=_product(current), stock_before=current["stock"], movement=None
            )
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


async def backfill_low_stock_flags() -> int:
    """Set the stored `low_stock` flag on products stored before it existed (the low-stock
    list reads only the flag). One server-side update: nothing is loaded, products that have
    the flag are untouched, so running it again changes nothing. Returns how many it set."""
    result = await _products().update_many(
        {"low_stock": {"$exists": False}},
        [
            {
                "$set": {
                    "low_stock_threshold": {
                        "$ifNull": ["$low_stock_threshold", DEFAULT_LOW_STOCK_THRESHOLD]
                    }
                }
            },
            _new_flag(),
        ],
    )
    if result.modified_count:
        await cache.bump_catalog_version()
    modified: int = result.modified_count
    return modified


async def record_initial_stock(
    *, product_id: PydanticObjectId, stock: int, actor: str | None, session: Any = None
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
    session: Any = None,
) -> StockChange | None:
    """Take `quantity` units of an active product: the change (with the product after it),
    or None when it is archived, unknown or has fewer than `quantity` in stock (then nothing
    changed). Writes the ledger row, and the low-stock alert when this takes the stock to or
    under the threshold."""
    if quantity <= 0:
        raise ValueError("quantity must be positive")
    return await _move(
        match={"_id": product_id, "status": "active", "stock": {"$gte": quantity}},
        delta=-quantity,
        reason=reason,
        actor=actor,
        order_id=order_id,
        session=session,
    )


async def return_stock(
    *,
    product_id: PydanticObjectId,
    quantity: int,
    reason: str,
    order_id: PydanticObjectId | None = None,
    actor: str | None = None,
    session: Any = None,
) -> StockChange | None:
    """Give `quantity` units back (cancel, expiry, refund, a failed checkout's compensation),
    archived products included. The change, or None when the product is gone. Writes the
    ledger row; going back above the threshold re-arms the low-stock alert."""
    if quantity <= 0:
        raise ValueError("quantity must be positive")
    return await _move(
        match={"_id": product_id},
        delta=quantity,
        reason=reason,
        actor=actor,
        order_id=order_id,
        session=session,
    )


async def shortages(
    wanted: Iterable[tuple[PydanticObjectId, int]], *, session: Any = None
) -> list[Shortage]:
    """What each (product, quantity) asked for and what can be had now, for the 409 of a
    refused checkout (read in its transaction, when there is one)."""
    asked = list(wanted)
    products = await products_by_id([product_id for product_id, _ in asked], session=session)
    found: list[Shortage] = []
    for product_id, quantity in asked:
        product = products.get(product_id)
        found.append(
            Shortage(
                product_id=product_id,
                name=product.name if product is not None else None,
                requested=quantity,
                available=available(product),
            )
        )
    return found


# -- the catalog's writes ----------------------------------------------------------------------


async def set_stock(
    *,
    product_id: PydanticObjectId,
    stock: int,
    reason: str,
    actor: str | None = None,
    record_unchanged: bool = True,
    session: Any = None,
) -> StockChange | None:
    """Set a product's stock (any status): the change, or None when the product is gone.
    `record_unchanged=False` writes no ledger row when the stock was already `stock` (an
    edit form that sends every field back)."""
    return await _set(
        match={"_id": product_id},
        stock=stock,
        reason=reason,
        actor=actor,
        record_unchanged=record_unchanged,
        session=session,
    )


async def set_low_stock_threshold(
    *, product_id: PydanticObjectId, threshold: int, session: Any = None
) -> Product | None:
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
        row = await _products().find_one({"_id": product_id}, session=session)
        return _product(row) if row is not None else None
    # The status may have moved with the threshold (a spare bump is cheap, a missed one not).
    await cache.bump_catalog_version(session=session)
    return _product(after)


# -- admin adjustments -------------------------------------------------------------------------


async def _refusal(product_id: PydanticObjectId, delta: int, *, session: Any = None) -> Exception:
    """Why a guarded delta matched nothing (read in the same transaction, when there is one)."""
    row = await _products().find_one({"_id": product_id}, {"stock": 1, "name": 1}, session=session)
    if row is None:
        return NotFound("No such product.")
    stock = row["stock"]
    if stock + delta < 0:
        shortage = Shortage(
            product_id=product_id, name=row["name"], requested=-delta, available=stock
        )
        return InsufficientStock(
            f"Only {stock} in stock: cannot remove {-delta}.", shortages=[shortage]
        )
    if stock + delta > MAX_STOCK:
        message = f"Stock cannot exceed {MAX_STOCK}: {stock} in stock."
        return Conflict(message, errors=[{"loc": ["delta"], "msg": message}])
    return Conflict("The stock changed concurrently; try again.")


async def adjust_stock(
    *,
    product_id: PydanticObjectId,
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
    oid = product_id

    async def work(session: Any) -> StockChange:
        if set_to is not None:
            change = await _set(
                match={"_id": oid}, stock=set_to, reason=reason, actor=actor, session=session
            )
            if change is None:
                raise NotFound("No such product.")
            return change
        assert delta is not None  # exactly one of the two, checked above
        bound = {"$gte": -delta} if delta < 0 else {"$lte": MAX_STOCK - delta}
        moved = await _move(
            match={"_id": oid, "stock": bound},
            delta=delta,
            reason=reason,
            actor=actor,
            order_id=None,
            session=session,
        )
        if moved is None:
            raise await _refusal(oid, delta, session=session)
        return moved

    return await db.run_in_transaction(work)
