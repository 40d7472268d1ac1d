"""The stock fields of a product: their bounds, the default low-stock threshold and the
stock status derived from them.

They are stored on the product document (`stock`, `low_stock_threshold`, `low_stock`,
`low_stock_alerted_at`, `low_stock_alert_id`), so they are declared here with it, where the
catalog's list pages, product pages and the cart read them. Every *write* of them goes
through app/inventory/stock.py, which builds on this module (never the other way round).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

StockStatus = Literal["in_stock", "low_stock", "out_of_stock"]

# The stock fields an admin's product form carries; the catalog's own writes leave them to
# app/inventory/products.py.
STOCK_FIELDS = ("stock", "low_stock_threshold")

# The most units one product can hold: `stock + delta` then stays far inside int64.
MAX_STOCK = 1_000_000_000
# A product at or under its threshold is low on stock; products stored before the
# threshold existed have this one.
DEFAULT_LOW_STOCK_THRESHOLD = 5


def stock_status(stock: int, threshold: int) -> StockStatus:
    if stock <= 0:
        return "out_of_stock"
    if stock <= threshold:
        return "low_stock"
    return "in_stock"


_RANK: dict[StockStatus, int] = {"out_of_stock": 0, "low_stock": 1, "in_stock": 2}


def best_stock_status(statuses: Iterable[StockStatus]) -> StockStatus:
    """A product's status from its variants': the best one (out of stock with none)."""
    return max(statuses, key=_RANK.__getitem__, default="out_of_stock")
