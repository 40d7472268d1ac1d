"""The stock ledger: one movement per change of a product's stock."""

from __future__ import annotations

from datetime import datetime

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from app.core.clock import utcnow

# Reasons the system writes; an admin's adjustment carries the admin's own words.
SYSTEM_REASONS = ("sale", "cancel", "expiry", "refund", "checkout_compensation")

_NEWEST = [("at", DESCENDING), ("_id", DESCENDING)]


class StockMovement(Document):
    """`delta` units moved; `stock_after` is the product's stock right after this movement
    (read from the same atomic update, so exact under concurrency)."""

    product_id: PydanticObjectId
    # The variant it moved (None: rows written before variants, which moved the product's
    # one variant); `stock_after` is that variant's stock.
    variant_id: str | None = None
    sku: str | None = None
    delta: int
    stock_after: int
    reason: str
    actor: str | None = None  # "admin:<id>", "user:<id>", "customer", "system"
    order_id: PydanticObjectId | None = None
    at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "stock_movements"
        # `GET /admin/inventory/movements`: newest first, optionally one product or one
        # reason; a date range rides on the `at` key of whichever index serves the filter.
        # Product and reason together use the product index (one product's rows are few).
        indexes = [
            IndexModel(_NEWEST, name="newest"),
            IndexModel([("product_id", ASCENDING), *_NEWEST], name="product_newest"),
            IndexModel([("reason", ASCENDING), *_NEWEST], name="reason_newest"),
        ]
