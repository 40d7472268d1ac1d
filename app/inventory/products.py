"""An admin's product writes that carry stock: creating a product (with its opening stock)
and editing one (stock and threshold among the fields).

The catalog writes the product's own fields (app/catalog/products.py) and never calls the
inventory; the stock half is app/inventory/stock.py's. This module runs both in one
transaction, so a new product and its opening ledger row, or an edit and its stock movement,
commit together.
"""

from __future__ import annotations

from typing import Any

from beanie import PydanticObjectId

from app.catalog import products as catalog
from app.catalog.models import Product
from app.catalog.schemas import ProductIn, ProductOut
from app.catalog.slugs import insert_under_free_slug, slugify
from app.catalog.stock_fields import STOCK_FIELDS
from app.core import db
from app.inventory import stock


async def create_product(*, data: ProductIn, actor: str | None = None) -> ProductOut:
    """Create a product, its slug from the name (`-2`, `-3`... when taken), and its opening
    stock's ledger row, in one transaction (a slug taken concurrently re-runs it).

    Raises Invalid (422) for an unknown category or a currency the store does not sell in.
    """
    fields = catalog.new_product_fields(data)

    async def insert(slug: str, session: Any) -> Product:
        product = await catalog.insert_product(
            category=data.category, fields=fields, slug=slug, session=session
        )
        await stock.record_initial_stock(
            product_id=product.id, stock=product.stock, actor=actor, session=session
        )
        return product

    product = await insert_under_free_slug(Product, slugify(data.name, fallback="product"), insert)
    return await catalog.product_out(product)


async def update_product(
    *, product_id: PydanticObjectId, changes: dict[str, Any], actor: str | None = None
) -> ProductOut:
    """Apply a partial update (archived products too: `status` can bring one back). A new
    `stock` goes through the stock ledger (reason "admin edit", by `actor`); a new threshold
    re-derives the low-stock flag.

    Raises NotFound, Invalid (unknown category), Conflict `slug_taken`, Conflict when the
    product changed underneath us (revision check; retry).
    """
    own = {k: v for k, v in changes.items() if k not in STOCK_FIELDS}

    async def work(session: Any) -> Product:
        product = await catalog.edit_product(product_id=product_id, changes=own, session=session)
        after: Product | None = None
        if "low_stock_threshold" in changes:
            after = await stock.set_low_stock_threshold(
                product_id=product.id, threshold=changes["low_stock_threshold"], session=session
            )
        if "stock" in changes:
            change = await stock.set_stock(
                product_id=product.id,
                stock=changes["stock"],
                reason="admin edit",
                actor=actor,
                record_unchanged=False,
                session=session,
            )
            after = change.product if change is not None else after
        if after is not None:
            for key in ("stock", "low_stock_threshold", "low_stock", "updated_at"):
                setattr(product, key, getattr(after, key))
        return product

    async with catalog.edit_errors():
        product = await db.run_in_transaction(work)
    return await catalog.product_out(product)
