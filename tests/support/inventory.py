"""Inventory helpers: who the `staff` fixture's alerts go to, and the product, its ledger and
the low-stock alerts read as they are stored."""

from __future__ import annotations

from app.catalog.models import Product
from app.email.models import OutboxEmail
from app.inventory.models import StockMovement

ALERTED = ["buyer@example.com", "ops@example.com"]


async def ledger(product) -> list[StockMovement]:
    """The product's movements, oldest first."""
    return await StockMovement.find({"product_id": product.id}).sort("at", "_id").to_list()


async def alerts() -> list[OutboxEmail]:
    return await OutboxEmail.find({"kind": "low_stock"}).sort("_id").to_list()


async def stored(product) -> Product:
    return await Product.get(product.id)
