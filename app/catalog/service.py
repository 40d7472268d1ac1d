"""The catalog's services, as other domains and the routes call them.

Split by use case (DESIGN.md, rule 12); this module only gathers their public functions:
- slugs.py       slugify, free slugs, inserting under one
- categories.py  the category tree: reads and the admin's writes
- listing.py     product lists: the catalog (filters, search, sorts) and the admin's list
- products.py    one product: its reads and the writes of its own fields
- ratings.py     the product's rating (written by reviews)
A product's stock fields are written by app/inventory/stock.py alone; creating a product with
its opening stock, and edits that change stock, are app/inventory/products.py.
"""

from __future__ import annotations

from app.catalog.categories import (
    category_refs,
    category_tree,
    create_category,
    delete_category,
    update_category,
)
from app.catalog.listing import LIST_PROJECTION, admin_list_products, list_products
from app.catalog.products import (
    archive_product,
    build_product,
    get_active_product,
    get_product,
    get_product_any_status,
    products_by_id,
    update_product,
)
from app.catalog.ratings import rating_version, set_rating
from app.catalog.slugs import slugify

__all__ = [
    "LIST_PROJECTION",
    "admin_list_products",
    "archive_product",
    "build_product",
    "category_refs",
    "category_tree",
    "create_category",
    "delete_category",
    "get_active_product",
    "get_product",
    "get_product_any_status",
    "list_products",
    "products_by_id",
    "rating_version",
    "set_rating",
    "slugify",
    "update_category",
    "update_product",
]
