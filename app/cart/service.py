"""The shopper's cart: a signed-in user's (one per user) or a guest's (`GuestCart`, found by
the SHA-256 of its `Cart-Token`). `Owner` says whose; everything below works on either.

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
from dataclasses import dataclass
from typing import Any

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError
from quart import current_app

from app.cart.models import (
    GUEST_CART_TOUCH_EVERY,
    GUEST_CART_TTL,
    MAX_LINE_QUANTITY,
    MAX_LINES,
    Cart,
    CartLine,
    GuestCart,
)
from app.cart.schemas import CartItemOut, CartOut
from app.catalog import products as catalog
from app.catalog.models import Product, Variant
from app.core import db
from app.core.clock import as_utc, utcnow
from app.core.guest import CappedLineOut, CapReason, CartMergeOut
from app.core.ids import parse_object_id
from app.core.security import new_opaque_token, token_digest
from app.errors import Conflict, ErrorCode, Invalid, NotFound
from app.inventory import stock as inventory
from app.inventory.errors import InsufficientStock, Shortage

# Attempts of one write before giving up with 409: enough for a burst of concurrent adds
# from one shopper (several tabs, a double click), each losing round backing off a little.
WRITE_ATTEMPTS = 8
GONE_PRODUCT_NAME = "Product no longer available"

Products = dict[PydanticObjectId, Product]  # from catalog.products_by_id
Edit = Callable[[list[CartLine], Products], None]


class CartNotFound(NotFound):
    code = ErrorCode.CART_NOT_FOUND


def cart_not_found() -> CartNotFound:
    # One answer for a token never issued, expired, merged or mistyped: no oracle.
    return CartNotFound("No such cart: the cart token is unknown or has expired.")


@dataclass(frozen=True)
class Owner:
    """Whose cart: a user's (`user_id`), or a guest's (`token`, the `Cart-Token` as the client
    sent it, or the one this request issues with `new=True`: the cart does not exist yet and
    is inserted by the first write that leaves lines in it)."""

    user_id: PydanticObjectId | None = None
    token: str | None = None
    new: bool = False

    @classmethod
    def of_user(cls, user_id: PydanticObjectId) -> Owner:
        return cls(user_id=user_id)

    @classmethod
    def of_guest(cls, token: str) -> Owner:
        return cls(token=token)

    @classmethod
    def new_guest(cls) -> Owner:
        return cls(token=new_opaque_token(), new=True)

    @property
    def is_guest(self) -> bool:
        return self.user_id is None

    @property
    def model(self) -> type[Cart] | type[GuestCart]:
        return GuestCart if self.is_guest else Cart

    @property
    def query(self) -> dict[str, Any]:
        if self.is_guest:
            return {"token_hash": token_digest(self.token or "")}
        return {"user_id": self.user_id}

    def new_cart(self, lines: list[CartLine], now) -> Cart | GuestCart:
        if self.is_guest:
            return GuestCart(
                token_hash=token_digest(self.token or ""),
                lines=lines,
                version=1,
                updated_at=now,
                last_used=now,
            )
        return Cart(user_id=self.user_id, lines=lines, version=1, updated_at=now)


def _live(cart: Cart | GuestCart | None) -> Cart | GuestCart | None:
    """A guest cart past its 30 days is gone even before the TTL monitor deletes it."""
    if isinstance(cart, GuestCart) and as_utc(cart.last_used) <= utcnow() - GUEST_CART_TTL:
        return None
    return cart


async def _find(owner: Owner, *, session=None) -> Cart | GuestCart | None:
    """The owner's cart. A guest's must exist (unless this request issues it): CartNotFound."""
    if owner.is_guest and owner.new:
        return None
    model: type[Cart] | type[GuestCart] = owner.model
    cart = _live(await db.find_one(model, owner.query, session=session))
    if cart is None and owner.is_guest:
        raise cart_not_found()
    return cart


async def _touch(cart: Cart | GuestCart | None) -> None:
    """Keep a guest cart that is being read alive (at most one write per hour)."""
    if not isinstance(cart, GuestCart):
        return
    now = utcnow()
    if as_utc(cart.last_used) > now - GUEST_CART_TOUCH_EVERY:
        return
    await GuestCart.get_pymongo_collection().update_one(
        {"_id": cart.id, "last_used": {"$lt": now - GUEST_CART_TOUCH_EVERY}},
        {"$set": {"last_used": now}},
    )


async def guest_cart_id(owner: Owner) -> PydanticObjectId:
    """The id of a guest's existing cart (guest checkout keys its Idempotency-Key on it)."""
    cart = await _find(owner)
    if cart is None or cart.id is None:  # a guest without a cart raised CartNotFound already
        raise cart_not_found()
    return cart.id


@dataclass(frozen=True)
class CheckoutContents:
    """What checkout takes from the cart, in one read inside its transaction."""

    lines: list[CartLine]
    discount_code: str | None


async def checkout_contents(*, owner: Owner, session=None) -> CheckoutContents:
    """The cart's lines and discount code as checkout sees them (inside its transaction)."""
    cart = await _find(owner, session=session)
    if cart is None:
        return CheckoutContents(lines=[], discount_code=None)
    return CheckoutContents(lines=list(cart.lines), discount_code=cart.discount_code)


async def empty(*, owner: Owner, session=None) -> None:
    """Empty the cart and take its discount code off (checkout does this in its
    transaction)."""
    now = utcnow()
    touched = {"last_used": now} if owner.is_guest else {}
    await owner.model.get_pymongo_collection().update_one(
        owner.query,
        {
            "$set": {"lines": [], "discount_code": None, "updated_at": now, **touched},
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


def _priced(lines: list[CartLine], products: Products, owner: Owner | None = None) -> CartOut:
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
        items=items,
        subtotal=subtotal,
        item_count=item_count,
        currency=_store_currency(),
        cart_token=owner.token if owner is not None and owner.is_guest else None,
    )


async def view(*, owner: Owner, session=None) -> CartOut:
    """The cart priced at current prices (an empty one when the user has none; a guest's
    must exist: CartNotFound)."""
    cart = await _find(owner, session=session)
    await _touch(cart)
    lines = cart.lines if cart else []
    products = await catalog.products_by_id([line.product_id for line in lines], session=session)
    return _priced(lines, products, owner)


# -- writes ----------------------------------------------------------------------------------


async def _edit(
    owner: Owner,
    edit: Edit,
    *,
    also: Iterable[PydanticObjectId] = (),
    session=None,
) -> CartOut:
    """Apply `edit(lines, products)` to a fresh copy of the lines and save it unless the cart
    changed meanwhile; then re-read and retry. `products` holds the lines' products and `also`.
    `edit` raises to refuse (nothing is written). A cart is created only when `edit` leaves
    lines in it, and two first writes racing on the unique user index create one cart. A
    guest's cart must exist (CartNotFound) unless `owner.new`: then the first write inserts
    it under the new token."""
    collection = owner.model.get_pymongo_collection()
    for attempt in range(WRITE_ATTEMPTS):
        if attempt:
            await asyncio.sleep(random.uniform(0, 0.002 * 2**attempt))  # noqa: S311 (jitter)
        cart = await _find(owner, session=session)
        lines = [line.model_copy() for line in cart.lines] if cart else []
        wanted = {*(line.product_id for line in lines), *also}
        products = await catalog.products_by_id(wanted, session=session)
        edit(lines, products)
        now = utcnow()
        if cart is None:
            if not lines:
                return _priced(lines, products, owner)
            try:
                await owner.new_cart(lines, now).insert(session=session)
                return _priced(lines, products, owner)
            except DuplicateKeyError:
                if owner.is_guest:
                    raise  # a fresh 256-bit token never collides: no race to absorb here
                continue  # another request created the cart first: edit that one
        touched = {"last_used": now} if owner.is_guest else {}
        saved = await collection.update_one(
            {"_id": cart.id, "version": cart.version},
            {
                "$set": {
                    "lines": [line.model_dump() for line in lines],
                    "updated_at": now,
                    **touched,
                },
                "$inc": {"version": 1},
            },
            session=session,
        )
        if saved.matched_count:
            return _priced(lines, products, owner)
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
    owner: Owner,
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

    return await _edit(owner, edit, also=[wanted], session=session)


async def set_quantity(
    *, owner: Owner, product_id: PydanticObjectId, quantity: int, session=None
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

    return await _edit(owner, edit, session=session)


async def remove_item(*, owner: Owner, product_id: PydanticObjectId, session=None) -> CartOut:
    """Remove a product's line. Raises NotFound (no such line), Conflict when the cart kept
    changing underneath us."""

    def edit(lines: list[CartLine], products: Products) -> None:
        line = _find_line(lines, product_id)
        if line is None:
            raise NotFound("This product is not in the cart.")
        lines.remove(line)

    return await _edit(owner, edit, session=session)


async def clear(*, owner: Owner, session=None) -> CartOut:
    """Empty the cart (a no-op without one); the now empty cart."""
    await _find(owner, session=session)  # a guest's unknown token is 404
    await empty(owner=owner, session=session)
    return _priced([], {}, owner)


# -- merging a guest cart into an account's --------------------------------------------------


async def merge(*, user_id: PydanticObjectId, token: str) -> tuple[CartOut, CartMergeOut]:
    """Move a guest cart's lines into the user's cart and delete the guest cart, in one
    transaction: the user's cart as it is now, and what was capped.

    Each guest line adds its quantity to the user's line for the same variant, capped by what
    can be bought now (stock, at most 99 a line) and by MAX_LINES; a line already in the
    user's cart is never lowered. Deleting the guest cart is the claim: of two merges of one
    token (a double submit, a login racing `POST /cart/merge`) one deletes it and merges, the
    other finds nothing (CartNotFound) and changes nothing, so no quantity is added twice.
    """
    guest = Owner.of_guest(token)
    user = Owner.of_user(user_id)

    async def work(session) -> tuple[CartOut, CartMergeOut]:
        row = await GuestCart.get_pymongo_collection().find_one_and_delete(
            guest.query, session=session
        )
        claimed = _live(GuestCart.model_validate(row)) if row is not None else None
        if claimed is None:
            raise cart_not_found()
        incoming = list(claimed.lines)
        capped: list[CappedLineOut] = []
        added_in_full = [0]

        def edit(lines: list[CartLine], products: Products) -> None:
            capped.clear()  # the edit may run again on a fresh copy of the lines
            added_in_full[0] = 0
            reason: CapReason
            for guest_line in incoming:
                product = products.get(guest_line.product_id)
                variant = _variant(product, guest_line.variant_key)
                key = guest_line.variant_key
                line = next((li for li in lines if li.variant_key == key), None)
                in_cart = line.quantity if line else 0
                can_hold = _buyable(product, variant)
                wanted = in_cart + guest_line.quantity
                if can_hold == 0:
                    target, reason = in_cart, "unavailable"
                elif line is None and len(lines) >= MAX_LINES:
                    target, reason = 0, "cart_full"
                elif wanted > can_hold:
                    reason = "line_limit" if can_hold == MAX_LINE_QUANTITY else "stock"
                    target = max(can_hold, in_cart)
                else:
                    target, reason = wanted, "stock"  # added in full: no reason needed
                added = max(target - in_cart, 0)
                if added and line is None:
                    lines.append(
                        CartLine(
                            product_id=guest_line.product_id,
                            variant_id=guest_line.variant_id,
                            quantity=target,
                        )
                    )
                elif added and line is not None:
                    line.quantity = target
                if added == guest_line.quantity:
                    added_in_full[0] += 1
                    continue
                capped.append(
                    CappedLineOut(
                        product_id=str(guest_line.product_id),
                        variant_id=key,
                        name=product.name if product is not None else GONE_PRODUCT_NAME,
                        requested=guest_line.quantity,
                        added=added,
                        quantity=target,
                        reason=reason,
                    )
                )

        cart = await _edit(user, edit, also=[line.product_id for line in incoming], session=session)
        if claimed.discount_code:
            # The guest's discount code comes along unless the account's cart has one.
            await Cart.get_pymongo_collection().update_one(
                {"user_id": user_id, "discount_code": None},
                {"$set": {"discount_code": claimed.discount_code}},
                session=session,
            )
        report = CartMergeOut(merged=True, lines_added=added_in_full[0], capped=list(capped))
        return cart, report

    return await db.run_in_transaction(work)


async def merge_at_sign_in(user_id: PydanticObjectId, token: str) -> CartMergeOut:
    """A login's or registration's merge (registered with auth by create_app): a token that
    finds no cart (expired, merged already by a double submit) does not fail the sign-in,
    it answers `merged: false`."""
    try:
        _, report = await merge(user_id=user_id, token=token)
    except NotFound:
        return CartMergeOut(merged=False, lines_added=0, capped=[])
    return report
