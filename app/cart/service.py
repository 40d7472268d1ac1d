"""The shopper's cart.

Lines hold a product id and a quantity; names, prices and availability are read live from
the catalog on every view, so a cart always shows current prices. Writes are read-modify-
write of the lines guarded by `version` (optimistic concurrency): a write that lost a race
re-reads and tries again, so concurrent adds all land. A user without a cart has an empty
one; the document is created by the first add, never by a read.

Totals: `subtotal` and `item_count` cover the *available* lines only (the ones checkout can
buy as they stand). An unavailable line (archived or gone product, or fewer units in stock
than its quantity) is still listed, priced at the current price where there is one, with
`available: false` and `available_quantity`; checkout refuses the cart until the shopper
lowers or removes it, so the totals already show what the order will cost then.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterable

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError
from quart import current_app

from app.cart.models import MAX_LINE_QUANTITY, MAX_LINES, Cart, CartLine
from app.cart.schemas import CartItemOut, CartOut
from app.catalog import products as catalog
from app.catalog.models import Product, Variant
from app.core.clock import utcnow
from app.core.ids import parse_object_id
from app.errors import Conflict, ErrorCode, Invalid, NotFound
from app.inventory import stock as inventory
from app.inventory.errors import InsufficientStock, Shortage

# Attempts of one write before giving up with 409: enough for a burst of concurrent adds
# from one shopper (several tabs, a double click), each losing round backing off a little.
WRITE_ATTEMPTS = 8
GONE_PRODUCT_NAME = "Product no longer available"

Products = dict[PydanticObjectId, Product]  # from catalog.products_by_id
Edit = Callable[[list[CartLine], Products], None]


async def checkout_lines(*, user_id: PydanticObjectId, session=None) -> list[CartLine]:
    """The cart's lines as checkout sees them (inside its transaction)."""
    cart = await Cart.find_one({"user_id": user_id}, session=session)
    return list(cart.lines) if cart else []


async def empty(*, user_id: PydanticObjectId, session=None) -> None:
    """Empty the cart and take its discount code off (checkout does this in its
    transaction)."""
    await Cart.get_pymongo_collection().update_one(
        {"user_id": user_id},
        {
            "$set": {"lines": [], "discount_code": None, "updated_at": utcnow()},
            "$inc": {"version": 1},
        },
        session=session,
    )


# -- views -----------------------------------------------------------------------------------


def _store_currency() -> str:
    return current_app.config["SETTINGS"].STORE_CURRENCY


def _variant(product: Product | None, variant_id: str) -> Variant | None:
    return product.variant(variant_id) if product is not None else None


def _buyable(product: Product | None, variant: Variant | None) -> int:
    """How many units of `variant` one line can hold now."""
    if variant is None:
        return 0
    return min(inventory.available(product, variant), MAX_LINE_QUANTITY)


def _priced(lines: list[CartLine], products: Products) -> CartOut:
    items: list[CartItemOut] = []
    subtotal = item_count = 0
    for line in lines:
        product = products.get(line.product_id)
        variant = _variant(product, line.variant_key)
        can_hold = _buyable(product, variant)
        available = line.quantity <= can_hold
        unit_price = (
            product.price_of(variant)
            if product is not None and variant is not None
            else (product.price if product is not None else 0)
        )
        line_total = unit_price * line.quantity
        if available:
            subtotal += line_total
            item_count += line.quantity
        items.append(
            CartItemOut(
                product_id=str(line.product_id),
                variant_id=line.variant_key,
                sku=variant.sku if variant is not None else None,
                options=product.options_of(variant)
                if product is not None and variant is not None
                else {},
                name=product.name if product is not None else GONE_PRODUCT_NAME,
                slug=product.slug if product is not None else None,
                image=product.images[0].url if product is not None and product.images else None,
                unit_price=unit_price,
                quantity=line.quantity,
                line_total=line_total,
                available=available,
                available_quantity=can_hold,
            )
        )
    return CartOut(
        items=items, subtotal=subtotal, item_count=item_count, currency=_store_currency()
    )


async def view(*, user_id: PydanticObjectId, session=None) -> CartOut:
    """The cart priced at current prices (an empty one when the user has none)."""
    cart = await Cart.find_one({"user_id": user_id}, session=session)
    lines = cart.lines if cart else []
    products = await catalog.products_by_id([line.product_id for line in lines], session=session)
    return _priced(lines, products)


# -- writes ----------------------------------------------------------------------------------


async def _edit(
    user_id: PydanticObjectId,
    edit: Edit,
    *,
    also: Iterable[PydanticObjectId] = (),
    session=None,
) -> CartOut:
    """Apply `edit(lines, products)` to a fresh copy of the lines and save it unless the cart
    changed meanwhile; then re-read and retry. `products` holds the lines' products and `also`.
    `edit` raises to refuse (nothing is written). A cart is created only when `edit` leaves
    lines in it, and two first writes racing on the unique user index create one cart."""
    collection = Cart.get_pymongo_collection()
    for attempt in range(WRITE_ATTEMPTS):
        if attempt:
            await asyncio.sleep(random.uniform(0, 0.002 * 2**attempt))  # noqa: S311 (jitter)
        cart = await Cart.find_one({"user_id": user_id}, session=session)
        lines = [line.model_copy() for line in cart.lines] if cart else []
        wanted = {*(line.product_id for line in lines), *also}
        products = await catalog.products_by_id(wanted, session=session)
        edit(lines, products)
        now = utcnow()
        if cart is None:
            if not lines:
                return _priced(lines, products)
            try:
                await Cart(user_id=user_id, lines=lines, version=1, updated_at=now).insert(
                    session=session
                )
                return _priced(lines, products)
            except DuplicateKeyError:
                continue  # another request created the cart first: edit that one
        saved = await collection.update_one(
            {"_id": cart.id, "version": cart.version},
            {
                "$set": {"lines": [line.model_dump() for line in lines], "updated_at": now},
                "$inc": {"version": 1},
            },
            session=session,
        )
        if saved.matched_count:
            return _priced(lines, products)
    raise Conflict("The cart is being changed by another request; try again.")


def _find_line(lines: list[CartLine], item: PydanticObjectId | str) -> CartLine | None:
    """The line `/cart/items/{id}` names: a variant id, or a product id when that product has
    one line in the cart."""
    item_id = str(item)
    by_variant = next((line for line in lines if line.variant_key == item_id), None)
    if by_variant is not None:
        return by_variant
    product_id = parse_object_id(item_id)
    of_product = [line for line in lines if line.product_id == product_id]
    return of_product[0] if len(of_product) == 1 else None


def _short_of_stock(
    product_id: PydanticObjectId,
    product: Product | None,
    variant: Variant | None,
    *,
    requested: int,
    in_cart: int,
) -> InsufficientStock:
    shortage = Shortage(
        product_id=product_id,
        name=product.name if product is not None else None,
        requested=requested,
        available=_buyable(product, variant),
        variant_id=variant.id if variant is not None else None,
        sku=variant.sku if variant is not None else None,
    )
    return InsufficientStock(
        f"Only {shortage.available} of this product can be bought now; {requested} were asked for.",
        shortages=[shortage],
        in_cart=in_cart,
    )


async def add_item(
    *,
    user_id: PydanticObjectId,
    product_id: str,
    quantity: int,
    variant_id: str | None = None,
    session=None,
) -> CartOut:
    """Add `quantity` units of a product's variant (None: its only one), merged into its
    line when there is one.

    Raises NotFound (unknown or archived product, unknown variant), Invalid
    `variant_required` (422: a product with several variants and no `variant_id`),
    Conflict `cart_quantity_limit` (the line
    would hold more than 99), Conflict `cart_full` (a new line beyond MAX_LINES), Conflict
    `insufficient_stock` (more than in stock, counting what is already in the cart, with
    `available`), Conflict when the cart kept changing underneath us.
    """
    wanted = parse_object_id(product_id)
    if wanted is None:
        raise NotFound("No such product.")

    def edit(lines: list[CartLine], products: Products) -> None:
        product = products.get(wanted)
        if product is None or product.status != "active":
            raise NotFound("No such product.")
        variant = product.variant(variant_id)
        if variant is None:
            if variant_id is not None:
                raise NotFound("No such variant of this product.")
            raise Invalid(
                "This product comes in several variants: choose one (variant_id).",
                code=ErrorCode.VARIANT_REQUIRED,
                errors=[{"loc": ["variant_id"], "msg": "required for this product"}],
                variants=[v.id for v in product.variants],
            )
        line = next((li for li in lines if li.variant_key == variant.id), None)
        in_cart = line.quantity if line else 0
        merged = in_cart + quantity
        if merged > MAX_LINE_QUANTITY:
            message = (
                f"A cart line holds at most {MAX_LINE_QUANTITY} units; "
                f"{in_cart} are already in the cart."
            )
            raise Conflict(
                message,
                code=ErrorCode.CART_QUANTITY_LIMIT,
                max_quantity=MAX_LINE_QUANTITY,
                in_cart=in_cart,
                errors=[{"loc": ["quantity"], "msg": message}],
            )
        if line is None and len(lines) >= MAX_LINES:
            raise Conflict(
                f"A cart holds at most {MAX_LINES} different products.",
                code=ErrorCode.CART_FULL,
                max_lines=MAX_LINES,
            )
        if merged > inventory.available(product, variant):
            raise _short_of_stock(wanted, product, variant, requested=merged, in_cart=in_cart)
        if line is None:
            lines.append(CartLine(product_id=wanted, variant_id=variant.id, quantity=merged))
        else:
            line.quantity = merged

    return await _edit(user_id, edit, also=[wanted], session=session)


async def set_quantity(
    *, user_id: PydanticObjectId, product_id: PydanticObjectId, quantity: int, session=None
) -> CartOut:
    """Set a line's quantity; 0 removes the line. `product_id` names the line: a variant
    id, or a product id when that product has one line.

    Raises NotFound (no such line in the cart), Conflict `insufficient_stock` (more
    than can be bought now, with `available`; 0 for an archived or gone product, whose line
    can only be removed), Conflict when the cart kept changing underneath us.
    """

    def edit(lines: list[CartLine], products: Products) -> None:
        line = _find_line(lines, product_id)
        if line is None:
            raise NotFound("This product is not in the cart.")
        if quantity == 0:
            lines.remove(line)
            return
        product = products.get(line.product_id)
        variant = _variant(product, line.variant_key)
        if quantity > _buyable(product, variant):
            raise _short_of_stock(
                line.product_id, product, variant, requested=quantity, in_cart=line.quantity
            )
        line.quantity = quantity

    return await _edit(user_id, edit, session=session)


async def remove_item(
    *, user_id: PydanticObjectId, product_id: PydanticObjectId, session=None
) -> CartOut:
    """Remove a product's line. Raises NotFound (no such line), Conflict when the cart kept
    changing underneath us."""

    def edit(lines: list[CartLine], products: Products) -> None:
        line = _find_line(lines, product_id)
        if line is None:
            raise NotFound("This product is not in the cart.")
        lines.remove(line)

    return await _edit(user_id, edit, session=session)


async def clear(*, user_id: PydanticObjectId, session=None) -> CartOut:
    """Empty the cart (a no-op without one); the now empty cart."""
    await empty(user_id=user_id, session=session)
    return _priced([], {})
