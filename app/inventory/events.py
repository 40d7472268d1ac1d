"""The stock's outgoing webhook events (app/hooks), written with the stock update's
`session=`: `product.stock_low` when a variant of an active product falls from above its
threshold to at or under it, `product.out_of_stock` when it falls from above 0 to 0. Each
carries the product as the admin's low-stock list (`GET /admin/inventory/low-stock`) shows
it, plus `variant` (`id`, `sku`, `options`, `stock`, `low_stock_threshold`, `stock_status`):
the one that crossed. Unlike the admins' email (at most one per
LOW_STOCK_ALERT_INTERVAL_SECONDS), every crossing is an event: a receiver that counts them
must see them all."""

from __future__ import annotations

from typing import Any

from app.catalog.models import Product, Variant
from app.catalog.stock_fields import stock_status
from app.hooks import events
from app.inventory.schemas import LowStockItemOut


def payload(product: Product, variant: Variant) -> dict[str, Any]:
    data = LowStockItemOut(
        id=str(product.id),
        slug=product.slug,
        name=product.name,
        stock=product.stock,
        low_stock_threshold=product.low_stock_threshold,
        stock_status=stock_status(product.stock, product.low_stock_threshold),
        updated_at=product.updated_at,
    ).model_dump(mode="json")
    data["variant"] = {
        "id": variant.id,
        "sku": variant.sku,
        "options": variant.options,
        "stock": variant.stock,
        "low_stock_threshold": variant.low_stock_threshold,
        "stock_status": variant.stock_status,
    }
    return data


async def stock_moved(
    product: Product, variant: Variant, *, stock_before: int, session: Any = None
) -> None:
    """The events one stock movement of `variant` causes (both as they are after it)."""
    if product.status != "active":
        return
    threshold = variant.low_stock_threshold
    subject = f"product:{product.id}"
    if stock_before > threshold >= variant.stock:
        data = payload(product, variant)
        await events.emit("product.stock_low", data, subject=subject, session=session)
    if stock_before > 0 >= variant.stock:
        data = payload(product, variant)
        await events.emit("product.out_of_stock", data, subject=subject, session=session)
