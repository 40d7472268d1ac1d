"""Checkout's pricing step: the bought lines priced exactly as the cart's quote prices them
(app/cart/quote.py, the one pure function behind it), and the result written onto the order's
items and totals. The order keeps copies (rate per line, the method, the code), so later
edits of rates, methods or codes never change a placed order."""

from __future__ import annotations

from typing import Any

from beanie import PydanticObjectId

from app.cart import quote
from app.cart.quote import Priced, PricedLine
from app.catalog.models import Product
from app.orders.models import OrderDiscount, OrderItem, OrderShippingMethod, ShippingAddress
from app.orders.store import Session


def customer_key(*, user_id: PydanticObjectId | None, email: str) -> str:
    """Whose uses a per-customer limit counts: the account, or a guest's email address."""
    return f"user:{user_id}" if user_id is not None else f"email:{email.strip().lower()}"


async def price_items(
    items: list[OrderItem],
    products: list[Product],
    *,
    address: ShippingAddress,
    shipping_method_id: PydanticObjectId | None,
    code: str | None,
    customer: str,
    session: Session,
) -> Priced:
    """Price the order's items (strictly: see `quote.price_lines` for what it raises)."""
    return await quote.price_lines(
        [
            PricedLine(product=product, unit_price=item.unit_price, quantity=item.quantity)
            for item, product in zip(items, products, strict=True)
        ],
        country=address.country,
        region=address.region,
        shipping_method_id=shipping_method_id,
        code=code,
        customer=customer,
        strict=True,
        session=session,
    )


def priced_fields(items: list[OrderItem], priced: Priced, *, customer: str) -> dict[str, Any]:
    """Write each line's discount and tax onto `items`; the order's money fields."""
    breakdown = priced.breakdown
    for item, line in zip(items, breakdown.lines, strict=True):
        item.discount = line.discount
        item.tax = line.tax
        item.tax_class = line.tax_class
        item.tax_rate_ppm = line.tax_rate_ppm
        item.tax_rate_name = line.tax_rate_name
    method = priced.method
    discount = priced.discount
    return {
        "subtotal": breakdown.subtotal,
        "discount_total": breakdown.discount_total,
        "shipping_total": breakdown.shipping_total,
        "shipping_tax": breakdown.shipping_tax,
        "shipping_discount": breakdown.shipping_discount,
        "tax_total": breakdown.tax_total,
        "total": breakdown.total,
        "prices_include_tax": breakdown.prices_include_tax,
        "shipping_method": OrderShippingMethod(
            id=method.id,
            name=method.name,
            price=method.price,
            min_days=method.min_days,
            max_days=method.max_days,
        )
        if method is not None
        else None,
        "discount": OrderDiscount(
            id=discount.id,
            code=discount.code,
            type=discount.type,
            value=discount.value,
            customer=customer,
        )
        if discount is not None
        else None,
    }
