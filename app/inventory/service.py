"""The inventory's services, as other domains, the admin routes and the CLI call them.

Split by use case (DESIGN.md, rule 12); this module only gathers their public functions:
- stock.py     every write of a product's stock fields: orders' takes and returns, sets,
               thresholds, opening stock, the admin's adjustments; the ledger row and the
               low-stock alert claim go with each one
- alerts.py    which update claims a low-stock alert, and the email to the admins
- errors.py    InsufficientStock (409), the one refusal for missing stock, and its Shortage
- reads.py     the admin's reads: the stock ledger and the low-stock list
- products.py  an admin's product create and edit, the catalog's fields and the stock's
               in one transaction
- demo.py      seeding the demo shop with each product's opening stock
"""

from __future__ import annotations

from app.inventory.demo import seed_demo_catalog
from app.inventory.errors import InsufficientStock, Shortage
from app.inventory.products import (
    add_variant,
    create_product,
    delete_variant,
    update_product,
    update_variant,
)
from app.inventory.reads import list_low_stock, list_movements, movement_out, product_names
from app.inventory.stock import (
    StockChange,
    adjust_stock,
    available,
    backfill_low_stock_flags,
    migrate_variants,
    record_initial_stock,
    return_stock,
    set_low_stock_threshold,
    set_stock,
    shortages,
    take_stock,
)

__all__ = [
    "InsufficientStock",
    "Shortage",
    "StockChange",
    "add_variant",
    "adjust_stock",
    "available",
    "backfill_low_stock_flags",
    "create_product",
    "delete_variant",
    "list_low_stock",
    "list_movements",
    "migrate_variants",
    "movement_out",
    "product_names",
    "record_initial_stock",
    "return_stock",
    "seed_demo_catalog",
    "set_low_stock_threshold",
    "set_stock",
    "shortages",
    "take_stock",
    "update_product",
    "update_variant",
]
