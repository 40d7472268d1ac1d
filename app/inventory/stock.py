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

Where the stock lives is known to this module alone: each *variant* of a product holds its
own stock, threshold, low-stock flag and alert claim, embedded in the product document
(`variants`). A movement names the variant; its guard is an `$elemMatch` on that variant
(`{"variants": {"$elemMatch": {"id": v, "stock": {"$gte": q}}}}`), and its pipeline changes
that variant inside a `$map` and re-derives the product's `stock` (the sum) and `low_stock`
(any variant low) in the same atomic update: no oversell and no drift, with or without
transactions. (Embedded rather than a collection of their own: one document per product keeps
the derived fields in the same single-document write as the variant's stock, which a second
collection could only do inside a transaction; a product has few variants.) A product stored
before variants has no `variants` array: its one variant (id the product's) is built by the
first stage of the pipeline from the product's stock fields, so its first movement stores it.
(The pipelines themselves are built in pipelines.py.)

Over 450 lines on purpose: being the one writer of stock is the point of this module (every
write, its guard, its ledger row and its alert claim in one place to review); its pure parts
already live in pipelines.py, alerts.py and errors.py.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument

from app.catalog import cache
from app.catalog.models import Product, Variant, legacy_sku
from app.catalog.products import products_by_id
from app.catalog.stock_fields import DEFAULT_LOW_STOCK_THRESHOLD, MAX_STOCK
from app.catalog.variants import register_skus
from app.core import db
from app.core.clock import utcnow
from app.errors import Conflict, ErrorCode, Invalid, NotFound
from app.inventory import alerts, events, pipelines
from app.inventory.errors import InsufficientStock, Shortage
from app.inventory.models import StockMovement

log = logging.getLogger("app.inventory")

# A `set` is a delta guarded by the stock it was computed from; under a storm of concurrent
# sales it may have to recompute a few times.
SET_ATTEMPTS = 10


@dataclass(frozen=True)
class StockChange:
    """One applied movement: the product after it, the variant it moved (after it), the
    variant's stock before it, its ledger row (None when a `set` found the stock already
    there), and whether it claimed the variant's low-stock alert."""

    product: Product
    variant: Variant
    stock_before: int
    movement: StockMovement | None
    alert_claimed: bool = False


def _products() -> Any:
    return Product.get_pymongo_collection()


def _product(row: dict[str, Any]) -> Product:
    return Product.model_validate(row)


def available(product: Product | None, variant: Variant | None = None) -> int:
    """How many units of `variant` (default: the product's only one) can be bought now: its
    stock while the product is active."""
    if product is None or product.status != "active":
        return 0
    if variant is None:
        variant = product.variant(None)
        if variant is None:
            return max(product.stock, 0)
    return max(variant.stock, 0)


async def _move(
    *,
    product_id: PydanticObjectId,
    variant_id: str,
    guard: Any = None,
    product_guard: dict[str, Any] | None = None,
    delta: int,
    reason: str,
    actor: str | None,
    order_id: PydanticObjectId | None,
    session: Any = None,
) -> StockChange | None:
    """Add `delta` to the stock of one variant of a product (its stock matching `guard`,
    the product `product_guard`), in one atomic update that re-derives the product's stock
    and flags, then write its ledger row and, on a crossing, the alert. None when the guard
    found nothing (then nothing was written)."""
    now = utcnow()
    claim_id = PydanticObjectId()
    moved = {
        "$mergeObjects": [
            "$$v",
            {
                "stock": {"$add": ["$$v.stock", delta]},
                **alerts.claim(delta, now=now, claim_id=claim_id, of="$$v."),
            },
        ]
    }
    after = await _products().find_one_and_update(
        pipelines.variant_match(product_id, variant_id, guard, **(product_guard or {})),
        [
            pipelines.materialise(product_id),
            {
                "$set": {
                    "variants": pipelines.map_variants({"$eq": ["$$v.id", variant_id]}, moved),
                    "updated_at": now,
                }
            },
            pipelines.rederive_flags(),
        ],
        return_document=ReturnDocument.AFTER,
        session=session,
    )
    if after is None:
        return None
    product = _product(after)
    variant = product.variant(variant_id)
    assert variant is not None  # the guard matched it
    movement = StockMovement(
        product_id=product.id,
        variant_id=variant.id,
        sku=variant.sku,
        delta=delta,
        stock_after=variant.stock,
        reason=reason,
        actor=actor,
        order_id=order_id,
        at=now,
    )
    await db.insert(movement, session=session)
    change = StockChange(
        product=product,
        variant=variant,
        stock_before=variant.stock - delta,
        movement=movement,
        alert_claimed=variant.low_stock_alert_id == claim_id,
    )
    if change.alert_claimed:
        await alerts.alert_low_stock(product, variant, session=session)
    await events.stock_moved(product, variant, stock_before=change.stock_before, session=session)
    # List pages (and option filters with `in_stock`) show the variants' stock status: a
    # variant moving between in, low and out of stock bumps the catalog version (in this
    # session, after the write, as the cache requires).
    await cache.stock_changed(
        before=change.stock_before,
        after=variant.stock,
        threshold=variant.low_stock_threshold,
        session=session,
    )
    return change


async def _set(
    *,
    product_id: PydanticObjectId,
    variant_id: str | None,
    stock: int,
    reason: str,
    actor: str | None,
    record_unchanged: bool = True,
    session: Any = None,
) -> StockChange | None:
    """Set the stock of one variant (None: the product's only one): the delta from the
    stock we read, guarded by that stock still being there (a concurrent sale makes us read
    again). None when the product is gone."""
    for _ in range(SET_ATTEMPTS):
        current = await _products().find_one({"_id": product_id}, session=session)
        if current is None:
            return None
        product = _product(current)
        variant = _resolve(product, variant_id)
        delta = stock - variant.stock
        if delta == 0 and not record_unchanged:
            return StockChange(
                product=product, variant=variant, stock_before=variant.stock, movement=None
            )
        change = await _move(
            product_id=product_id,
            variant_id=variant.id,
            guard=variant.stock,
            delta=delta,
            reason=reason,
            actor=actor,
            order_id=None,
            session=session,
        )
        if change is not None:
            return change
    raise Conflict("The stock is changing too fast to set it; try again.")


def _resolve(product: Product, variant_id: str | None) -> Variant:
    """The variant a stock change names: NotFound for an unknown id, 422 `variant_required`
    when none is named and the product has several."""
    variant = product.variant(variant_id)
    if variant is not None:
        return variant
    if variant_id is not None:
        raise NotFound("No such variant of this product.")
    raise Invalid(
        "This product has several variants: say which one (variant_id).",
        code=ErrorCode.VARIANT_REQUIRED,
        errors=[{"loc": ["variant_id"], "msg": "required for a product with several variants"}],
        variants=[v.id for v in product.variants],
    )


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
                    },
                    "low_stock": {"$lte": ["$stock", pipelines.threshold_of("$")]},
                }
            },
        ],
    )
    if result.modified_count:
        await cache.bump_catalog_version()
    modified: int = result.modified_count
    return modified


async def migrate_variants(*, batch: int = 500) -> int:
    """Store the one variant of every product stored before variants (`quart
    variants-migrate`): the same stage a first stock movement runs, product by product (its
    literal id and sku), only on products without `variants`, so running it again changes
    nothing. Returns how many it migrated."""
    migrated = 0
    while True:
        ids = [
            row["_id"]
            async for row in _products().find(
                {"variants": {"$exists": False}}, {"_id": 1}, limit=batch
            )
        ]
        if not ids:
            break
        for product_id in ids:
            result = await _products().update_one(
                {"_id": product_id, "variants": {"$exists": False}},
                [pipelines.materialise(product_id)],
            )
            migrated += result.modified_count
            await _register_legacy_sku(product_id)
    if migrated:
        await cache.bump_catalog_version()
    return migrated


async def record_initial_stock(
    *,
    product_id: PydanticObjectId,
    stock: int,
    actor: str | None,
    variant: Variant | None = None,
    session: Any = None,
) -> StockMovement | None:
    """A new variant's first ledger row: its opening stock (reason `initial`), so that the
    deltas of every variant's ledger add up to its stock. None for an opening stock of 0.
    Written with the product's insert (`session=`); a variant created at or under its
    threshold starts flagged low (see Product) without an alert: nothing crossed."""
    if stock == 0:
        return None
    movement = StockMovement(
        product_id=product_id,
        variant_id=variant.id if variant is not None else None,
        sku=variant.sku if variant is not None else None,
        delta=stock,
        stock_after=stock,
        reason="initial",
        actor=actor,
    )
    await db.insert(movement, session=session)
    return movement


# -- the movements of orders -------------------------------------------------------------------


async def take_stock(
    *,
    product_id: PydanticObjectId,
    quantity: int,
    variant_id: str | None = None,
    reason: str = "sale",
    order_id: PydanticObjectId | None = None,
    actor: str | None = None,
    session: Any = None,
) -> StockChange | None:
    """Take `quantity` units of a variant (None: the one the product's id names, its only
    one) of an active product: the change (with the product after it), or None when it is
    archived, unknown or the variant has fewer than `quantity` in stock (then nothing
    changed). Writes the ledger row, and the low-stock alert when this takes the variant's
    stock to or under its threshold."""
    if quantity <= 0:
        raise ValueError("quantity must be positive")
    return await _move(
        product_id=product_id,
        variant_id=variant_id or str(product_id),
        guard={"$gte": quantity},
        product_guard={"status": "active"},
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
    variant_id: str | None = None,
    order_id: PydanticObjectId | None = None,
    actor: str | None = None,
    session: Any = None,
) -> StockChange | None:
    """Give `quantity` units of a variant back (cancel, expiry, refund, a failed checkout's
    compensation), archived products included. The change, or None when the product or the
    variant is gone. Writes the ledger row; going back above the threshold re-arms the
    variant's low-stock alert."""
    if quantity <= 0:
        raise ValueError("quantity must be positive")
    return await _move(
        product_id=product_id,
        variant_id=variant_id or str(product_id),
        delta=quantity,
        reason=reason,
        actor=actor,
        order_id=order_id,
        session=session,
    )


Wanted = tuple[PydanticObjectId, str | None, int]


async def shortages(wanted: Iterable[Wanted], *, session: Any = None) -> list[Shortage]:
    """What each (product, variant, quantity) asked for and what can be had now, for the 409
    of a refused checkout (read in its transaction, when there is one)."""
    asked = list(wanted)
    products = await products_by_id([product_id for product_id, _, _ in asked], session=session)
    found: list[Shortage] = []
    for product_id, variant_id, quantity in asked:
        product = products.get(product_id)
        variant = product.variant(variant_id or str(product_id)) if product else None
        found.append(
            Shortage(
                product_id=product_id,
                name=product.name if product is not None else None,
                requested=quantity,
                available=available(product, variant) if variant is not None else 0,
                variant_id=variant.id if variant is not None else variant_id,
                sku=variant.sku if variant is not None else None,
            )
        )
    return found


# -- the catalog's writes ----------------------------------------------------------------------


async def set_stock(
    *,
    product_id: PydanticObjectId,
    stock: int,
    reason: str,
    variant_id: str | None = None,
    actor: str | None = None,
    record_unchanged: bool = True,
    session: Any = None,
) -> StockChange | None:
    """Set a variant's stock (None: the product's only one; any status): the change, or
    None when the product is gone. `record_unchanged=False` writes no ledger row when the
    stock was already `stock` (an edit form that sends every field back)."""
    return await _set(
        product_id=product_id,
        variant_id=variant_id,
        stock=stock,
        reason=reason,
        actor=actor,
        record_unchanged=record_unchanged,
        session=session,
    )


async def set_low_stock_threshold(
    *,
    product_id: PydanticObjectId,
    threshold: int,
    variant_id: str | None = None,
    session: Any = None,
) -> Product | None:
    """Change the threshold of one variant (None: the product's and every variant's) and
    the `low_stock` flags in one update: the product after, or None when it is gone. Not a
    stock movement, so no ledger row and no alert (the admin who moves the threshold sees the
    product in the low-stock list at once); a variant the new threshold puts above its stock
    is re-armed."""
    which = {"$literal": True} if variant_id is None else {"$eq": ["$$v.id", variant_id]}
    changed = {"$mergeObjects": ["$$v", {"low_stock_threshold": {"$literal": threshold}}]}
    product_fields = {"low_stock_threshold": {"$literal": threshold}} if variant_id is None else {}
    after = await _products().find_one_and_update(
        {"_id": product_id},
        [
            pipelines.materialise(product_id),
            {
                "$set": {
                    **product_fields,
                    "variants": pipelines.map_variants(which, changed),
                    "updated_at": utcnow(),
                }
            },
            pipelines.rederive_flags(),
        ],
        return_document=ReturnDocument.AFTER,
        session=session,
    )
    if after is None:
        return None
    # The status may have moved with the threshold (a spare bump is cheap, a missed one not).
    await cache.bump_catalog_version(session=session)
    return _product(after)


# -- admin adjustments -------------------------------------------------------------------------


async def _refusal(
    product_id: PydanticObjectId, variant_id: str, delta: int, *, session: Any = None
) -> Exception:
    """Why a guarded delta matched nothing (read in the same transaction, when there is one)."""
    row = await _products().find_one({"_id": product_id}, session=session)
    if row is None:
        return NotFound("No such product.")
    product = _product(row)
    variant = product.variant(variant_id)
    if variant is None:
        return NotFound("No such variant of this product.")
    stock = variant.stock
    if stock + delta < 0:
        shortage = Shortage(
            product_id=product_id,
            name=product.name,
            requested=-delta,
            available=stock,
            variant_id=variant.id,
            sku=variant.sku,
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
    variant_id: str | None = None,
) -> StockChange:
    """An admin's adjustment of one variant (None: the product's only one): add or remove
    `delta` units, or set the stock to `set_to` (exactly one), in one transaction with its
    ledger row and any low-stock alert.

    Raises NotFound (product or variant); Invalid `variant_required` (422) when the product
    has several variants and none is named; InsufficientStock (409, nothing written) when
    `delta` would take the stock below 0; Conflict (409) when it would exceed the store's
    maximum stock.
    """
    if (delta is None) == (set_to is None):
        raise ValueError("exactly one of delta or set_to")
    oid = product_id

    async def work(session: Any) -> StockChange:
        row = await _products().find_one({"_id": oid}, session=session)
        if row is None:
            raise NotFound("No such product.")
        variant = _resolve(_product(row), variant_id)
        if set_to is not None:
            change = await _set(
                product_id=oid,
                variant_id=variant.id,
                stock=set_to,
                reason=reason,
                actor=actor,
                session=session,
            )
            if change is None:
                raise NotFound("No such product.")
            return change
        assert delta is not None  # exactly one of the two, checked above
        bound = {"$gte": -delta} if delta < 0 else {"$lte": MAX_STOCK - delta}
        moved = await _move(
            product_id=oid,
            variant_id=variant.id,
            guard=bound,
            delta=delta,
            reason=reason,
            actor=actor,
            order_id=None,
            session=session,
        )
        if moved is None:
            raise await _refusal(oid, variant.id, delta, session=session)
        return moved

    return await db.run_in_transaction(work)


# -- the variant set -----------------------------------------------------------------------------


async def store_variants(product_id: PydanticObjectId, *, session: Any = None) -> Product | None:
    """The product, its variants stored (a product stored before variants gets its one)."""
    stored = await _products().update_one(
        {"_id": product_id, "variants": {"$exists": False}},
        [pipelines.materialise(product_id)],
        session=session,
    )
    if stored.modified_count:
        await _register_legacy_sku(product_id, session=session)
    row = await _products().find_one({"_id": product_id}, session=session)
    return _product(row) if row is not None else None


async def _register_legacy_sku(product_id: PydanticObjectId, *, session: Any = None) -> None:
    """Claim the derived sku of a stored legacy variant in the sku register (unless some
    product already holds it: then the admin renames one)."""
    only = Variant(id=str(product_id), sku=legacy_sku(product_id))
    try:
        await register_skus(product_id, after=[only], session=session)
    except Conflict:
        log.warning("sku %s of product %s is held by another product", only.sku, product_id)


async def write_variant_set(
    *,
    before: Product,
    options: list[Any],
    variants: list[Variant],
    base_price: int,
    actor: str | None,
    session: Any = None,
) -> Product:
    """Replace a product's options and variants (an admin's edit): variants kept (same id)
    keep the stock they have, guarded by it being what `before` read (a concurrent sale
    makes this a 409 to retry); removed ones leave the ledger with a `variant removed` row;
    then every variant whose wanted stock differs is set through the ledger (`initial` for a
    new one, `admin edit` for a kept one). Product `price`, `stock` and `low_stock` are
    derived in the same write. Returns the product after."""
    current = {variant.id: variant for variant in before.variants}
    wanted = {variant.id: variant.stock for variant in variants}
    stored: list[dict[str, Any]] = []
    for variant in variants:
        kept = current.get(variant.id)
        stock_now = kept.stock if kept is not None else 0
        row = variant.model_copy(update={"stock": stock_now})
        if kept is not None:
            row.low_stock_alerted_at = kept.low_stock_alerted_at
            row.low_stock_alert_id = kept.low_stock_alert_id
        row.low_stock = stock_now <= row.low_stock_threshold
        stored.append(row.model_dump())
    guards = [
        {"variants": {"$elemMatch": {"id": variant.id, "stock": variant.stock}}}
        for variant in before.variants
    ]
    prices = [v.price if v.price is not None else base_price for v in variants]
    now = utcnow()
    result = await _products().update_one(
        {"_id": before.id, "$and": guards},
        {
            "$set": {
                "options": [o.model_dump() if hasattr(o, "model_dump") else o for o in options],
                "variants": stored,
                "base_price": base_price,
                "price": min(prices),
                "stock": sum(row["stock"] for row in stored),
                "low_stock": any(row["low_stock"] for row in stored),
                "updated_at": now,
            }
        },
        session=session,
    )
    if not result.matched_count:
        raise Conflict("The stock changed while the variants were edited; try again.")
    for variant in before.variants:
        if variant.id not in wanted and variant.stock:
            removed = StockMovement(
                product_id=before.id,
                variant_id=variant.id,
                sku=variant.sku,
                delta=-variant.stock,
                stock_after=0,
                reason="variant removed",
                actor=actor,
                at=now,
            )
            await db.insert(removed, session=session)
    for variant in variants:
        kept = current.get(variant.id)
        if variant.stock == (kept.stock if kept is not None else 0):
            continue
        await _set(
            product_id=before.id,
            variant_id=variant.id,
            stock=variant.stock,
            reason="admin edit" if kept is not None else "initial",
            actor=actor,
            session=session,
        )
    await cache.bump_catalog_version(session=session)
    row = await _products().find_one({"_id": before.id}, session=session)
    return _product(row)
