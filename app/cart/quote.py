"""The priced cart: what the pricing function needs, loaded in one batch, and its answer.

The cart's quote (`GET /cart/quote`), the code on the cart (`POST/DELETE /cart/discount`) and
checkout all price through `price_lines`, so the shopper is shown exactly what checkout
charges. A quote is lenient (the cheapest method when none is chosen; a code that does not
apply is reported, not applied); checkout is strict (`strict=True`: a missing or foreign
method, or a code that does not apply, is refused with nothing changed).

Queries per call, whatever the cart holds: the destination's tax rates (one), its shipping
methods (one), the code and the customer's uses of it (at most two).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from beanie import PydanticObjectId
from quart import current_app

from app.cart.models import Cart, GuestCart
from app.cart.schemas import QuoteDiscountOut, QuoteLineOut, QuoteOut
from app.cart.service import Owner, _find, _priced  # the cart's own view and lookup
from app.catalog import products as catalog
from app.catalog.models import Product
from app.charges import discounts, shipping, taxes
from app.charges.discounts import DiscountInvalid
from app.charges.models import Discount, ShippingMethod
from app.core.clock import utcnow
from app.errors import ErrorCode, Invalid
from app.pricing.engine import Breakdown, LineInput, ShippingInput, WeightTier, price


@dataclass(frozen=True)
class PricedLine:
    """One line as the pricing step takes it: the product (tax class, weight, category) and
    the unit price charged (the variant's own where it has one)."""

    product: Product
    unit_price: int
    quantity: int


@dataclass(frozen=True)
class Priced:
    breakdown: Breakdown
    method: ShippingMethod | None
    methods: list[ShippingMethod]
    discount: Discount | None  # the code applied, if any
    code: str | None  # the code asked for
    refused: str | None  # why that code was not applied


def _shipping_input(method: ShippingMethod) -> ShippingInput:
    return ShippingInput(
        id=str(method.id),
        name=method.name,
        price=method.price,
        free_over=method.free_over,
        weight_tiers=tuple(WeightTier(t.up_to_grams, t.price) for t in method.weight_tiers),
    )


def _line_input(index: int, line: PricedLine) -> LineInput:
    product = line.product
    return LineInput(
        key=str(index),
        product_id=str(product.id),
        unit_price=line.unit_price,
        quantity=line.quantity,
        tax_class=product.tax_class,
        category_ids=frozenset(str(c) for c in product.category_path),
        weight_grams=product.weight_grams or 0,
    )


def method_unavailable() -> Invalid:
    return Invalid(
        "This shipping method does not ship to that address.",
        code=ErrorCode.SHIPPING_METHOD_UNAVAILABLE,
        errors=[{"loc": ["shipping_method_id"], "msg": "not available for this destination"}],
    )


async def price_lines(
    lines: Sequence[PricedLine],
    *,
    country: str | None,
    region: str | None,
    shipping_method_id: PydanticObjectId | None,
    code: str | None,
    customer: str | None,
    strict: bool,
    session: Any = None,
) -> Priced:
    """Price `lines` for a destination, method and code.

    Raises Invalid `shipping_method_unavailable` (a method that does not ship there),
    and when `strict`: Invalid `shipping_method_required` (the destination has methods and
    none was chosen), DiscountInvalid (the code cannot be used, with its `reason`).
    """
    methods = await shipping.methods_for(country=country, session=session) if country else []
    method: ShippingMethod | None = None
    if shipping_method_id is not None:
        method = next((m for m in methods if m.id == shipping_method_id), None)
        if method is None:
            raise method_unavailable()
    elif methods:
        if strict:
            raise Invalid(
                "Choose a shipping method for this address.",
                code=ErrorCode.SHIPPING_METHOD_REQUIRED,
                errors=[{"loc": ["shipping_method_id"], "msg": "required for this destination"}],
                shipping_methods=[str(m.id) for m in methods],
            )
        method = methods[0]  # the cheapest
    discount: Discount | None = None
    refused: str | None = None
    if code:
        try:
            discount = await discounts.usable(
                code, customer=customer, now=utcnow(), session=session
            )
        except DiscountInvalid as error:
            if strict:
                raise
            refused = str(error.extra["reason"])
    settings = current_app.config["SETTINGS"]
    breakdown = price(
        [_line_input(i, line) for i, line in enumerate(lines)],
        tax_rates=await taxes.rates_at(country=country, region=region, session=session),
        prices_include_tax=settings.PRICES_INCLUDE_TAX,
        shipping=_shipping_input(method) if method is not None else None,
        discount=discounts.terms(discount) if discount is not None else None,
    )
    if discount is not None and breakdown.discount_refused is not None:
        if strict:
            raise DiscountInvalid(breakdown.discount_refused, discount.code)
        refused, discount = breakdown.discount_refused, None
    return Priced(
        breakdown=breakdown,
        method=method,
        methods=methods,
        discount=discount,
        code=code,
        refused=refused,
    )


# -- the cart's quote --------------------------------------------------------------------------


def customer_of(owner: Owner) -> str | None:
    """The key a per-customer limit counts a shopper's uses on: the account's; a guest's
    email is known only at checkout, which checks it there."""
    return f"user:{owner.user_id}" if owner.user_id is not None else None


async def _cart_lines(
    cart: Cart | GuestCart | None, *, session: Any = None
) -> list[tuple[Any, PricedLine]]:
    """The cart's available lines (what checkout would buy as they stand), with their
    current products and prices: one query for all the products."""
    lines = cart.lines if cart else []
    products = await catalog.products_by_id([line.product_id for line in lines], session=session)
    view = _priced(lines, products)
    return [
        (
            item,
            PricedLine(products[PydanticObjectId(item.product_id)], item.unit_price, item.quantity),
        )
        for item in view.items
        if item.available
    ]


def quote_out(items: Sequence[Any], priced: Priced) -> QuoteOut:
    breakdown = priced.breakdown
    currency = str(current_app.config["SETTINGS"].STORE_CURRENCY)
    discount_out = None
    if priced.code:
        applied = priced.discount
        discount_out = QuoteDiscountOut(
            code=applied.code if applied is not None else priced.code,
            applied=applied is not None,
            reason=priced.refused,
            message=discounts.REASONS.get(priced.refused) if priced.refused else None,
        )
    return QuoteOut(
        lines=[
            QuoteLineOut(
                product_id=item.product_id,
                variant_id=item.variant_id,
                name=item.name,
                unit_price=item.unit_price,
                quantity=item.quantity,
                line_total=line.subtotal,
                discount=line.discount,
                tax=line.tax,
                tax_class=line.tax_class,
                tax_rate_bp=line.tax_rate_ppm / 100,
                total=line.total,
            )
            for item, line in zip(items, breakdown.lines, strict=True)
        ],
        subtotal=breakdown.subtotal,
        discount_total=breakdown.discount_total,
        shipping_total=breakdown.shipping_total,
        shipping_discount=breakdown.shipping_discount,
        shipping_tax=breakdown.shipping_tax,
        tax_total=breakdown.tax_total,
        total=breakdown.total,
        currency=currency,
        prices_include_tax=breakdown.prices_include_tax,
        shipping_method=shipping.public_out(priced.method) if priced.method else None,
        shipping_methods=[shipping.public_out(m) for m in priced.methods],
        discount=discount_out,
    )


async def quote(
    *,
    owner: Owner,
    country: str | None = None,
    region: str | None = None,
    shipping_method_id: PydanticObjectId | None = None,
) -> QuoteOut:
    """The cart priced for a destination and method, with the code on the cart (reported,
    not applied, when it no longer applies). Raises CartNotFound (a guest's unknown token),
    Invalid `shipping_method_unavailable`."""
    cart = await _find(owner)
    lines = await _cart_lines(cart)
    priced = await price_lines(
        [line for _, line in lines],
        country=country,
        region=region,
        shipping_method_id=shipping_method_id,
        code=cart.discount_code if cart else None,
        customer=customer_of(owner),
        strict=False,
    )
    return quote_out([item for item, _ in lines], priced)


async def apply_code(*, owner: Owner, code: str) -> QuoteOut:
    """Put a code on the cart (replacing any). Raises DiscountInvalid with its `reason` when
    the code cannot be used on this cart now (nothing changes), CartNotFound."""
    cart = await _find(owner)
    lines = await _cart_lines(cart)
    priced = await price_lines(
        [line for _, line in lines],
        country=None,
        region=None,
        shipping_method_id=None,
        code=code,
        customer=customer_of(owner),
        strict=False,
    )
    if priced.discount is None:
        raise DiscountInvalid(priced.refused or "unknown", code)
    # A cart with lines exists (a code applies to something): store the code as written.
    await owner.model.get_pymongo_collection().update_one(
        owner.query, {"$set": {"discount_code": priced.discount.code}}
    )
    return await quote(owner=owner)


async def remove_code(*, owner: Owner) -> QuoteOut:
    """Take the code off the cart (a no-op without one). Raises CartNotFound."""
    await _find(owner)
    await owner.model.get_pymongo_collection().update_one(
        owner.query, {"$set": {"discount_code": None}}
    )
    return await quote(owner=owner)
